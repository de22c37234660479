"""Keeping a ticket's SLA targets: recomputed from its event log by the services that change status, priority, queue
or messages (tickets.services calls sla_refresh in their transaction, the ticket locked), never in a page.

- A new clock gets the targets of its queue's policy for the ticket's priority, if the policy existed when it
  started (a policy edit applies to clocks that start after it); the target is kept on the row.
- A priority change or a queue move re-derives the targets of the clocks not stopped (running, paused, or running
  again after a reopen) from their original start under the policy and calendar of the new priority or queue (the
  due time may already be past: the ticket is breached at once, and says so); without a target there, they go.
- A stopped clock is settled: met, breached (elapsed over target) or excluded (closed as spam or duplicate, or a reply
  clock stopped by a close), with the queue and the assignee it counts for. It keeps the target and elapsed time it
  settled with (a later move, policy or calendar edit does not change them); only a close as spam or duplicate can
  exclude it, and a reopen re-derives it.
- Only the rows that changed are written back (a settled target is not rewritten by every later write), and the
  daily counts the reports read follow them (tickets.sla_counts).
- Ticket.sla_due_at is the nearest due time of the running targets: the list shows and sorts by it.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from . import sla
from .calendar import CalendarSpec
from .models import Queue, SlaPolicy, SlaTarget, Ticket
from .sla_counts import counted, sla_counts_move

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
CHANGED_ATTRS = [field.attname for field in SlaTarget._meta.concrete_fields if field.name in CHANGED_FIELDS]


def _values(row: SlaTarget) -> tuple[object, ...]:
    return tuple(getattr(row, attname) for attname in CHANGED_ATTRS)


def _take_policy(row: SlaTarget, policy: SlaPolicy, ticket: Ticket) -> None:
    target = policy.target_seconds(row.kind)
    assert target is not None  # noqa: S101 - the caller checked
    row.target_seconds, row.business_hours, row.warn_at_percent = target, policy.business_hours, policy.warn_at_percent
    row.priority, row.queue_id = ticket.priority, ticket.queue_id


def _calendar(queue_id: int) -> CalendarSpec | None:
    queue = (
        Queue.objects.select_related("business_calendar")
        .prefetch_related("business_calendar__working_hours", "business_calendar__holidays")
        .get(pk=queue_id)
    )
    return CalendarSpec.from_calendar(queue.business_calendar) if queue.business_calendar else None


def _stays_settled(clock: sla.Clock, row: SlaTarget) -> bool:
    """The target settled, and its clock is still stopped where it settled (not reopened since)."""
    return bool(row.result) and row.settled_at == clock.stopped_at


# Too complex and long for C901/PLR0915 (noqa): to be split with the SLA rework of issue 17 §5; kept whole here so
# as not to cross that change.
def sla_refresh(*, ticket: Ticket, now: datetime | None = None) -> None:  # noqa: C901, PLR0915
    """Bring the ticket's SLA targets and sla_due_at up to date with its events. Call it in the transaction of the
    change, after its events are written."""
    now = now or timezone.now()
    policy = SlaPolicy.objects.filter(queue_id=ticket.queue_id, priority=ticket.priority).first()
    existing = {(row.kind, row.started_at): row for row in SlaTarget.objects.filter(ticket=ticket)}
    loaded = {row.pk: _values(row) for row in existing.values()}  # rows are written back only if they changed
    counted_before = [counted(row) for row in existing.values()]
    if policy is None and not existing:
        if ticket.sla_due_at is not None:
            Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=None)
            ticket.sla_due_at = None
        return
    pause = policy.pause_while_waiting if policy else True
    clocks = sla.clocks(created_at=ticket.created_at, events=list(ticket.events.all()), pause_while_waiting=pause)
    kept: list[tuple[sla.Clock, SlaTarget]] = []
    new: list[SlaTarget] = []
    dropped: list[SlaTarget] = []  # running targets the new priority or queue has none for
    for clock in clocks:
        row = existing.pop((clock.kind, clock.started_at), None)
        rederive = (
            row is not None
            and clock.stopped_at is None
            and (row.priority, row.queue_id) != (ticket.priority, ticket.queue_id)
        )
        if row is None or rederive:
            if policy is None or policy.target_seconds(clock.kind) is None:
                if row is not None:
                    dropped.append(row)
                continue
            if row is None:
                if clock.started_at < policy.updated_at:
                    continue  # started before the policy (or its last edit): no target
                row = SlaTarget(ticket=ticket, kind=clock.kind, started_at=clock.started_at)
                new.append(row)
            _take_policy(row, policy, ticket)
        kept.append((clock, row))
    # A target computed now runs in the ticket's queue (re-derived above) or settles there: its calendar is the
    # ticket's, read only if one counts business hours.
    computed = any(row.business_hours and not _stays_settled(clock, row) for clock, row in kept)
    calendar = _calendar(ticket.queue_id) if computed else None
    outcomes = []
    for clock, row in kept:
        if _stays_settled(clock, row):  # its elapsed time stands (a move, policy or calendar edit leaves it alone)
            outcome = sla.settled(
                clock, elapsed_seconds=row.elapsed_seconds, target_seconds=row.target_seconds,
                close_reason=ticket.close_reason,
            )  # fmt: skip
        else:
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
        outcomes.append(outcome)
    changed = [row for _, row in kept if row.pk is not None and _values(row) != loaded[row.pk]]
    gone = [*dropped, *existing.values()]  # and clocks that no longer exist
    SlaTarget.objects.filter(pk__in=[row.pk for row in gone]).delete()
    SlaTarget.objects.bulk_create(new)
    SlaTarget.objects.bulk_update(changed, CHANGED_FIELDS)
    sla_counts_move(before=counted_before, after=[counted(row) for _, row in kept])
    due = sla.nearest_due(outcomes)
    if due != ticket.sla_due_at:
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
        ticket.sla_due_at = due
