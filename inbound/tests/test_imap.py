"""IMAP polling against a real dovecot (inbound/tests/conftest.py): store first, UIDs not \\Seen, no duplicates."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import start_worker, stop_worker, wait_until
from inbound.imap import imap_mailbox_poll
from inbound.models import ImapMailbox, InboundEmail
from inbound.routing import inbound_route
from inbound.tasks import poll_imap_mailbox, poll_imap_mailboxes
from tickets.mailthread import reply_address
from tickets.models import Message, Ticket
from tickets.tests.factories import QueueFactory

from .mail import email_bytes


def _mailbox(queue, dovecot, *, password=None, folder="INBOX", **fields) -> ImapMailbox:
    mailbox = ImapMailbox(
        queue=queue,
        host=dovecot.host,
        port=dovecot.port,
        security=ImapMailbox.Security.NONE,
        username=dovecot.username,
        folder=folder,
        **fields,
    )
    mailbox.password_set(password or dovecot.password)
    mailbox.full_clean()
    mailbox.save()
    return mailbox


def _route_received() -> None:
    """What the routing task does (in these tests the store's on-commit task send never happens)."""
    for pk in InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED).values_list("pk", flat=True):
        inbound_route(email_id=pk)


@pytest.mark.django_db
def test_a_poll_stores_and_routes_new_mail_with_the_password_encrypted_at_rest(queue, dovecot):
    mailbox = _mailbox(queue, dovecot)
    assert dovecot.password not in ImapMailbox.objects.values_list("password_encrypted", flat=True).get()
    assert ImapMailbox.objects.get().password() == dovecot.password
    dovecot.append(email_bytes(to=queue.reply_from_email, subject="Printer on fire"))

    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "1 fetched, 1 new"
    _route_received()

    row = InboundEmail.objects.get()
    assert (row.channel, row.recipient, row.status) == ("imap", queue.reply_from_email, InboundEmail.Status.ROUTED)
    ticket = Ticket.objects.get()
    assert (ticket.queue, ticket.subject, ticket.customer.email) == (queue, "Printer on fire", "jo@customer.example")
    mailbox.refresh_from_db()
    assert (mailbox.last_uid, mailbox.last_error, mailbox.polling_until) == (1, "", None)
    assert mailbox.uidvalidity and mailbox.last_polled_at


@pytest.mark.django_db
def test_progress_is_the_uid_not_the_seen_flag(queue, dovecot):
    mailbox = _mailbox(queue, dovecot)
    read_by_a_person = dovecot.append(email_bytes(subject="Already read"), seen=True)
    dovecot.append(email_bytes(subject="Not read yet"))

    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "2 fetched, 2 new"

    assert set(InboundEmail.objects.values_list("subject", flat=True)) == {"Already read", "Not read yet"}
    assert dovecot.seen_uids() == {read_by_a_person}  # the poller marked nothing seen


@pytest.mark.django_db
def test_polling_again_fetches_only_what_is_new_and_never_duplicates(queue, dovecot):
    mailbox = _mailbox(queue, dovecot)
    dovecot.append(email_bytes(subject="One"))
    dovecot.append(email_bytes(subject="Two"))
    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "2 fetched, 2 new"

    # `3:*` names UID 2 (the last message) on the server: it is not fetched again
    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "0 fetched, 0 new"
    dovecot.append(email_bytes(subject="Three"))
    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "1 fetched, 1 new"

    assert sorted(InboundEmail.objects.values_list("subject", flat=True)) == ["One", "Three", "Two"]
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3


@pytest.mark.django_db
def test_a_new_uidvalidity_fetches_everything_again_and_the_store_keeps_one_of_each(queue, dovecot):
    mails = [email_bytes(subject=f"Mail {n}") for n in range(3)]
    with dovecot.client() as client:
        client.folder.create("Support")
    for raw in mails[:2]:
        dovecot.append(raw, folder="Support")
    mailbox = _mailbox(queue, dovecot, folder="Support")
    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "2 fetched, 2 new"
    first_validity = ImapMailbox.objects.get().uidvalidity

    # the folder is rebuilt (new UIDVALIDITY, UIDs from 1 again) with the same two mails and a new one
    with dovecot.client() as client:
        client.folder.delete("Support")
        client.folder.create("Support")
    for raw in mails:
        dovecot.append(raw, folder="Support")

    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "3 fetched, 1 new"
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != first_validity and mailbox.last_uid == 3
    assert sorted(InboundEmail.objects.values_list("subject", flat=True)) == ["Mail 0", "Mail 1", "Mail 2"]


