"""How the ticket thread shows tickets' own event kinds (`TicketEvent.Kind`), registered by TicketsConfig.ready."""

from __future__ import annotations

from .event_kinds import EventRender, EventRow, ticket_event_kind_register
from .models import Priority, Status, TicketEvent


def _value_label(value: str) -> str:
    return str({**dict(Status.choices), **dict(Priority.choices)}.get(value, value)) or "—"


def _created(event: EventRow) -> str:
    return "Ticket created" if event.actor_id else "Ticket submitted by the customer"


def _assignee(event: EventRow) -> str:
    if not event.new_value:
        return f"Unassigned (was {event.old_value})" if event.old_value else "Unassigned"
    return f"Assigned to {event.new_value}"


def ticket_event_kinds_own_register(*, app: str) -> None:
    """tickets' own kinds (TicketEvent.Kind, with their labels), and how the thread shows them."""
    Kind = TicketEvent.Kind
    renders: dict[str, EventRender] = {
        Kind.CREATED: _created,
        Kind.STATUS: lambda event: f"Status: {_value_label(event.old_value)} → {_value_label(event.new_value)}",
        Kind.PRIORITY: lambda event: f"Priority: {_value_label(event.old_value)} → {_value_label(event.new_value)}",
        Kind.QUEUE: lambda event: f"Queue changed: {event.old_value} → {event.new_value}",
        Kind.ASSIGNEE: _assignee,
        Kind.CC_ADDED: lambda event: f"Copied {event.new_value}",
        Kind.CC_REMOVED: lambda event: f"No longer copied: {event.old_value}",
        Kind.CUSTOMER_EMAIL: lambda event: f"Customer's address corrected: {event.old_value} → {event.new_value}",
        Kind.TAG_ADDED: lambda event: f"Tagged {event.new_value}",
        Kind.TAG_REMOVED: lambda event: f"Tag removed: {event.old_value}",
    }
    for kind in Kind:
        ticket_event_kind_register(app=app, key=kind.value, label=kind.label, render=renders.get(kind))
