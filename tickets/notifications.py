"""Emails to customers about their tickets: queued in the outbox inside the caller's transaction as render specs,
rendered when the outbox sends them (registered in TicketsConfig.ready).

Each email carries its own conversation link: a fresh token minted when the email is rendered (only its hash is
stored), valid CONVERSATION_LINK_DAYS. A retry renders again with a new token; no stored row holds a link.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.links import absolute_url
from common.tokens import token_mint
from outbox.addresses import mailbox_format
from outbox.models import OutgoingEmail
from outbox.renderers import EmailNotWanted, RenderedEmail
from outbox.services import email_spec_enqueue

from .models import CONVERSATION_LINK_PURPOSE, Message, Ticket

CONVERSATION_LINK_DAYS = 90


def conversation_url_mint(*, ticket: Ticket) -> str:
    """A new absolute link to the customer's conversation page (one per email)."""
    expires_at = timezone.now() + timedelta(days=CONVERSATION_LINK_DAYS)
    token = token_mint(purpose=CONVERSATION_LINK_PURPOSE, target=ticket, expires_at=expires_at)
    return absolute_url(reverse("support:conversation", args=[token]))


def email_subject(*, ticket: Ticket) -> str:
    return f"[{ticket.reference}] {ticket.subject}"


def _email(ticket: Ticket, *, template: str, context: dict[str, Any]) -> RenderedEmail:
    if ticket.customer.erased_at is not None:  # erased after the email was queued: their address is a placeholder
        raise EmailNotWanted("the customer's personal data was erased")
    context = {
        **context,
        "ticket": ticket,
        "customer_first_name": ticket.customer.first_name,
        "queue": ticket.queue,
        "conversation_url": conversation_url_mint(ticket=ticket),
    }
    return RenderedEmail(
        to=ticket.customer.email,
        from_email=mailbox_format(name=ticket.queue.name, address=ticket.queue.reply_from_email),
        subject=email_subject(ticket=ticket),
        text=render_to_string(f"tickets/email/{template}.txt", context),
        html=render_to_string(f"tickets/email/{template}.html", context),
    )


def reply_notification_enqueue(*, message: Message) -> OutgoingEmail | None:
    """Email the customer an agent's public reply, with a link to read and answer the conversation (none to a
    customer whose personal data was erased: their address is a placeholder)."""
    if message.ticket.customer.erased_at is not None:
        return None
    return email_spec_enqueue(
        kind=OutgoingEmail.Kind.REPLY_NOTIFICATION,
        to=message.ticket.customer.email,
        spec={"message_id": message.pk},
        related=message,
    )


def reply_notification_render(spec: dict[str, Any]) -> RenderedEmail:
    message = Message.objects.select_related("ticket__queue", "ticket__customer", "author_user").get(
        pk=spec["message_id"]
    )
    ticket = message.ticket
    agent_name = (message.author_user.first_name if message.author_user else "") or ticket.queue.name
    return _email(ticket, template="reply_notification", context={"message": message, "agent_name": agent_name})


def request_confirmation_enqueue(*, ticket: Ticket) -> OutgoingEmail:
    """Confirm a request the customer submitted on the public form, with the link to its conversation."""
    return email_spec_enqueue(
        kind=OutgoingEmail.Kind.CONFIRMATION, to=ticket.customer.email, spec={"ticket_id": ticket.pk}, related=ticket
    )


def request_confirmation_render(spec: dict[str, Any]) -> RenderedEmail:
    ticket = Ticket.objects.select_related("queue", "customer").get(pk=spec["ticket_id"])
    return _email(ticket, template="confirmation", context={})
