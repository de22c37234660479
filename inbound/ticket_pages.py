"""What email in adds to the agent's ticket page: the unverified (held) emails of the ticket, to accept or reject."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from tickets.extensions import TicketPanel, ticket_panel_register
from tickets.models import Ticket

from .models import InboundEmail
from .parsing import ParseError, parse

# Larger held emails (big attachments) are not parsed on every view of the page: their text is in the admin.
SHOW_TEXT_MAX_BYTES = 2 * 1024 * 1024


def _text(held: InboundEmail) -> str | None:
    """The email's text for the agent to judge it by; None when it is too large (or unreadable) to show here."""
    if held.size > SHOW_TEXT_MAX_BYTES:
        return None
    try:
        return parse(held.raw_bytes()).text.strip()
    except ParseError:
        return None


def _held(ticket: Any) -> QuerySet[InboundEmail]:
    return InboundEmail.objects.filter(ticket=ticket, status=InboundEmail.Status.HELD)


def held_panel_context(ticket: Ticket) -> dict[str, Any]:
    """No query for a ticket read with the panel's annotation and nothing held (nearly every ticket)."""
    if not getattr(ticket, "has_held_emails", True):
        return {"held_emails": []}
    held = _held(ticket).order_by("received_at")
    return {"held_emails": [{"row": row, "text": _text(row)} for row in held]}


def register() -> None:
    ticket_panel_register(
        TicketPanel(
            template="inbound/held_panel.html",
            context=held_panel_context,
            annotations=lambda: {"has_held_emails": Exists(_held(OuterRef("pk")))},
        )
    )
