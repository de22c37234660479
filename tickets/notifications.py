"""Emails to customers about their tickets, queued in the outbox inside the caller's transaction.

Each email carries its own conversation link: a fresh token (only its hash is stored), valid CONVERSATION_LINK_DAYS.
"""

from __future__ import annotations

from datetime import timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.links import absolute_url
from common.tokens import token_mint
from outbox.addresses import mailbox_format
from outbox.models import OutgoingEmail
from outbox.services import email_enqueue

from .models import CONVERSATION_LINK_PURPOSE, Message, Ticket

CONVERSATION_LINK_DAYS = 90


def conversation_url_mint(*, ticket: Ticket) -> str:
    """A new absolute link to the customer's conversation page (one per email)."""
    expires_at = timezone.now() + timedelta(days=CONVERSATION_LINK_DAYS)
    token = token_mint(purpose=CONVERSATION_LINK_PURPOSE, target=ticket, expires_at=expires_at)
    return absolute_url(reverse("support:conversation", args=[token]))


def email_subject(*, ticket: Ticket) -> str:
    return f"[{ticket.reference}] {ticket.subject}"


def _from_email(ticket: Ticket) -> str:
    return mailbox_format(name=ticket.queue.name, address=ticket.queue.reply_from_email)


def reply_notification_enqueue(*, message: Message) -> OutgoingEmail:
    """Email the customer an agent's public reply, with a link to read and answer the conversation."""
    ticket = message.ticket
    context = {
        "ticket": ticket,
        "message": message,
        "customer_first_name": ticket.customer.first_name,
        "agent_name": (message.author_user.first_name if message.author_user else "") or ticket.queue.name,
        "queue": ticket.queue,
        "conversation_url": conversation_url_mint(ticket=ticket),
    }
    return email_enqueue(
        kind=OutgoingEmail.Kind.REPLY_NOTIFICATION,
        to=ticket.customer.email,
        from_email=_from_email(ticket),
        subject=email_subject(ticket=ticket),
        text=render_to_string("tickets/email/reply_notification.txt", context),
        html=render_to_string("tickets/email/reply_notification.html", context),
        related=message,
    )


def request_confirmation_enqueue(*, ticket: Ticket) -> OutgoingEmail:
    """Confirm a request the customer submitted on the public form, with the link to its conversation."""
    context = {
        "ticket": ticket,
        "customer_first_name": ticket.customer.first_name,
        "queue": ticket.queue,
        "conversation_url": conversation_url_mint(ticket=ticket),
    }
    return email_enqueue(
        kind=OutgoingEmail.Kind.CONFIRMATION,
        to=ticket.customer.email,
        from_email=_from_email(ticket),
        subject=email_subject(ticket=ticket),
        text=render_to_string("tickets/email/confirmation.txt", context),
        html=render_to_string("tickets/email/confirmation.html", context),
        related=ticket,
    )