@pytest.mark.django_db
def test_a_wrong_password_is_recorded_and_not_raised_and_other_mailboxes_are_polled(queue, dovecot, caplog):
    bad = _mailbox(queue, dovecot, password="not-the-password")
    other_queue = QueueFactory()
    good = _mailbox(other_queue, dovecot, folder="Support")
    with dovecot.client() as client:
        client.folder.create("Support")
    dovecot.append(email_bytes(), folder="Support")

    assert poll_imap_mailbox(bad.pk).startswith("failed: MailboxLoginError")
    assert poll_imap_mailbox(good.pk) == "1 fetched, 1 new"

    bad.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in bad.last_error and "not-the-password" not in bad.last_error
    assert bad.last_polled_at and bad.polling_until is None and bad.last_uid == 0
    assert InboundEmail.objects.get().queue == other_queue
    assert "not polled" in caplog.text


@pytest.mark.django_db
def test_one_poller_at_a_time_and_the_beat_skips_disabled_and_busy_mailboxes(queue, dovecot, monkeypatch):
    idle = _mailbox(queue, dovecot)
    busy = _mailbox(queue, dovecot, folder="Other", polling_until=timezone.now() + timedelta(minutes=1))
    _mailbox(queue, dovecot, folder="Off", enabled=False)
    dovecot.append(email_bytes())
    sent = []
    monkeypatch.setattr(poll_imap_mailbox, "delay", sent.append)

    assert poll_imap_mailboxes() == 1
    assert sent == [idle.pk]
    assert imap_mailbox_poll(mailbox_id=busy.pk) == "not polled: disabled, or another poller is at work"
    # a lease left by a poller that died expires
    ImapMailbox.objects.filter(pk=busy.pk).update(polling_until=timezone.now() - timedelta(seconds=1))
    assert imap_mailbox_poll(mailbox_id=busy.pk).startswith("failed: MailboxFolderSelectError")


@pytest.mark.django_db
def test_a_reply_to_the_tickets_reply_address_counts_as_its_recipient(queue, dovecot):
    mailbox = _mailbox(queue, dovecot)
    dovecot.append(email_bytes(to=queue.reply_from_email, subject="Printer on fire"))
    imap_mailbox_poll(mailbox_id=mailbox.pk)
    _route_received()
    ticket = Ticket.objects.get()

    dovecot.append(email_bytes(to=f"Support <{reply_address(ticket)}>", subject="More smoke"))
    imap_mailbox_poll(mailbox_id=mailbox.pk)
    _route_received()

    reply = InboundEmail.objects.get(subject="More smoke")
    assert reply.recipient == reply_address(ticket)
    assert (reply.status, reply.ticket) == (InboundEmail.Status.ROUTED, ticket)
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 2


