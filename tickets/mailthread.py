"""Email threading of a ticket: the per-ticket reply address, the Message-IDs of the emails we sent about it, and the
threading headers of the next one.

- Reply address: `<local>+<ticket id>.<mac>@<domain>` of the queue's address, the MAC an HMAC-SHA256 of the ticket id
  with INBOUND_REPLY_ADDRESS_KEY (a key of its own), 16 lowercase base32 characters (80 bits). Only we can make one,
  so an email to it is about that ticket. A queue address too long for it (local part over 64 octets) gets none.
- Every email we send about a ticket records its Message-ID (random) with its purpose (TicketMailRef): a reply whose
  In-Reply-To or References names one comes from someone who received that email.
- Outgoing replies carry In-Reply-To and References (the customer's emails and ours on the ticket), so the
  customer's mail client threads them and their reply comes back with references we know.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from django.conf import settings

from outbox.models import OutgoingEmail

from .models import Message, Ticket, TicketMailRef

MAC_CHARS = 16  # base32: 5 bits each, 80 bits
LOCAL_PART_MAX = 64  # RFC 5321 4.5.3.1.1
REFERENCES_MAX = 20  # the newest ones: References of a long thread stay a sane header


def _mac(ticket_id: int) -> str:
    key = settings.INBOUND_REPLY_ADDRESS_KEY.encode()
    digest = hmac.new(key, f"ticket:{ticket_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:MAC_CHARS].lower()


def reply_address(ticket: Ticket) -> str:
    """The ticket's own reply address, or the queue's address when the plus form would be too long."""
    local, _, domain = ticket.queue.reply_from_email.partition("@")
    address_local = f"{local.split('+')[0]}+{ticket.pk}.{_mac(ticket.pk)}"
    if len(address_local.encode()) > LOCAL_PART_MAX:
        return ticket.queue.reply_from_email
    return f"{address_local}@{domain}"


def reply_address_ticket_id(address: str) -> int | None:
    """The ticket id a reply address names, if its MAC is right; None for any other address."""
    local = address.partition("@")[0]
    tag = local.partition("+")[2]
    ticket_part, _, mac = tag.partition(".")
    if not (ticket_part.isascii() and ticket_part.isdigit()) or len(mac) != MAC_CHARS:
        return None
    ticket_id = int(ticket_part)
    return ticket_id if hmac.compare_digest(mac.lower(), _mac(ticket_id)) else None


def base_address(address: str) -> str:
    """`support+123.abc@example.com` → `support@example.com` (the queue's address of a reply address)."""
    local, _, domain = address.partition("@")
    return f"{local.split('+')[0]}@{domain}".lower()


def mail_ref_record(*, email: OutgoingEmail, ticket_id: int, purpose: str) -> None:
    """Remember the Message-ID of an email about a ticket (in the transaction that queues it)."""
    TicketMailRef.objects.create(message_id=email.message_id, ticket_id=ticket_id, purpose=purpose)


def mail_refs_record(*, emails: list[tuple[OutgoingEmail, int]], purpose: str) -> None:
    """mail_ref_record for several (email, ticket id) pairs, one INSERT."""
    TicketMailRef.objects.bulk_create(
        [
            TicketMailRef(message_id=email.message_id, ticket_id=ticket_id, purpose=purpose)
            for email, ticket_id in emails
        ]
    )


def thread_headers(*, ticket: Ticket, written_at: datetime) -> dict[str, str]:
    """In-Reply-To, References and Reply-To for our email about what happened at `written_at` (a reply, a ticket's
    creation): it answers the customer's latest email before it (or our previous email), and replies go to the
    ticket's reply address."""
    ours = list(
        TicketMailRef.objects.filter(ticket=ticket, created_at__lt=written_at).values_list("created_at", "message_id")
    )
    theirs = list(
        Message.objects.filter(ticket=ticket, kind=Message.Kind.CUSTOMER_MESSAGE, created_at__lte=written_at)
        .exclude(email_message_id="")
        .values_list("created_at", "email_message_id")
    )
    thread = [message_id for _, message_id in sorted(ours + theirs)][-REFERENCES_MAX:]
    headers = {"Reply-To": reply_address(ticket)}
    if thread:
        headers["In-Reply-To"] = max(theirs)[1] if theirs else thread[-1]
        headers["References"] = " ".join(thread)
    return headers
