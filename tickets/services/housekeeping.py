"""Writes to many tickets at once: beat's close of stale pending tickets, an admin deactivating an agent."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from .. import transitions
from ..models import OPEN_STATUSES, CloseReason, Queue, Status, Ticket
from ..replay import ticket_state, user_ref
from .core import change_apply, ticket_close, ticket_lock


def tickets_close_stale_pending(*, now: datetime | None = None) -> list[int]:
    """Close, as no_response, tickets pending longer than their queue's limit. Returns the closed ticket ids."""
    now = now or timezone.now()
    closed = []
    for queue in Queue.objects.filter(pending_autoclose_days__gt=0):
        cutoff = now - timedelta(days=queue.pending_autoclose_days)
        stale = Ticket.objects.filter(queue=queue, status=Status.PENDING, status_changed_at__lte=cutoff)
        for ticket_id in stale.values_list("pk", flat=True):
            # Each in its own transaction, re-checked under the lock: a customer may have replied meanwhile.
            with transaction.atomic():
                ticket = ticket_lock(ticket_id)
                if ticket.status == Status.PENDING and ticket.status_changed_at <= cutoff:
                    ticket_close(ticket_id=ticket_id, reason=CloseReason.NO_RESPONSE, by=None)
                    closed.append(ticket_id)
    return closed


@transaction.atomic
def agent_deactivate(*, user_id: int, by: User | None) -> int:
    """Deactivate an agent (no login) and unassign their open tickets, with events. Returns how many were unassigned."""
    user = User.objects.select_for_update().get(pk=user_id)
    if by is not None and not by.is_superuser:
        raise PermissionDenied("Only admins can deactivate agents.")
    user.is_active = False
    user.save(update_fields=["is_active"])
    now = timezone.now()
    open_ticket_ids = Ticket.objects.filter(assignee=user, status__in=OPEN_STATUSES).values_list("pk", flat=True)
    count = 0
    for ticket_id in list(open_ticket_ids):
        ticket = ticket_lock(ticket_id)
        change = transitions.assign(ticket_state(ticket), assignee=None, by=user_ref(by), at=now)
        if change.events:  # unassigned meanwhile: nothing to do
            change_apply(ticket, change)
            count += 1
    return count