# --- the admin --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_never_shows_the_password_and_keeps_it_when_left_empty(client, admin_user, queue, dovecot):
    mailbox = _mailbox(queue, dovecot)
    ciphertext = mailbox.password_encrypted
    client.force_login(admin_user)
    url = reverse("admin:inbound_imapmailbox_change", args=[mailbox.pk])

    page = client.get(url).content.decode()
    assert dovecot.password not in page and ciphertext not in page
    assert "OAuth2" in page and "Leave empty to keep the current password" in page

    form = {
        "queue": queue.pk,
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "none",
        "username": dovecot.username,
        "password": "",
        "folder": "INBOX",
        "enabled": "on",
    }
    assert client.post(url, form).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.password_encrypted == ciphertext
    assert client.post(url, {**form, "password": "a new one"}).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.password() == "a new one" and "a new one" not in mailbox.password_encrypted

    # plain text only to a server on this machine
    page = client.post(url, {**form, "host": "imap.example.com"}).content.decode()
    assert "only allowed for a server on this machine" in page

    # a new mailbox needs a password
    page = client.post(reverse("admin:inbound_imapmailbox_add"), {**form, "folder": "Other"}).content.decode()
    assert "A password is needed." in page
    assert ImapMailbox.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_poll_now_enqueues_the_poll_after_the_commit(
    client, admin_user, queue, dovecot, monkeypatch, django_capture_on_commit_callbacks
):
    mailbox = _mailbox(queue, dovecot)
    dovecot.append(email_bytes())
    client.force_login(admin_user)
    sent: list[int] = []
    monkeypatch.setattr(poll_imap_mailbox, "delay", sent.append)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("admin:inbound_imapmailbox_changelist"),
            {"action": "poll_now", "_selected_action": [mailbox.pk]},
            follow=True,
        )

    assert sent == [mailbox.pk] and callbacks
    assert "poll queued" in response.content.decode()
    assert not InboundEmail.objects.exists()  # nothing fetched inside the request


@pytest.mark.django_db
def test_a_message_over_the_size_limit_is_not_fetched_but_recorded_and_the_mailbox_moves_on(settings, queue, dovecot):
    settings.INBOUND_MAX_MESSAGE_BYTES = 20_000
    mailbox = _mailbox(queue, dovecot)
    dovecot.append(email_bytes(subject="Huge scan", body="x" * 30_000))
    dovecot.append(email_bytes(subject="Small one"))

    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "1 fetched, 1 new, 1 too large"
    _route_received()

    big = InboundEmail.objects.get(subject="Huge scan")
    assert big.status == InboundEmail.Status.IGNORED and big.size > 30_000
    assert big.outcome.startswith("Not fetched") and "(20000)" in big.outcome
    assert b"x" * 100 not in big.raw_bytes()  # only its headers were read
    assert InboundEmail.objects.get(subject="Small one").status == InboundEmail.Status.ROUTED
    assert Ticket.objects.count() == 1
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2
    assert imap_mailbox_poll(mailbox_id=mailbox.pk) == "0 fetched, 0 new"
    assert InboundEmail.objects.count() == 2


# --- a real worker killed between the store and the UID bookkeeping (Postgres + Redis) ----------------------------


@pytest.mark.integration
def test_a_worker_killed_after_the_store_and_before_the_uid_leaves_exactly_one_email(celery_queue, dovecot):
    queue = QueueFactory()
    mailbox = _mailbox(queue, dovecot)
    dovecot.append(email_bytes(to=queue.reply_from_email, subject="Printer on fire"))

    # given a worker that dies right after the store committed, before the UID is recorded
    crashing = start_worker(queue=celery_queue, pool="solo", module="inbound.tests.imap_crashing_worker")
    try:
        poll_imap_mailbox.delay(mailbox.pk)
        wait_until(lambda: crashing.process.poll() is not None, timeout=30, what="the worker to die")
    finally:
        stop_worker(crashing)
    assert crashing.process.returncode == 9, crashing.output()
    assert InboundEmail.objects.count() == 1
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 0 and mailbox.polling_until is not None  # its lease holds until it expires

    # when a live worker polls once the lease has expired (and routes the stored email)
    worker = start_worker(queue=celery_queue)
    try:
        assert imap_mailbox_poll(mailbox_id=mailbox.pk).startswith("not polled")
        ImapMailbox.objects.filter(pk=mailbox.pk).update(polling_until=timezone.now() - timedelta(seconds=1))
        poll_imap_mailbox.delay(mailbox.pk)
        wait_until(lambda: ImapMailbox.objects.get(pk=mailbox.pk).last_uid == 1, timeout=30, what="the poll")
        routed = InboundEmail.objects.filter(status=InboundEmail.Status.ROUTED)
        wait_until(routed.exists, timeout=30, what="the routing")
    finally:
        stop_worker(worker)

    # then the message is fetched again, and the store keeps the one it has: one email, one ticket, one message
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(ticket__queue=queue).count() == 1
    assert "1 fetched, 0 new" in worker.output()
