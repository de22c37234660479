"""Keeping a ticket's SLA targets: recomputed from its event log by the services that change status, priority, queue
or messages (tickets.services calls sla_refresh in their transaction, the ticket locked), never in a page.

- A new clock gets the targets of its queue's policy for the ticket's priority, if the policy existed when it
  started (a policy edit applies to clocks that start after it); the target, warning share and pause switch are kept
  on the row.
- A priority change or a queue move re-derives the targets of the clocks not stopped (running, paused, or running
  again after a reopen) from their original start under the policy and calendar of the new priority or queue (the
  due time may already be past: the ticket is breached at once, and says so); without a target there, they go. A
  warned target whose warning moves ahead again is warned again when it gets there.
- A stopped clock is settled: met, breached (elapsed over target: a breach stands, whatever stops it) or excluded
  (closed as spam or duplicate, or a reply clock a close stopped before its target), with the queue and the assignee
  it counts for. It keeps the target and elapsed time it settled with (a later move, policy or calendar edit does not
  change them); only a close as spam or duplicate can exclude it, and a reopen re-derives it.
- Only the rows that changed are written back (a settled target is not rewritten by every later write), and the
  daily counts the reports read follow them (tickets.sla.counts).
- Ticket.sla_due_at is the nearest due time of the running targets: the list shows and sorts by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from ..calendar import CalendarSpec
from ..models import Queue, SlaPolicy, SlaTarget, Ticket
from . import rules
from .counts import counted, sla_counts_move

CHANGED_FIELDS = [
    "target_seconds",
    "business_hours",
    "warn_at_percent",
    "pause_while_waiting",
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
    row.pause_while_waiting = policy.pause_while_waiting
    row.priority, row.queue_id = ticket.priority, ticket.queue_id


def _calendar(queue_id: int) -> CalendarSpec | None:
    queue = (
        Queue.objects.select_related("business_calendar")
        .prefetch_related("business_calendar__working_hours", "business_calendar__holidays")
        .get(pk=queue_id)
    )
    return CalendarSpec.from_calendar(queue.business_calendar) if queue.business_calendar else None


def _stays_settled(clock: rules.Clock, row: SlaTarget) -> bool:
    """The target settled, and its clock is still stopped where it settled (not reopened since)."""
    return bool(row.result) and row.settled_at == clock.stopped_at


def sla_refresh(*, ticket: Ticket, now: datetime | None = None) -> None:
    """Bring the ticket's SLA targets and sla_due_at up to date with its events. Call it in the transaction of the
    change, after its events are written."""
    now = now or timezone.now()
    policy = SlaPolicy.objects.filter(queue_id=ticket.queue_id, priority=ticket.priority).first()
    existing = {(row.kind, row.started_at): row for row in SlaTarget.objects.filter(ticket=ticket)}
    loaded = {row.pk: _values(row) for row in existing.values()}  # rows are written back only if they changed
    counted_before = [counted(row) for row in existing.values()]
    if policy is None and not existing:
        _due_set(ticket, None)
        return
    kept, new, dropped = _targets_match(ticket=ticket, policy=policy, existing=existing)
    # A target computed now runs in the ticket's queue (re-derived above) or settles there: its calendar is the
    # ticket's, read only if one counts business hours.
    computed = any(row.business_hours and not _stays_settled(clock, row) for clock, row in kept)
    calendar = _calendar(ticket.queue_id) if computed else None
    outcomes = [_outcome_apply(clock, row, ticket=ticket, now=now, calendar=calendar) for clock, row in kept]
    # warned targets whose warning moved ahead again (a re-derived, later due time)
    rewarn = [row.pk for (_, row), outcome in zip(kept, outcomes, strict=True) if outcome.rewarn and row.pk]
    changed = [row for _, row in kept if row.pk is not None and _values(row) != loaded[row.pk]]
    gone = [*dropped, *existing.values()]  # and clocks that no longer exist
    SlaTarget.objects.filter(pk__in=[row.pk for row in gone]).delete()
    SlaTarget.objects.bulk_create(new)
    SlaTarget.objects.bulk_update(changed, CHANGED_FIELDS)
    if rewarn:  # apart from the rows written back: the beat claims warned_at with its own conditional UPDATE
        SlaTarget.objects.filter(pk__in=rewarn).update(warned_at=None)
    sla_counts_move(before=counted_before, after=[counted(row) for _, row in kept])
    _due_set(ticket, rules.nearest_due([outcome.outcome for outcome in outcomes]))


def _due_set(ticket: Ticket, due: datetime | None) -> None:
    if due != ticket.sla_due_at:
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
        ticket.sla_due_at = due


def _targets_match(
    *, ticket: Ticket, policy: SlaPolicy | None, existing: dict[tuple[str, datetime], SlaTarget]
) -> tuple[list[tuple[rules.Clock, SlaTarget]], list[SlaTarget], list[SlaTarget]]:
    """Each clock of the ticket with its target row: (clock, row) kept, rows new, rows dropped (running targets the
    new priority or queue has none for). Matched rows are popped from `existing`: what is left has no clock."""
    events = list(ticket.events.all())
    pause = policy.pause_while_waiting if policy else True
    clocks = rules.clocks(created_at=ticket.created_at, events=events, pause_while_waiting=pause)
    other_clocks: list[rules.Clock] = []  # the same clocks under the other pause switch, computed if a row keeps it
    kept: list[tuple[rules.Clock, SlaTarget]] = []
    new: list[SlaTarget] = []
    dropped: list[SlaTarget] = []
    for index, clock in enumerate(clocks):
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
        if row.pause_while_waiting != pause:  # it keeps the switch it started with (the policy changed since)
            other_clocks = other_clocks or rules.clocks(
                created_at=ticket.created_at, events=events, pause_while_waiting=not pause
            )
            clock = other_clocks[index]
        kept.append((clock, row))
    return kept, new, dropped


@dataclass(frozen=True)
class _Applied:
    outcome: rules.Outcome
    rewarn: bool  # its warning was recorded, and is ahead again


def _outcome_apply(
    clock: rules.Clock, row: SlaTarget, *, ticket: Ticket, now: datetime, calendar: CalendarSpec | None
) -> _Applied:
    """The clock's outcome against the row's target, written into the row (unsaved)."""
    if _stays_settled(clock, row):  # its elapsed time stands (a move, policy or calendar edit leaves it alone)
        outcome = rules.settled(
            clock, elapsed_seconds=row.elapsed_seconds, target_seconds=row.target_seconds,
            close_reason=ticket.close_reason,
        )  # fmt: skip
    else:
        outcome = rules.outcome(
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
    rewarn = row.warned_at is not None and not outcome.result and outcome.warn_at is not None and outcome.warn_at > now
    if rewarn:
        row.warned_at = None
    return _Applied(outcome=outcome, rewarn=rewarn)
