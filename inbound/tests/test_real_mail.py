"""Gaps found when real mail was fed to email in (issue 17, section 4): redeliveries with other bytes, bounces citing
our Message-ID for another address, Outlook's X-Auto-Response-Suppress, agents' forwards, links in text
attachments."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from inbound.models import InboundEmail
from inbound.routing import inbound_route
from inbound.store import inbound_store
from outbox.models import OutgoingEmail, Suppression
from tickets.email_kinds import TicketEmail
from tickets.models import Attachment, Ticket, TicketEvent

from .mail import email_bytes
from .test_routing import JO, deliver, dsn, ours

pytestmark = pytest.mark.django_db
Row = InboundEmail.Status


def store_and_route(queue, raw: bytes) -> InboundEmail:
    row, created = inbound_store(raw=raw, queue=queue, channel="smtp", recipient=queue.reply_from_email)
    assert created
    inbound_route(email_id=row.pk)
    row.refresh_from_db()
    return row


# --- redeliveries with other bytes ----------------------------------------------------------------------------------


def test_the_same_message_id_from_the_same_sender_with_other_bytes_is_a_redelivery_of_the_first(queue):
    raw = email_bytes(sender="Jo Customer <Jo@Customer.example>", message_id="<twice.1@customer.example>")
    first = store_and_route(queue, raw)
    again = store_and_route(queue, b"Received: from backup-mx.customer.example\r\n" + raw.replace(b"Jo@C", b"jo@c"))
    assert first.status == Row.ROUTED and Ticket.objects.count() == 1
    assert again.status == Row.REDELIVERY and again.redelivery_of == first
    assert again.ticket is None and f"#{first.pk}" in again.outcome
    assert OutgoingEmail.objects.filter(kind=TicketEmail.CONFIRMATION).count() == 1


def test_the_same_message_id_from_another_sender_is_held(queue):
    first = store_and_route(queue, email_bytes(message_id="<twice.2@customer.example>"))
    forged = store_and_route(
        queue, email_bytes(sender="mallory@evil.example", message_id="<twice.2@customer.example>", body="Pay me.")
    )
    assert forged.status == Row.HELD and forged.redelivery_of is None
    assert forged.ticket == first.ticket and forged.ticket_message is None
    assert Ticket.objects.count() == 1 and first.ticket.messages.count() == 1


def test_mail_without_a_message_id_is_never_a_redelivery(queue):
    bare = email_bytes().replace(b"Message-ID:", b"X-Old-Message-ID:")
    first = store_and_route(queue, bare)
    second = store_and_route(queue, b"Received: from backup-mx.customer.example\r\n" + bare)
    assert first.message_id == second.message_id == ""
    assert first.status == second.status == Row.ROUTED and Ticket.objects.count() == 2


# --- bounces --------------------------------------------------------------------------------------------------------


def test_a_dsn_naming_another_address_than_the_cited_emails_recipient_suppresses_nothing(queue, ticket):
    row = deliver(queue, dsn(cites=ours(ticket), recipient="victim@other.example"))
    assert row.status == Row.IGNORED and "victim@other.example" in row.outcome and "not" in row.outcome
    assert not Suppression.objects.exists()


def test_a_dsn_naming_the_cited_emails_recipient_in_another_case_suppresses_it(queue, ticket):
    row = deliver(queue, dsn(cites=ours(ticket), recipient=JO.upper()))
    assert "added to suppressions" in row.outcome and Suppression.objects.count() == 1


# --- automatic mail and forwards ------------------------------------------------------------------------------------


def test_x_auto_response_suppress_alone_makes_a_ticket_without_an_acknowledgement(queue):
    row = store_and_route(queue, email_bytes(headers={"X-Auto-Response-Suppress": "All"}))
    assert row.status == Row.ROUTED and row.ticket is not None
    assert not OutgoingEmail.objects.filter(kind=TicketEmail.CONFIRMATION).exists()


def forward(agent, *, authentication_results: str | None = None) -> bytes:
    body = (
        "FYI, see below.\n\n---------- Forwarded message ---------\n"
        "From: Pat Customer <pat@customer.example>\nDate: Mon, 1 Jun 2026 10:00:00 +0000\n"
        "Subject: Broken\nTo: agent\n\nMy order never came.\n"
    )
    headers = {"Authentication-Results": authentication_results} if authentication_results else {}
    return email_bytes(sender=agent.email, subject="Fwd: Broken", body=body, headers=headers)


def test_an_agents_forward_with_dmarc_pass_from_a_trusted_host_is_the_original_senders_ticket(settings, queue, agent):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.support.example.com"]
    domain = agent.email.rpartition("@")[2]
    results = f"mx.support.example.com; spf=pass; dmarc=pass (p=reject) header.from={domain}"
    row = store_and_route(queue, forward(agent, authentication_results=results))
    assert row.status == Row.ROUTED and row.ticket.customer.email == "pat@customer.example"


@pytest.mark.parametrize("authserv_id", [None, "mx.attacker.example"])
def test_an_agents_forward_not_proven_is_held(settings, queue, agent, authserv_id):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.support.example.com"]
    domain = agent.email.rpartition("@")[2]
    results = f"{authserv_id}; dmarc=pass header.from={domain}" if authserv_id else None
    row = store_and_route(queue, forward(agent, authentication_results=results))
    assert row.status == Row.HELD and "forward" in row.outcome
    assert not Ticket.objects.exists()


# --- links in text attachments --------------------------------------------------------------------------------------


def test_our_links_in_a_text_attachment_are_redacted_like_the_body(settings, queue):
    settings.SITE_URL = "https://help.example.com"
    link = "https://help.example.com/survey/" + "a" * 40 + "/"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = JO, queue.reply_from_email, "See the attached notes"
    message["Message-ID"] = "<notes.1@customer.example>"
    message.set_content("Notes attached.")
    message.add_attachment(f"my link: {link}\n", subtype="plain", filename="notes.txt")
    row = store_and_route(queue, message.as_bytes())
    assert link.encode() not in row.raw_bytes()
    attachment = Attachment.objects.get(message__ticket=row.ticket)
    assert attachment.filename == "notes.txt"
    content = attachment.file.read().decode()
    assert link not in content and "[link removed]" in content


# --- the customer's CCs ---------------------------------------------------------------------------------------------


def test_the_addresses_a_customers_email_copies_are_kept_on_the_ticket(queue, agent):
    raw = email_bytes(
        to=f"Support <{queue.reply_from_email}>, Team <team@customer.example>",  # To: an alias may be there
        headers={"Cc": f"Boss <Boss@customer.example>, {JO}, {queue.reply_from_email.upper()}, pat@customer.example"},
    )
    row = store_and_route(queue, raw)
    ticket = row.ticket
    assert sorted(ticket.ccs.values_list("email", flat=True)) == ["Boss@customer.example", "pat@customer.example"]
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.CC_ADDED, actor=None).count() == 2

    # a reply from a CC copying someone else adds nobody: only the customer's own emails copy addresses
    cc_reply = email_bytes(
        sender="pat@customer.example",
        subject=f"Re: [{ticket.reference}] Printer on fire",
        headers={"In-Reply-To": row.ticket.messages.get().email_message_id, "Cc": "stranger@else.example"},
    )
    store_and_route(queue, cc_reply)
    assert ticket.ccs.count() == 2
