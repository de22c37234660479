"""What email in adds to the agent's ticket page: the unverified (held) emails of the ticket, to accept or reject."""

from __future__ import annotations

from typing import Any

from tickets.extensions import TicketPanel, ticket_panel_register
from tickets.models import Ticket

from .models import InboundEmail


def held_panel_context(ticket: Ticket) -> dict[str, Any]:
    held = InboundEmail.objects.filter(ticket=ticket, status=InboundEmail.Status.HELD).order_by("received_at")
    return {"held_emails": list(held)}


def register() -> None:
    ticket_panel_register(TicketPanel(template="inbound/held_panel.html", context=held_panel_context))
