"""The outbox: queued in the caller's transaction, claimed once, sent once, retried on 4xx, failed on 5xx."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from conftest import run_at_once
from outbox import services
from outbox.models import Heartbeat, OutgoingEmail
from outbox.tasks import send_outgoing_emails, sweep_outbox

Status = OutgoingEmail.Status


def queue_email(**kwargs) -> OutgoingEmail:
    defaults = {"kind": "system", "to": "ada@example.org", "subject": "Hi", "text": "Hello"}
    return services.email_enqueue(**{**defaults, **kwargs})


@pytest.mark.django_db
def test_an_email_exists_only_if_the_change_that_queued_it_commits():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_email()
        raise RuntimeError("the change failed")

    assert OutgoingEmail.objects.count() == 0


@pytest.mark.django_db
def test_subject_newlines_cannot_inject_headers():
    email = queue_email(subject="Hello\r\nBcc: victim@example.org")

    assert email.subject == "Hello Bcc: victim@example.org"


@pytest.mark.django_db
def test_claim_takes_due_rows_once_and_leaves_future_ones():
    due = queue_email()
    later = queue_email(send_after=timezone.now() + timedelta(hours=1))

    _, first = services.email_jobs.claim_due()
    _, second = services.email_jobs.claim_due()

    assert first == [due.pk]
    assert second == []
    due.refresh_from_db()
    assert due.status == Status.SENDING and due.lease_until is not None
    assert OutgoingEmail.objects.get(pk=later.pk).status == Status.QUEUED


@pytest.mark.django_db
def test_an_expired_lease_is_claimed_again():
    email = queue_email()
    services.email_jobs.claim_due()  # the worker that got it died

    with time_machine.travel(timezone.now() + services.email_jobs.lease() + timedelta(seconds=1)):
        _, ids = services.email_jobs.claim_due()

    assert ids == [email.pk]


@pytest.mark.django_db
def test_send_marks_sent_with_the_message_id(mailoutbox):
    email = queue_email(html="<p>Hello</p>", headers={"X-Test": "1"})
    token, ids = services.email_jobs.claim_due()

    sent = services.outbox_send(email_ids=ids, claim_token=token)

    email.refresh_from_db()
    assert sent == 1
    assert (email.status, email.attempts, email.lease_until) == (Status.SENT, 1, None)
    assert email.sent_at is not None
    [message] = mailoutbox
    assert message.extra_headers["Message-ID"] == email.message_id
    assert message.extra_headers["X-Test"] == "1"
    assert message.alternatives[0].content == "<p>Hello</p>"


@pytest.mark.django_db
def test_the_send_task_delivered_twice_sends_one_email(mailoutbox):
    queue_email()
    token, ids = services.email_jobs.claim_due()

    send_outgoing_emails(ids, token)
    send_outgoing_emails(ids, token)  # the broker redelivered the same message

    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_stale_claim_cannot_send_a_row_that_was_reclaimed(mailoutbox):
    queue_email()
    old_token, ids = services.email_jobs.claim_due()
    with time_machine.travel(timezone.now() + services.email_jobs.lease() + timedelta(seconds=1)):
        new_token, _ = services.email_jobs.claim_due()

    services.outbox_send(email_ids=ids, claim_token=new_token)
    services.outbox_send(email_ids=ids, claim_token=old_token)  # the first task finally runs

    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_row_whose_lease_ran_out_mid_batch_is_rechecked_and_skipped_once_reclaimed(mailoutbox, monkeypatch):
    first, second = queue_email(to="a@example.org"), queue_email(to="b@example.org")
    token, ids = services.email_jobs.claim_due()
    build = services.build_message
    later = time_machine.travel(timezone.now() + services.email_jobs.lease() + timedelta(seconds=1), tick=False)

    def slow_build(email, connection=None):
        if email.pk == first.pk:  # this send outlives the batch's lease, and a sweep claims both rows again
            later.start()
            assert services.email_jobs.claim_due()[1] == [first.pk, second.pk]
        return build(email, connection)

    monkeypatch.setattr(services, "build_message", slow_build)
    try:
        sent = services.outbox_send(email_ids=ids, claim_token=token)
    finally:
        later.stop()

    assert sent == 1 and [m.to for m in mailoutbox] == [["a@example.org"]]
    # the second row was re-checked before its send and left to its new claim; the first, whose send outlived the
    # lease, is not marked sent by the stale holder either (the documented duplicate window)
    assert OutgoingEmail.objects.filter(status=Status.SENDING).exclude(claim_token=token).count() == 2


@pytest.mark.django_db
def test_one_send_renews_the_lease_of_rows_it_reaches_late(mailoutbox, monkeypatch):
    emails = [queue_email(to=f"c{i}@example.org") for i in range(2)]
    token, ids = services.email_jobs.claim_due()
    build = services.build_message
    later = time_machine.travel(timezone.now() + services.email_jobs.lease() * 0.6, tick=False)

    def slow_build(email, connection=None):
        if email.pk == emails[0].pk:
            later.start()  # the first send took more than half the lease
        else:  # so the second row's claim was checked and its lease renewed before its send
            lease_until = OutgoingEmail.objects.get(pk=email.pk).lease_until
            assert lease_until >= timezone.now() + services.email_jobs.lease() * 0.9
        return build(email, connection)

    monkeypatch.setattr(services, "build_message", slow_build)
    try:
        sent = services.outbox_send(email_ids=ids, claim_token=token)
    finally:
        later.stop()

    assert sent == 2 and len(mailoutbox) == 2
    assert OutgoingEmail.objects.filter(status=Status.SENT, attempts=1).count() == 2


@pytest.mark.django_db
def test_a_cancelled_row_is_not_sent(mailoutbox):
    email = queue_email()
    assert services.outbox_cancel(email_id=email.pk)

    _, ids = services.email_jobs.claim_due()

    assert ids == []
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_claim_at_once_send_one_email(mailoutbox):
    emails = [queue_email(to=f"c{i}@example.org") for i in range(20)]
    token, ids = services.email_jobs.claim_due()

    run_at_once(lambda: services.outbox_send(email_ids=ids, claim_token=token))

    assert sorted(m.to[0] for m in mailoutbox) == sorted(e.to_email for e in emails)
    assert OutgoingEmail.objects.filter(status=Status.SENT).count() == 20


@pytest.mark.django_db
def test_sweep_task_claims_and_enqueues_sends_on_commit(django_capture_on_commit_callbacks, mailoutbox, settings):
    settings.OUTBOX_BATCH_SIZE = 2
    for i in range(3):
        queue_email(to=f"c{i}@example.org")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert sweep_outbox() == 3
    assert len(callbacks) == 2  # batches of 2 + 1, each enqueued only once the claim committed
    assert Heartbeat.objects.filter(name="worker").exists()


@pytest.mark.django_db
def test_smtp_451_then_250_is_retried_with_backoff_then_sent(smtp_sink):
    smtp_sink.responses = ["451 4.3.0 Try again later"]
    email = queue_email()

    token, ids = services.email_jobs.claim_due()
    services.outbox_send(email_ids=ids, claim_token=token)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.QUEUED, 1)
    assert "451" in email.last_error
    assert email.next_attempt_at >= timezone.now() + services.email_jobs.retry_delay(1) - timedelta(seconds=5)
    assert services.email_jobs.claim_due()[1] == []  # not due before the backoff

    with time_machine.travel(email.next_attempt_at + timedelta(seconds=1)):
        token, ids = services.email_jobs.claim_due()
        services.outbox_send(email_ids=ids, claim_token=token)

    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (Status.SENT, 2, "")
    assert len(smtp_sink.received) == 1
    assert email.message_id in smtp_sink.received[0].content.decode()


@pytest.mark.django_db
def test_smtp_550_fails_at_once_without_retry(smtp_sink):
    smtp_sink.responses = ["550 5.1.1 No such user"]
    email = queue_email()

    token, ids = services.email_jobs.claim_due()
    services.outbox_send(email_ids=ids, claim_token=token)

    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.FAILED, 1)
    assert "550" in email.last_error
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert services.email_jobs.claim_due()[1] == []
    assert smtp_sink.received == []


@pytest.mark.django_db
def test_a_failure_does_not_stop_the_rest_of_the_batch(smtp_sink):
    smtp_sink.responses = ["550 5.1.1 No such user"]
    bad, good = queue_email(to="bad@example.org"), queue_email(to="good@example.org")

    token, ids = services.email_jobs.claim_due()
    services.outbox_send(email_ids=ids, claim_token=token)

    assert OutgoingEmail.objects.get(pk=bad.pk).status == Status.FAILED
    assert OutgoingEmail.objects.get(pk=good.pk).status == Status.SENT


@pytest.mark.django_db
def test_connection_refused_is_temporary(settings):
    settings.OUTBOX_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    email = queue_email()

    token, ids = services.email_jobs.claim_due()
    services.outbox_send(email_ids=ids, claim_token=token)

    email.refresh_from_db()
    assert email.status == Status.QUEUED
    assert "Connection" in email.last_error or "refused" in email.last_error.lower()


@pytest.mark.django_db
def test_too_many_temporary_failures_end_in_failed(smtp_sink, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    smtp_sink.responses = ["451 busy", "451 busy"]
    email = queue_email()

    for hour in (1, 2):  # each time past the backoff, within the email's maximum age
        with time_machine.travel(timezone.now() + timedelta(hours=hour)):
            token, ids = services.email_jobs.claim_due()
            services.outbox_send(email_ids=ids, claim_token=token)

    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.FAILED, 2)


def test_backoff_grows_exponentially_and_is_capped(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 60, 600

    assert [services.email_jobs.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 480, 600]


@pytest.mark.django_db
def test_retry_puts_a_failed_row_back_in_the_queue():
    email = queue_email()
    OutgoingEmail.objects.filter(pk=email.pk).update(status=Status.FAILED, attempts=8, last_error="550")

    assert services.outbox_retry(email_id=email.pk)

    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (Status.QUEUED, 0, "")
    assert not services.outbox_retry(email_id=email.pk)  # only failed or cancelled rows


@pytest.mark.django_db
def test_djangos_own_mail_goes_through_the_outbox(settings):
    settings.EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"

    mail.send_mail("Reset your password", "Click here", "desk@example.com", ["ada@example.org", "bob@example.org"])

    rows = OutgoingEmail.objects.order_by("to_email")
    assert [(r.kind, r.to_email, r.subject, r.status) for r in rows] == [
        ("system", "ada@example.org", "Reset your password", "queued"),
        ("system", "bob@example.org", "Reset your password", "queued"),
    ]
