"""Emails to customers about their tickets: queued in the outbox inside the caller's transaction as render specs,
rendered when the outbox sends them (registered in TicketsConfig.ready).

An address copied on the ticket (TicketCC) gets the public replies too, without the conversation link (it shows the
whole thread), and never a survey. Each email to the customer carries its own conversation link: a fresh token
minted when the email is rendered (only its hash is stored), valid CONVERSATION_LINK_DAYS. A retry renders again
with a new token; no stored row holds a link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.links import absolute_url
from common.tokens import token_mint
from outbox.addresses import mailbox_format
from outbox.kinds import EmailNotWanted, RenderedEmail
from outbox.models import OutgoingEmail
from outbox.services import email_spec_enqueue

from .email_kinds import TicketEmail
from .extensions import confirmation_contents
from .mailthread import mail_ref_record, thread_headers
from .models import CONVERSATION_LINK_PURPOSE, Channel, Message, Ticket, TicketCC

CONVERSATION_LINK_DAYS = 90


def conversation_url_mint(*, ticket: Ticket) -> str:
    """A new absolute link to the customer's conversation page (one per email)."""
    expires_at = timezone.now() + timedelta(days=CONVERSATION_LINK_DAYS)
    token = token_mint(purpose=CONVERSATION_LINK_PURPOSE, target=ticket, expires_at=expires_at)
    return absolute_url(reverse("support:conversation", args=[token]))


def email_subject(*, ticket: Ticket) -> str:
    return f"[{ticket.reference}] {ticket.subject}"


def _email(
    ticket: Ticket,
    *,
    template: str,
    context: dict[str, Any],
    written_at: datetime,
    headers: dict[str, str] | None = None,
    cc: str = "",
) -> RenderedEmail:
    """To the customer, with a conversation link; to `cc` (an address copied on the ticket), without one."""
    if ticket.customer.erased_at is not None:  # erased after the email was queued: their address is a placeholder
        raise EmailNotWanted("the customer's personal data was erased")
    context = {
        **context,
        "ticket": ticket,
        "customer_first_name": "" if cc else ticket.customer.first_name,
        "queue": ticket.queue,
        "conversation_url": "" if cc else conversation_url_mint(ticket=ticket),
    }
    return RenderedEmail(
        to=cc or ticket.customer.email,
        from_email=mailbox_format(name=ticket.queue.name, address=ticket.queue.reply_from_email),
        subject=email_subject(ticket=ticket),
        text=render_to_string(f"tickets/email/{template}.txt", context),
        html=render_to_string(f"tickets/email/{template}.html", context),
        headers={**thread_headers(ticket=ticket, written_at=written_at), **(headers or {})},
    )


def reply_notification_enqueue(*, message: Message) -> OutgoingEmail | None:
    """Email the customer an agent's public reply, with a link to read and answer the conversation, and each address
    copied on the ticket, without it (none to a customer whose personal data was erased: their address is a
    placeholder). Returns the customer's email."""
    if message.ticket.customer.erased_at is not None:
        return None
    email = email_spec_enqueue(
        kind=TicketEmail.REPLY_NOTIFICATION,
        to=message.ticket.customer.email,
        spec={"message_id": message.pk},
        related=message,
    )
    Message.objects.filter(pk=message.pk).update(customer_email=email)  # the thread shows what became of it
    mail_ref_record(email=email, ticket_id=message.ticket_id, purpose="reply")
    for cc in TicketCC.objects.filter(ticket_id=message.ticket_id).values_list("email", flat=True):
        copy = email_spec_enqueue(
            kind=TicketEmail.REPLY_NOTIFICATION,
            to=cc,
            spec={"message_id": message.pk, "cc": cc},
            related=message,
        )
        mail_ref_record(email=copy, ticket_id=message.ticket_id, purpose="reply")
    return email


def reply_notification_render(spec: dict[str, Any]) -> RenderedEmail:
    message = Message.objects.select_related("ticket__queue", "ticket__customer", "author_user").get(
        pk=spec["message_id"]
    )
    ticket = message.ticket
    cc = spec.get("cc", "")
    if cc and not ticket.ccs.filter(email__iexact=cc).exists():
        raise EmailNotWanted("no longer copied on the ticket")
    agent_name = (message.author_user.first_name if message.author_user else "") or ticket.queue.name
    return _email(
        ticket,
        template="reply_notification",
        context={"message": message, "agent_name": agent_name},
        written_at=message.created_at,
        cc=cc,
    )


def request_confirmation_enqueue(*, ticket: Ticket, auto_reply: bool = False) -> OutgoingEmail:
    """Confirm a request the customer submitted (on the public form, or by email: `auto_reply`, which marks it
    Auto-Submitted: auto-replied so that the sender's own auto-responder does not answer it, RFC 3834), with the
    link to its conversation."""
    spec: dict[str, Any] = {"ticket_id": ticket.pk, "auto_reply": True} if auto_reply else {"ticket_id": ticket.pk}
    email = email_spec_enqueue(kind=TicketEmail.CONFIRMATION, to=ticket.customer.email, spec=spec, related=ticket)
    mail_ref_record(email=email, ticket_id=ticket.pk, purpose="confirmation")
    return email


def _confirmation_additions(ticket: Ticket, *, channel: Channel) -> list[dict[str, str]]:
    """What other apps add to the confirmation (tickets.extensions.ConfirmationContent), rendered now: the text part
    unescaped (through _addition.txt), the HTML part escaped."""
    additions = []
    for content in confirmation_contents(channel=channel):
        context = content.context(ticket)
        if context is not None:
            text = render_to_string(
                "tickets/email/_addition.txt", {**context, "tickets_addition_template": f"{content.template}.txt"}
            )
            additions.append({"text": text.strip(), "html": render_to_string(f"{content.template}.html", context)})
    return additions


def request_confirmation_render(spec: dict[str, Any]) -> RenderedEmail:
    ticket = Ticket.objects.select_related("queue", "customer").get(pk=spec["ticket_id"])
    acknowledgement = bool(spec.get("auto_reply"))  # of an email: inbound queues it
    headers = {"Auto-Submitted": "auto-replied"} if acknowledgement else {}
    additions = _confirmation_additions(ticket, channel=Channel.EMAIL if acknowledgement else Channel.WEB)
    return _email(
        ticket,
        template="confirmation",
        context={"additions": additions},
        written_at=ticket.created_at,
        headers=headers,
    )
