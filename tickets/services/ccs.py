"""The addresses copied on a ticket: an agent's, or those the customer's own email copied. Their emails to the ticket
are trusted like the customer's, and they get its public replies by email (without the conversation link)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from ..models import TicketCC, TicketEvent
from .core import ensure_can_work, ticket_lock


@transaction.atomic
def ticket_cc_add(*, ticket_id: int, email: str, by: User | None) -> TicketCC:
    """Copy an address on the ticket (by an agent; None: the customer's email copied it), with a cc_added event."""
    email = email.strip()
    ticket = ticket_lock(ticket_id)
    if by is not None:
        ensure_can_work(by=by, queue_id=ticket.queue_id)
    existing = ticket.ccs.filter(email__iexact=email).first()
    if existing is not None:
        return existing
    TicketEvent.objects.create(ticket=ticket, actor=by, kind=TicketEvent.Kind.CC_ADDED, new_value=email[:200])
    return TicketCC.objects.create(ticket=ticket, email=email, added_by=by)


@transaction.atomic
def ticket_cc_remove(*, ticket_id: int, cc_id: int, by: User) -> None:
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    cc = ticket.ccs.filter(pk=cc_id).first()
    if cc is not None:
        cc.delete()
        TicketEvent.objects.create(ticket=ticket, actor=by, kind=TicketEvent.Kind.CC_REMOVED, old_value=cc.email[:200])
