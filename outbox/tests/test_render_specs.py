"""Emails with credentials in them: render specs rendered at each send, Django's own mail hidden and erased."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from common.models import AccessToken
from common.tokens import token_resolve
from outbox.models import OutgoingEmail
from outbox.services import outbox_cancel, outbox_retry
from outbox.tests.sending import outbox_deliver
from tickets import services as tickets
from tickets.models import CONVERSATION_LINK_PURPOSE, Message

pytestmark = pytest.mark.django_db
Status = OutgoingEmail.Status


@pytest.fixture
def reply(queue, agent, customer) -> Message:
    """An agent's public reply, whose notification is queued as a render spec."""
    ticket = tickets.ticket_create(queue=queue, customer=customer, subject="Router", body="Down", by=None)
    return tickets.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Reboot it", by=agent)


@pytest.fixture
def django_mail(settings):
    """Django's own mail (send_mail) through the outbox, as in production (pytest-django swaps in locmem)."""
    settings.EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"
    mail.send_mail("Reset", "Your link: https://desk.example.org/accounts/reset/MQ/secret/", None, ["ada@example.org"])
    return OutgoingEmail.objects.get(kind="system")


def test_a_retry_renders_again_with_a_fresh_link_under_the_same_message_id(smtp_sink, reply):
    # given the SMTP server refuses the first attempt for now
    smtp_sink.responses = ["451 4.3.0 Try again later"]
    email = OutgoingEmail.objects.get()

    # when the outbox sends it, and again after the backoff
    outbox_deliver()
    email.refresh_from_db()
    assert (email.status, email.body_text, email.body_html) == (Status.QUEUED, "", "")
    outbox_deliver(at=email.next_attempt_at + timedelta(seconds=1))

    # then the email that arrived has the row's Message-ID and a link of its own, minted for the second attempt
    [envelope] = smtp_sink.received
    content = envelope.content.decode()
    assert email.message_id in content
    token = re.search(r"/support/c/([^/\s]+)/", content).group(1)
    assert token_resolve(raw=token, purpose=CONVERSATION_LINK_PURPOSE) == reply.ticket_id
    assert AccessToken.objects.count() == 2  # one per attempt; the first one's link was never delivered
    email.refresh_from_db()
    assert (email.status, email.subject, email.body_text) == (Status.SENT, f"[{reply.ticket.reference}] Router", "")


def test_an_email_whose_object_is_gone_is_cancelled_not_sent(reply, mailoutbox):
    email = OutgoingEmail.objects.get()
    Message.objects.filter(pk=reply.pk).delete()

    assert outbox_deliver() == 0

    email.refresh_from_db()
    assert email.status == Status.CANCELLED and email.last_error.startswith("Not sent: ")
    assert mailoutbox == [] and not AccessToken.objects.exists()


def test_djangos_own_mail_is_sent_as_queued_then_its_body_is_erased(django_mail, mailoutbox):
    assert django_mail.secret_body and "secret" in django_mail.body_text

    outbox_deliver()

    [message] = mailoutbox
    assert "/accounts/reset/MQ/secret/" in message.body
    django_mail.refresh_from_db()
    assert (django_mail.status, django_mail.subject, django_mail.body_text) == (Status.SENT, "Reset", "")
    assert not outbox_retry(email_id=django_mail.pk)


def test_djangos_own_mail_that_failed_or_was_cancelled_is_erased(smtp_sink, django_mail, settings):
    settings.EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"
    mail.send_mail("Other", "Your link: https://desk.example.org/x/secret/", None, ["bob@example.org"])
    other = OutgoingEmail.objects.exclude(pk=django_mail.pk).get()
    smtp_sink.responses = ["550 5.1.1 No such user"]

    assert outbox_cancel(email_id=other.pk)
    outbox_deliver()

    for row in OutgoingEmail.objects.all():
        assert (row.status, row.body_text) in {(Status.FAILED, ""), (Status.CANCELLED, "")}
        assert not outbox_retry(email_id=row.pk)


def test_the_admin_shows_what_a_spec_row_is_and_never_a_secret_body(client, admin_user, reply, django_mail):
    client.force_login(admin_user)
    spec_row = OutgoingEmail.objects.get(kind="reply_notification")

    spec_page = client.get(reverse("admin:outbox_outgoingemail_change", args=[spec_row.pk])).text
    secret_page = client.get(reverse("admin:outbox_outgoingemail_change", args=[django_mail.pk])).text
    listing = client.get(reverse("admin:outbox_outgoingemail_changelist")).text

    assert "Reply notification" in spec_page and spec_row.to_email in spec_page
    assert f"message #{reply.pk}" in spec_page and "rendered when it is sent" in spec_page
    assert "secret" not in secret_page and "Hidden" in secret_page
    assert "secret" not in listing and "(rendered when sent)" in listing
