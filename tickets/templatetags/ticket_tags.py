"""Presentation of ticket events in the thread."""

from __future__ import annotations

from django import template

from common.users import UserLike, display_name

from ..extensions import NavEntry, nav_entries_for
from ..models import Priority, Status, TicketEvent

register = template.Library()

_LABELS = {**dict(Status.choices), **dict(Priority.choices)}


def _label(value: str) -> str:
    return str(_LABELS.get(value, value)) or "—"


@register.filter
def event_text(event: TicketEvent) -> str:
    """One plain-text line, e.g. "Status: Open → Pending" (the template escapes it)."""
    kind = event.kind
    if kind == TicketEvent.Kind.CREATED:
        return "Ticket created" if event.actor_id else "Ticket submitted by the customer"
    if kind == TicketEvent.Kind.STATUS:
        return f"Status: {_label(event.old_value)} → {_label(event.new_value)}"
    if kind == TicketEvent.Kind.PRIORITY:
        return f"Priority: {_label(event.old_value)} → {_label(event.new_value)}"
    if kind == TicketEvent.Kind.QUEUE:
        return f"Queue changed: {event.old_value} → {event.new_value}"
    if kind == TicketEvent.Kind.ASSIGNEE:
        if not event.new_value:
            return f"Unassigned (was {event.old_value})" if event.old_value else "Unassigned"
        return f"Assigned to {event.new_value}"
    if kind == TicketEvent.Kind.CC_ADDED:
        return f"Copied {event.new_value}"
    if kind == TicketEvent.Kind.CC_REMOVED:
        return f"No longer copied: {event.old_value}"
    return event.get_kind_display()


@register.simple_tag
def nav_entries(user: UserLike) -> list[NavEntry]:
    """The navigation links other apps registered (tickets.extensions), those this user may see."""
    return nav_entries_for(user)


@register.filter
def actor_name(event: TicketEvent) -> str:
    if event.actor is None:
        return "" if event.kind == TicketEvent.Kind.CREATED else "automatically"
    return f"by {display_name(event.actor)}"
