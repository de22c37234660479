"""Keeping a ticket's SLA targets: recomputed from its event log by the services that change status, priority, queue
or messages (tickets.services calls sla_refresh in their transaction, the ticket locked), never in a page.

- A new clock gets the targets of its queue's policy for the ticket's priority, if the policy existed when it
  started (a policy edit applies to clocks that start after it); the target is kept on the row.
- A priority change or a queue move re-derives the running targets from their original start under the policy of
  the new priority or queue (the due time may already be past: the ticket is breached at once, and says so).
- A stopped clock is settled: met, breached (elapsed over target) or excluded (closed as spam or duplicate, or a reply
  clock stopped by a close), with the queue and the assignee it counts for.
- Ticket.sla_due_at is the nearest due time of the running targets: the list shows and sorts by it.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from . import sla
from .calendar import CalendarSpec
from .models import BusinessCalendar, SlaPolicy, SlaTarget, Ticket

CHANGED_FIELDS = [
    "target_seconds",
    "business_hours",
    "warn_at_percent",
    "priority",
    "queue",
    "due_at",
    "warn_at",
    "elapsed_seconds",
    "result",
    "settled_at",
    "agent",
]


def _take_policy(row: SlaTarget, policy: SlaPolicy, ticket: Ticket) -> None:
    target = policy.target_seconds(row.kind)
    assert target is not None  # noqa: S101 - the caller checked
    row.target_seconds, row.business_hours, row.warn_at_percent = target, policy.business_hours, policy.warn_at_percent
    row.priority, row.queue_id = ticket.priority, ticket.queue_id


def _calendar(ticket: Ticket) -> CalendarSpec | None:
    if ticket.queue.business_calendar_id is None:
        return None
    calendar = BusinessCalendar.objects.prefetch_related("working_hours", "holidays").get(
        pk=ticket.queue.business_calendar_id
    )
    return CalendarSpec.from_calendar(calendar)


def sla_refresh(*, ticket: Ticket, now: datetime | None = None) -> None:
    """Bring the ticket's SLA targets and sla_due_at up to date with its events. Call it in the transaction of the
    change, after its events are written."""
    now = now or timezone.now()
    policy = SlaPolicy.objects.filter(queue_id=ticket.queue_id, priority=ticket.priority).first()
    existing = {(row.kind, row.started_at): row for row in SlaTarget.objects.filter(ticket=ticket)}
    if policy is None and not existing:
        if ticket.sla_due_at is not None:
            Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=None)
            ticket.sla_due_at = None
        return
    pause = policy.pause_while_waiting if policy else True
    clocks = sla.clocks(created_at=ticket.created_at, events=list(ticket.events.all()), pause_while_waiting=pause)
    calendar = _calendar(ticket)
    new, changed, outcomes = [], [], []
    for clock in clocks:
        row = existing.pop((clock.kind, clock.started_at), None)
        rederive = (
            row is not None and not row.result and (row.priority, row.queue_id) != (ticket.priority, ticket.queue_id)
        )
        if row is None or rederive:
            if policy is None or policy.target_seconds(clock.kind) is None:
                if row is not None:
                    row.delete()
                continue
            if row is None:
                if clock.started_at < policy.updated_at:
                    continue  # started before the policy (or its last edit): no target
                row = SlaTarget(ticket=ticket, kind=clock.kind, started_at=clock.started_at)
                new.append(row)
            _take_policy(row, policy, ticket)
        outcome = sla.outcome(
            clock,
            target_seconds=row.target_seconds,
            warn_percent=row.warn_at_percent,
            now=now,
            calendar=calendar if row.business_hours else None,
            close_reason=ticket.close_reason,
        )
        if outcome.result and not row.result:  # settles now: counted for the queue and agent of this moment
            row.agent_id, row.queue_id = ticket.assignee_id, ticket.queue_id
        row.due_at, row.warn_at, row.elapsed_seconds, row.result = (
            outcome.due_at,
            outcome.warn_at,
            outcome.elapsed_seconds,
            outcome.result,
        )
        row.settled_at = clock.stopped_at if outcome.result else None
        if row not in new:
            changed.append(row)
        outcomes.append(outcome)
    SlaTarget.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()  # clocks that no longer exist
    SlaTarget.objects.bulk_create(new)
    SlaTarget.objects.bulk_update(changed, CHANGED_FIELDS)
    due = sla.nearest_due(outcomes)
    if due != ticket.sla_due_at:
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
        ticket.sla_due_at = due
