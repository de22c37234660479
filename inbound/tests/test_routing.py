"""The rules of inbound/routing.py's docstring, one at a time: trust, reopening, survey replies, automatic emails,
acknowledgements, threading headers of our replies, bounces, and the store's idempotency, failures and retries."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from django.utils import timezone

from inbound.models import InboundEmail
from inbound.routing import inbound_retry, inbound_route
from inbound.store import inbound_store
from outbox.models import OutgoingEmail, Suppression
from outbox.services import build_message
from outbox.tests.sending import outbox_deliver
from surveys.models import SurveyInvitation
from surveys.services.sending import invitation_send
from tickets.mailthread import reply_address
from tickets.models import CloseReason, Message, Status, Ticket, TicketMailRef
from tickets.services import message_add, ticket_cc_add, ticket_close

from .mail import email_bytes

pytestmark = pytest.mark.django_db

JO = "jo@customer.example"
Row = InboundEmail.Status


def ours(ticket: Ticket, purpose: str = "reply") -> str:
    return ticket.mail_refs.filter(purpose=purpose).latest("created_at").message_id


def deliver(queue, raw: bytes, *, recipient: str = "", envelope_sender: str = "") -> InboundEmail:
    row, _ = inbound_store(
        raw=raw,
        queue=queue,
        channel="smtp",
        recipient=recipient or queue.reply_from_email,
        envelope_sender=envelope_sender,
    )
    inbound_route(email_id=row.pk)
    row.refresh_from_db()
    return row


def reply(
    ticket: Ticket,
    *,
    sender: str = f"Jo Customer <{JO}>",
    body: str = "Still smoking.",
    message_id: str | None = None,
    **headers: str,
) -> bytes:
    subject = f"Re: [{ticket.reference}] Printer on fire"
    return email_bytes(sender=sender, subject=subject, body=body, message_id=message_id, headers=headers)


# --- trust ---------------------------------------------------------------------------------------------------------


def test_a_reply_naming_our_message_id_from_the_customer_is_added(queue, ticket):
    row = deliver(queue, reply(ticket, **{"In-Reply-To": ours(ticket)}))
    assert (row.status, row.ticket_id) == (Row.ROUTED, ticket.pk)
    assert row.ticket_message.body == "Still smoking." and row.ticket_message.author_customer.email == JO


def test_a_reply_naming_our_message_id_from_another_address_is_held(queue, ticket):
    row = deliver(queue, reply(ticket, sender="Jo <jo.private@elsewhere.example>", **{"References": ours(ticket)}))
    assert (row.status, row.ticket_id, row.ticket_message) == (Row.HELD, ticket.pk, None)
    assert ticket.messages.count() == 2


def test_the_reply_address_as_envelope_recipient_is_enough(queue, ticket):
    row = deliver(queue, reply(ticket), recipient=reply_address(ticket))
    assert (row.status, row.ticket_id) == (Row.ROUTED, ticket.pk)


def test_a_reply_address_with_a_wrong_mac_starts_a_new_ticket(queue, ticket):
    forged = reply_address(ticket).replace("+", "+9").split("@")[0]  # another ticket id, the MAC of this one
    local, mac = forged.rsplit(".", 1)
    row = deliver(
        queue,
        email_bytes(subject="Hello", body="Me again."),
        recipient=f"{local}.{'a' * len(mac)}@support.example.com",
    )
    assert row.status == Row.ROUTED and row.ticket_id != ticket.pk
    assert row.ticket.follows is None and Ticket.objects.count() == 2


def test_an_address_an_agent_copied_is_added_as_itself(queue, ticket, agent):
    ticket_cc_add(ticket_id=ticket.pk, email="Boss@Customer.example", by=agent)
    row = deliver(queue, reply(ticket, sender="The Boss <boss@customer.example>", **{"In-Reply-To": ours(ticket)}))
    assert row.status == Row.ROUTED
    assert row.ticket_message.author_customer.email == "boss@customer.example"
    assert row.ticket.customer.email == JO


def dmarc(authserv_id: str) -> str:
    return (
        f"{authserv_id}; spf=pass smtp.mailfrom=customer.example; dkim=pass header.d=customer.example; "
        "dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=customer.example"
    )


def test_a_subject_tag_with_dmarc_pass_from_a_trusted_host_is_added(settings, queue, ticket):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.support.example.com"]
    row = deliver(queue, reply(ticket, **{"Authentication-Results": dmarc("mx.support.example.com")}))
    assert (row.status, row.ticket_id) == (Row.ROUTED, ticket.pk)
    assert row.ticket_message is not None


def test_a_subject_tag_with_dmarc_pass_from_an_untrusted_host_is_held(settings, queue, ticket):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.support.example.com"]
    row = deliver(queue, reply(ticket, **{"Authentication-Results": dmarc("mx.evil.example")}))
    assert (row.status, row.ticket_id, row.ticket_message) == (Row.HELD, ticket.pk, None)


# --- reopening, survey replies ---------------------------------------------------------------------------------------


def test_a_reply_within_the_reopen_window_reopens_and_cancels_the_unsent_survey(queue, ticket, agent):
    ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation.status == SurveyInvitation.Status.SCHEDULED
    with time_machine.travel(timezone.now() + timedelta(days=queue.reopen_window_days - 1)):
        row = deliver(queue, reply(ticket, **{"In-Reply-To": ours(ticket)}))
    ticket.refresh_from_db()
    invitation.refresh_from_db()
    assert (row.status, row.ticket_id) == (Row.ROUTED, ticket.pk)
    assert ticket.status == Status.OPEN
    assert invitation.status == SurveyInvitation.Status.CANCELLED


def test_a_reply_after_the_reopen_window_starts_a_ticket_that_follows_the_old_one(queue, ticket, agent):
    ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    with time_machine.travel(timezone.now() + timedelta(days=queue.reopen_window_days + 1)):
        row = deliver(queue, reply(ticket, **{"In-Reply-To": ours(ticket)}))
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert row.status == Row.ROUTED and row.ticket.follows_id == ticket.pk and row.ticket.customer.email == JO


def test_a_reply_to_the_survey_email_is_kept_and_the_ticket_stays_closed(queue, ticket, agent):
    ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation_send(invitation_id=invitation.pk, now=invitation.send_after)
    survey_email = ours(ticket, purpose="survey")
    row = deliver(queue, reply(ticket, body="You were great!", **{"In-Reply-To": survey_email}))
    ticket.refresh_from_db()
    assert (row.status, row.ticket_id) == (Row.ROUTED, ticket.pk)
    assert row.ticket_message.reply_to_purpose == "survey" and row.ticket_message.body == "You were great!"
    assert ticket.status == Status.CLOSED


# --- automatic emails, our own, acknowledgements ----------------------------------------------------------------------


def test_our_own_email_coming_back_is_ignored(queue, ticket):
    email = OutgoingEmail.objects.get(kind="reply_notification")
    raw = build_message(email).message().as_bytes()
    row = deliver(queue, raw)
    assert row.status == Row.IGNORED and "Our own email" in row.outcome
    assert ticket.messages.count() == 2


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "bulk"}, {"List-Id": "<l.example>"}],
)
def test_automatic_emails_never_reopen_a_closed_ticket_nor_get_an_acknowledgement(queue, ticket, agent, headers):
    ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    row = deliver(queue, reply(ticket, **{"In-Reply-To": ours(ticket)}, **headers))
    new = deliver(queue, email_bytes(sender="robot@elsewhere.example", subject="I am away", headers=headers))
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.messages.count() == 2
    assert row.status == new.status == Row.IGNORED
    assert Ticket.objects.count() == 1
    assert not OutgoingEmail.objects.filter(kind="confirmation").exists()


def test_acknowledgements_are_auto_replied_and_limited_per_sender_per_day(settings, queue):
    settings.INBOUND_ACKS_PER_SENDER_PER_DAY = 2
    for number in range(3):
        row = deliver(queue, email_bytes(subject=f"Request {number}", body=f"Please help ({number})."))
        assert row.status == Row.ROUTED
    deliver(queue, email_bytes(sender="pat@other.example", subject="Mine", body="Me too."))
    acks = OutgoingEmail.objects.filter(kind="confirmation")
    assert acks.filter(to_email=JO).count() == 2 and acks.filter(to_email="pat@other.example").count() == 1
    assert Ticket.objects.count() == 4
    message = build_message(acks.filter(to_email=JO).first()).message()
    assert message["Auto-Submitted"] == "auto-replied"
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        deliver(queue, email_bytes(subject="Next day", body="Hello again."))
    assert acks.filter(to_email=JO).count() == 3


def test_our_reply_notification_threads_to_the_customers_email(queue, agent):
    row = deliver(queue, email_bytes(message_id="<first.1@customer.example>"))
    ticket = row.ticket
    message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="On it.", by=agent)
    email = OutgoingEmail.objects.get(kind="reply_notification")
    sent = message_from_bytes(build_message(email).message().as_bytes(), policy=policy.default)
    assert sent["Message-ID"] == email.message_id
    assert TicketMailRef.objects.get(message_id=email.message_id).ticket_id == ticket.pk
    assert sent["In-Reply-To"] == "<first.1@customer.example>"
    assert "<first.1@customer.example>" in sent["References"].split()
    assert sent["Reply-To"] == reply_address(ticket)


# --- bounces -------------------------------------------------------------------------------------------------------


def dsn(*, cites: str, action: str = "failed", status: str = "5.1.1", recipient: str = JO) -> bytes:
    """A Postfix-style delivery status notification about the email `cites` (a Message-ID)."""
    return (
        "From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)\r\n"
        "To: queue-0@support.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn.{status}.{action}.{abs(hash(cites))}@mx.customer.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@support.example.com\r\n"
        f"To: {recipient}\r\nMessage-ID: {cites}\r\n\r\n--b--\r\n"
    ).encode()


def test_a_failed_dsn_suppresses_the_address_and_the_send_step_cancels_mail_to_it(queue, ticket, agent):
    row = deliver(queue, dsn(cites=ours(ticket)), envelope_sender="")
    assert row.status == Row.IGNORED and "added to suppressions" in row.outcome
    assert Suppression.objects.get().email == JO
    OutgoingEmail.objects.update(status=OutgoingEmail.Status.SENT)  # the bounced reply went out before
    message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Are you there?", by=agent)
    queued = OutgoingEmail.objects.get(status=OutgoingEmail.Status.QUEUED)
    assert outbox_deliver() == 0
    queued.refresh_from_db()
    assert queued.status == OutgoingEmail.Status.CANCELLED and "suppression" in queued.last_error


@pytest.mark.parametrize(
    ("action", "status"), [("delayed", "4.4.7"), ("failed", "4.2.2"), ("delivered", "2.0.0"), ("relayed", "2.0.0")]
)
def test_a_dsn_that_is_not_a_permanent_failure_is_not_acted_on(queue, ticket, action, status):
    row = deliver(queue, dsn(cites=ours(ticket), action=action, status=status))
    assert row.status == Row.IGNORED and f"{action} {status}" in row.outcome
    assert not Suppression.objects.exists()


def test_a_dsn_citing_no_email_of_ours_is_not_acted_on(queue, ticket):
    row = deliver(queue, dsn(cites="<someone.elses@mail.example>"))
    assert row.status == Row.IGNORED and "no email of ours" in row.outcome
    assert not Suppression.objects.exists()
    assert ticket.messages.count() == 2 and Ticket.objects.count() == 1


# --- store: redelivery, forged copies, failures, retries, the sweep ---------------------------------------------------


def test_a_redelivery_is_one_row_and_a_forged_copy_is_a_second(queue, ticket):
    raw = reply(ticket, message_id="<real.1@customer.example>", **{"In-Reply-To": ours(ticket)})
    first, created = inbound_store(raw=raw, queue=queue, channel="smtp")
    again, created_again = inbound_store(raw=raw, queue=queue, channel="imap")
    assert created and not created_again and again.pk == first.pk
    forged = reply(
        ticket, sender="Mallory <mallory@evil.example>", message_id="<real.1@customer.example>", body="Send money."
    )
    copy, copy_created = inbound_store(raw=forged, queue=queue, channel="smtp")
    assert copy_created and copy.pk != first.pk
    assert InboundEmail.objects.filter(message_id="<real.1@customer.example>").count() == 2
    inbound_route(email_id=first.pk)
    inbound_route(email_id=copy.pk)
    first.refresh_from_db()
    copy.refresh_from_db()
    assert (first.status, first.ticket_id) == (Row.ROUTED, ticket.pk)
    assert (copy.status, copy.ticket_id, copy.ticket_message) == (Row.HELD, ticket.pk, None)  # subject tag only


def test_a_routing_failure_is_recorded_and_retried(queue, ticket, monkeypatch):
    import inbound.routing

    def broken(row, parsed):
        raise RuntimeError("database hiccup")

    real_route = inbound.routing.route
    monkeypatch.setattr(inbound.routing, "route", broken)
    row = deliver(queue, reply(ticket, **{"In-Reply-To": ours(ticket)}))
    assert (row.status, row.outcome, row.error) == (Row.FAILED, "Could not be routed", "RuntimeError: database hiccup")
    assert row.attempts == 1 and ticket.messages.count() == 2
    assert not inbound_retry(email_id=ticket.pk + 1000)  # no such failed row
    monkeypatch.setattr(inbound.routing, "route", real_route)
    assert inbound_retry(email_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.error, row.attempts) == (Row.ROUTED, "", 2)
    assert ticket.messages.count() == 3
    assert not inbound_retry(email_id=row.pk)  # routed: nothing to retry


def test_an_unreadable_email_fails_with_the_reason(queue):
    row = deliver(queue, b"\x00\x01\x02 not a message")
    assert (row.status, row.outcome) == (Row.FAILED, "Could not be read") and row.error


def test_mime_nested_past_the_recursion_limit_is_stored_redacted_and_fails_to_parse(settings, queue):
    settings.SITE_URL = "https://help.example.com"
    token = "B" * 43
    depth = 1200
    parts = [
        f'--b{level - 1}\r\nContent-Type: multipart/mixed; boundary="b{level}"\r\n\r\n' for level in range(1, depth)
    ]
    raw = (
        "From: a@b.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
        + "".join(parts)
        + f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nSee https://help.example.com/surveys/s/{token}/\r\n"
        + "".join(f"--b{level}--\r\n" for level in range(depth - 1, -1, -1))
    ).encode()
    row = deliver(queue, raw)
    assert (row.status, row.outcome) == (Row.FAILED, "Could not be read") and "recursion" in row.error
    assert token.encode() not in row.raw_bytes() and b"[link removed]" in row.raw_bytes()


def test_the_sweep_sends_the_routing_task_again_for_rows_left_received(queue, monkeypatch):
    import inbound.store
    from inbound.tasks import sweep_inbound

    sent: list[tuple[str, list[int]]] = []

    class App:
        def send_task(self, name, args):
            sent.append((name, args))

    monkeypatch.setattr(inbound.store, "current_app", App())
    with time_machine.travel(timezone.now() - timedelta(minutes=5)):
        stuck, _ = inbound_store(raw=email_bytes(subject="Stuck"), queue=queue, channel="smtp")
        routed, _ = inbound_store(raw=email_bytes(subject="Routed"), queue=queue, channel="smtp")
    inbound_route(email_id=routed.pk)
    inbound_store(raw=email_bytes(subject="Just now"), queue=queue, channel="smtp")
    assert sweep_inbound() == 1
    assert sent == [("inbound.tasks.route_inbound_email", [stuck.pk])]


def test_links_redact_leaves_the_bytes_alone_when_no_link_of_ours_is_quoted(settings):
    from inbound.store import links_redact

    settings.SITE_URL = "https://help.example.com"
    plain = email_bytes(body="Nothing to see at https://help.example.com/about/ or https://other.example/" + "x" * 43)
    assert links_redact(plain) is plain
    base64_text = (
        b"From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8sIHNlZSBodHRwczovL2hlbHAuZXhhbXBsZS5jb20vYWJvdXQv\r\n"
    )
    assert links_redact(base64_text) is base64_text
    token = "A" * 43
    quoted = email_bytes(body=f"> https://help.example.com/surveys/s/{token}/")
    redacted = links_redact(quoted)
    assert token.encode() not in redacted
    assert "[link removed]" in message_from_bytes(redacted, policy=policy.default).get_content()
