"""The addresses an agent copies on a ticket (their emails to it are trusted like the customer's)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from ..models import TicketCC
from .core import ensure_can_work, ticket_lock


@transaction.atomic
def ticket_cc_add(*, ticket_id: int, email: str, by: User) -> TicketCC:
    """Copy an address on the ticket: its emails to the ticket are then trusted like the customer's."""
    email = email.strip()
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    existing = ticket.ccs.filter(email__iexact=email).first()
    return existing or TicketCC.objects.create(ticket=ticket, email=email, added_by=by)


@transaction.atomic
def ticket_cc_remove(*, ticket_id: int, cc_id: int, by: User) -> None:
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    ticket.ccs.filter(pk=cc_id).delete()
