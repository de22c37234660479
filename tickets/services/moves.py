"""Moving a ticket to another queue: its event, its SLA targets re-derived under the new queue's policy and calendar,
and the ticket_moved signal (apps keeping a copy of the ticket's queue update it in the same transaction)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .. import transitions
from ..models import Queue, Ticket, TicketEvent
from ..replay import ticket_state, user_ref
from ..selectors import user_can_work_in_queue
from ..signals import ticket_moved
from ..sla.services import sla_refresh
from .core import change_apply, ensure_can_work, ticket_lock


@transaction.atomic
def ticket_move(*, ticket_id: int, queue: Queue, by: User | None) -> Ticket:
    """Move the ticket to `queue` (the agent must work in both). An assignee who is not a member of the new queue is
    unassigned. Moving to the queue it is in changes nothing."""
    ticket = ticket_lock(ticket_id)
    if ticket.queue_id == queue.pk:
        return ticket
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    ensure_can_work(by=by, queue_id=queue.pk)
    now = timezone.now()
    old_queue = ticket.queue
    if ticket.assignee is not None and not user_can_work_in_queue(user=ticket.assignee, queue_id=queue.pk):
        change_apply(ticket, transitions.assign(ticket_state(ticket), assignee=None, by=user_ref(by), at=now))
    ticket.queue, ticket.updated_at = queue, now
    ticket.save(update_fields=["queue", "updated_at"])
    TicketEvent.objects.create(
        ticket=ticket,
        actor=by,
        kind=TicketEvent.Kind.QUEUE,
        old_value=old_queue.name[:200],
        new_value=queue.name[:200],
        at=now,
    )
    sla_refresh(ticket=ticket, now=now)
    ticket_moved.send(sender=Ticket, ticket=ticket, old_queue_id=old_queue.pk)
    return ticket
