"""What email in adds to the agent's pages: the unverified (held) emails of a ticket (its sidebar card, to accept or
reject, and a notice at the top of its thread), the "Held email" navigation entry with its count, and the ticket
event its held-email actions record."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from tickets.event_kinds import ticket_event_kind_register
from tickets.extensions import (
    NavEntry,
    ThreadNotice,
    TicketPanel,
    nav_entry_register,
    thread_notice_register,
    ticket_panel_register,
)
from tickets.models import Ticket

from .held import HELD_EVENT, held_event_text
from .models import InboundEmail
from .parsing import ParseError, parse
from .selectors import held_count

# Larger held emails (big attachments) are not parsed on every view of the page: their text is in the admin.
SHOW_TEXT_MAX_BYTES = 2 * 1024 * 1024


def email_text(held: InboundEmail) -> str | None:
    """The email's text for the agent to judge it by; None when it is too large (or unreadable) to show here."""
    if held.size > SHOW_TEXT_MAX_BYTES:
        return None
    try:
        return parse(held.raw_bytes()).text.strip()
    except ParseError:
        return None


def _held(ticket: Any) -> QuerySet[InboundEmail]:
    return InboundEmail.objects.filter(ticket=ticket, status=InboundEmail.Status.HELD)


def _has_held(ticket: Ticket) -> bool:
    """Read with the page's ticket (the panel's annotation): no query; a ticket read without it asks."""
    flag = getattr(ticket, "has_held_emails", None)
    return _held(ticket).exists() if flag is None else bool(flag)


def held_panel_context(ticket: Ticket) -> dict[str, Any]:
    """No query for a ticket read with the panel's annotation and nothing held (nearly every ticket)."""
    if not _has_held(ticket):
        return {"held_emails": []}
    held = _held(ticket).order_by("received_at")
    return {"held_emails": [{"row": row, "text": email_text(row)} for row in held]}


def held_notice_context(ticket: Ticket) -> dict[str, Any] | None:
    return {"ticket": ticket} if _has_held(ticket) else None


def register() -> None:
    ticket_event_kind_register(app="inbound", key=HELD_EVENT, label="Held email", render=held_event_text)
    ticket_panel_register(
        TicketPanel(
            template="inbound/held_panel.html",
            context=held_panel_context,
            annotations=lambda: {"has_held_emails": Exists(_held(OuterRef("pk")))},
        )
    )
    thread_notice_register(ThreadNotice(template="inbound/_held_notice.html", context=held_notice_context))
    nav_entry_register(NavEntry(label="Held email", url_name="inbound:held-list", count=held_count))
