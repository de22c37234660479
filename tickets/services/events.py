"""A ticket event recorded by an app above tickets (an NPS answer, a macro applied, a tag added…): the kind must be
registered (tickets.event_kinds), so the thread can show it and a typo fails at once instead of storing a key
nothing reads."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from ..event_kinds import ticket_event_kinds
from ..models import Ticket, TicketEvent


@transaction.atomic
def ticket_event_record(
    *, ticket: Ticket, kind: str, actor: User | None = None, old_value: str = "", new_value: str = ""
) -> TicketEvent:
    """Record one event of a registered kind on the ticket, in the caller's transaction (ValueError if unknown)."""
    ticket_event_kinds.require(kind)
    return TicketEvent.objects.create(
        ticket=ticket, actor=actor, kind=kind, old_value=old_value[:200], new_value=new_value[:200], at=timezone.now()
    )
