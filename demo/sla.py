"""Demo SLA policies and the seeded tickets' SLA targets.

The targets are computed in bulk from each ticket's events with the pure rules of tickets.sla.rules (clocks, outcome,
nearest_due) — what tickets.sla.services.sla_refresh would have stored had the services played the story, without a
query per ticket. The policies date from before the oldest demo ticket, so every clock counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from tickets.calendar import CalendarSpec
from tickets.metrics import EventLike
from tickets.models import Priority, SlaPolicy, SlaTarget, Ticket, TicketEvent
from tickets.sla import rules

from .desk import DAYS, Desk

# Minutes to first reply, next reply and resolution per priority, in business hours where the queue has a calendar;
# a queue open around the clock counts calendar hours, CALENDAR_FACTOR times as many (a working day has 8 of 24).
# Urgent tickets count calendar hours everywhere, with the same targets.
TARGETS = {
    Priority.LOW: (12 * 60, 16 * 60, 80 * 60),
    Priority.NORMAL: (8 * 60, 8 * 60, 40 * 60),
    Priority.HIGH: (2 * 60, 4 * 60, 16 * 60),
    Priority.URGENT: (60, 2 * 60, 8 * 60),
}
CALENDAR_FACTOR = 3
BACKFILL_BATCH = 2000  # tickets whose events are read at once


@dataclass(frozen=True)
class SlaContext:
    """What the pure rules need of the demo desk, read once: the policies and the queues' calendars."""

    policies: dict[tuple[int, str], SlaPolicy]
    calendars: dict[int, CalendarSpec | None]

    @classmethod
    def of(cls, desk: Desk) -> SlaContext:
        queues = [dq.queue.pk for dq in desk.queues]
        return cls(
            policies={(p.queue_id, p.priority): p for p in SlaPolicy.objects.filter(queue_id__in=queues)},
            calendars={dq.queue.pk: dq.calendar for dq in desk.queues},
        )


def sla_policies_ensure(desk: Desk, *, now: datetime) -> int:
    """A policy per demo queue and priority (get-or-create: an existing one is left as it is); a new one is dated
    before the oldest demo ticket (a policy applies to clocks that start after its last edit). Returns how many
    were created."""
    created_pks = []
    with transaction.atomic():
        for dq in desk.queues:
            for priority, minutes in TARGETS.items():
                business_hours = dq.calendar is not None and priority != Priority.URGENT
                factor = CALENDAR_FACTOR if dq.calendar is None and priority != Priority.URGENT else 1
                first, following, resolution = (value * factor for value in minutes)
                policy, created = SlaPolicy.objects.get_or_create(
                    queue=dq.queue,
                    priority=priority,
                    defaults={
                        "first_reply_minutes": first,
                        "next_reply_minutes": following,
                        "resolution_minutes": resolution,
                        "business_hours": business_hours,
                    },
                )
                if created:
                    created_pks.append(policy.pk)
        # auto_now sets updated_at on save; an update() dates it back.
        SlaPolicy.objects.filter(pk__in=created_pks).update(updated_at=now - timedelta(days=DAYS + 60))
    return len(created_pks)


def sla_targets_build(
    *, ticket: Ticket, events: Sequence[EventLike], context: SlaContext, now: datetime
) -> list[SlaTarget]:
    """The ticket's targets as sla_refresh computes them for a ticket without any (unsaved rows); sets
    ticket.sla_due_at. Running targets whose warning or due time is past are marked as recorded (warned_at,
    breached_at): the beat does not notify about a story that was seeded, only about what happens after it."""
    policy = context.policies.get((ticket.queue_id, ticket.priority))
    ticket.sla_due_at = None
    if policy is None:
        return []
    calendar = context.calendars[ticket.queue_id] if policy.business_hours else None
    rows, outcomes = [], []
    for clock in rules.clocks(
        created_at=ticket.created_at, events=events, pause_while_waiting=policy.pause_while_waiting
    ):
        target = policy.target_seconds(clock.kind)
        if target is None or clock.started_at < policy.updated_at:
            continue
        outcome = rules.outcome(
            clock,
            target_seconds=target,
            warn_percent=policy.warn_at_percent,
            now=now,
            calendar=calendar,
            close_reason=ticket.close_reason,
        )
        outcomes.append(outcome)
        running = not outcome.result
        rows.append(
            SlaTarget(
                ticket=ticket,
                kind=clock.kind,
                started_at=clock.started_at,
                target_seconds=target,
                business_hours=policy.business_hours,
                warn_at_percent=policy.warn_at_percent,
                pause_while_waiting=policy.pause_while_waiting,
                priority=ticket.priority,
                queue_id=ticket.queue_id,
                due_at=outcome.due_at,
                warn_at=outcome.warn_at,
                elapsed_seconds=outcome.elapsed_seconds,
                result=outcome.result,
                settled_at=None if running else clock.stopped_at,
                agent_id=None if running else ticket.assignee_id,
                warned_at=outcome.warn_at if running and outcome.warn_at and outcome.warn_at <= now else None,
                breached_at=outcome.due_at if running and outcome.due_at and outcome.due_at <= now else None,
            )
        )
    ticket.sla_due_at = rules.nearest_due(outcomes)
    return rows


def sla_backfill(desk: Desk, *, tickets: Sequence[int], now: datetime, batch: int = BACKFILL_BATCH) -> int:
    """Targets for demo tickets seeded before the demo had SLA policies (`tickets`: their ids), from their stored
    events, BACKFILL_BATCH tickets a transaction. Returns how many targets were written."""
    context = SlaContext.of(desk)
    written = 0
    for start in range(0, len(tickets), batch):
        ids = tickets[start : start + batch]
        with transaction.atomic():
            rows, changed = [], []
            for ticket, events in _with_events(ids):
                rows += sla_targets_build(ticket=ticket, events=events, context=context, now=now)
                if ticket.sla_due_at is not None:
                    changed.append(ticket)
            SlaTarget.objects.bulk_create(rows, batch_size=1000)
            Ticket.objects.bulk_update(changed, ["sla_due_at"], batch_size=1000)
            written += len(rows)
    return written


def _with_events(ids: Sequence[int]) -> Iterator[tuple[Ticket, list[TicketEvent]]]:
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in TicketEvent.objects.filter(ticket_id__in=ids).order_by("ticket_id", "at", "id"):
        events[event.ticket_id].append(event)
    fields = ("id", "queue", "priority", "assignee", "close_reason", "created_at")
    for ticket in Ticket.objects.filter(pk__in=ids).only(*fields).order_by("pk"):
        yield ticket, events[ticket.pk]
