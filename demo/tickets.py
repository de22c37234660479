"""Demo tickets for `manage.py seed_demo`: each ticket's story (a scenario) played by demo agents and customers.

How tickets are made: `Timeline` plays one ticket's life in memory with the rules of tickets.transitions, the same
pure functions tickets.services applies (same events, status moves, counters, and the metrics stored on close and
reopen), only at backdated times instead of timezone.now(); the rows are then written with bulk_create. No close
signal is sent, so seeding schedules no surveys and sends no email.

Each ticket comes from its own random stream (seed, index): it depends on the seed, its index and `now`, never on
the batch size or on how many runs it took to reach the target.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from tickets import transitions
from tickets.calendar import CalendarSpec, add_business_seconds
from tickets.models import CloseReason, Customer, Message, Priority, SlaTarget, Status, Ticket, TicketEvent
from tickets.replay import ticket_event_rows, ticket_state_apply, user_ref
from tickets.transitions import Change, TicketState

from .content import (
    ACKS,
    CUSTOMER_DETAILS,
    CUSTOMER_NUDGES,
    CUSTOMER_REOPENS,
    CUSTOMER_THANKS,
    DUPLICATE_REPLY,
    REOPEN_REPLIES,
    SPAM,
    Topic,
)
from .desk import DAYS, Desk, DeskQueue
from .sla import SlaContext, sla_targets_build


class Timeline:
    """A demo ticket in memory: its row, its messages and the events tickets.transitions produced for it.

    Each method is one service's action at the given time instead of timezone.now(); times never go backwards, and
    an action that changes nothing (a no-op) does not move the clock.
    """

    def __init__(self, ticket: Ticket, *, calendar: CalendarSpec | None) -> None:
        self.ticket = ticket  # unsaved; `row()` copies the state onto it
        self.calendar = calendar  # the queue's, for the metrics
        at = ticket.created_at
        self.state = TicketState(created_at=at, updated_at=at, status_changed_at=at, priority=ticket.priority)
        self.messages: list[Message] = []
        self.events: list[transitions.Event] = []
        self.now = at

    def create(self, *, by: User | None, body: str) -> None:
        self._take(transitions.create(by=user_ref(by), at=self.now, priority=self.state.priority, assignee=None))
        self._message(kind=Message.Kind.CUSTOMER_MESSAGE, body=body, customer=self.ticket.customer)

    def customer_message(self, *, body: str, at: datetime) -> None:
        self._act(transitions.customer_message, at, history=self.events, calendar=self.calendar)
        self._message(kind=Message.Kind.CUSTOMER_MESSAGE, body=body, customer=self.ticket.customer)

    def agent_message(self, *, kind: Message.Kind, by: User, body: str, at: datetime) -> None:
        self._act(transitions.agent_message, at, kind=kind, by=user_ref(by))
        self._message(kind=kind, body=body, user=by)

    def assign(self, *, assignee: User, by: User, at: datetime) -> None:
        self._act(transitions.assign, at, assignee=user_ref(assignee), by=user_ref(by))

    def set_priority(self, *, priority: Priority, by: User, at: datetime) -> None:
        self._act(transitions.set_priority, at, priority=priority, by=user_ref(by))

    def set_status(self, *, status: Status, by: User, at: datetime) -> None:
        self._act(transitions.set_status, at, status=status, by=user_ref(by))

    def close(self, *, reason: CloseReason, by: User | None, at: datetime) -> None:
        self._act(transitions.close, at, reason=reason, by=user_ref(by), history=self.events, calendar=self.calendar)

    def row(self) -> Ticket:
        """The ticket row with the final state (unsaved)."""
        ticket_state_apply(ticket=self.ticket, state=self.state)
        return self.ticket

    def _act(self, rule: Callable[..., Change], at: datetime, **values: Any) -> None:
        """`rule` (a tickets.transitions function) on the current state at `at`, or at the clock if that is later."""
        at = max(self.now, at)
        self._take(rule(self.state, at=at, **values))

    def _take(self, change: Change) -> None:
        if change.events:  # a no-op changes nothing, the clock included
            self.state = change.state
            self.events.extend(change.events)
            self.now = change.events[-1].at

    def _message(
        self, *, kind: Message.Kind, body: str, user: User | None = None, customer: Customer | None = None
    ) -> None:
        self.messages.append(
            Message(
                ticket=self.ticket,
                kind=kind,
                author_user=user,
                author_customer=customer,
                body=body,
                created_at=self.now,
            )
        )


# --- scenarios: how a ticket of each final state came about --------------------------------------------------------


class Script:
    """The people, texts and clock of one ticket; the steps scenarios are written in."""

    def __init__(
        self, *, rng: random.Random, dq: DeskQueue, customer: Customer, topic: Topic, created: datetime, now: datetime
    ) -> None:
        self.rng, self.dq, self.customer, self.topic = rng, dq, customer, topic
        self.deadline = now  # the real now: nothing may happen after it
        self.agent = rng.choice((dq.agent, dq.agent, dq.lead))  # agents take most tickets, the lead some
        self.values = {
            "amount": f"{rng.choice((19, 49, 99, 149, 490)):.2f}",
            "number": str(rng.randint(10_000, 99_999)),
        }
        priority = rng.choices(list(Priority), weights=(15, 60, 20, 5))[0]
        self.timeline = Timeline(
            Ticket(
                subject=self.text(topic.subject),
                queue=dq.queue,
                customer=customer,
                priority=priority,
                created_at=created,
                updated_at=created,
                status_changed_at=created,
            ),
            calendar=dq.calendar,
        )

    @property
    def now(self) -> datetime:
        return self.timeline.now

    def text(self, template: str) -> str:
        return template.format(**self.values)

    def agent_time(self, low_minutes: int, high_minutes: int) -> datetime:
        """When the agent acts next: working minutes of the queue's calendar from now."""
        seconds = self.rng.randint(low_minutes * 60, high_minutes * 60)
        return add_business_seconds(self.now, seconds, self.dq.calendar)

    def customer_time(self, low_hours: float, high_hours: float) -> datetime:
        return self.now + timedelta(seconds=self.rng.randint(int(low_hours * 3600), int(high_hours * 3600)))

    def moments_later(self) -> datetime:
        return self.now + timedelta(seconds=self.rng.randint(5, 120))

    # steps
    def opened(self, *, by_customer: bool = False) -> None:
        on_behalf = not by_customer and self.rng.random() < 0.15  # an agent entered it (a phone call, say)
        self.timeline.create(
            by=self.agent if on_behalf else None,
            body=f"Hello,\n\n{self.text(self.topic.opening)}\n\n{self.customer.name}",
        )

    def triage(self) -> None:
        by = self.dq.lead if self.rng.random() < 0.6 else self.agent  # the lead dispatches, or the agent takes it
        self.timeline.assign(assignee=self.agent, by=by, at=self.agent_time(5, 90))
        if self.rng.random() < 0.1:
            urgent = self.rng.choice((Priority.HIGH, Priority.URGENT))
            self.timeline.set_priority(priority=urgent, by=self.agent, at=self.moments_later())

    def reply(self, body: str, *, low: int = 10, high: int = 240) -> None:
        signed = f"Hi {self.customer.first_name},\n\n{self.text(body)}\n\nBest regards,\n{self.agent.first_name}"
        kind = Message.Kind.PUBLIC_REPLY
        self.timeline.agent_message(kind=kind, by=self.agent, body=signed, at=self.agent_time(low, high))

    def note(self) -> None:
        body = self.rng.choice(self.dq.spec.notes)
        self.timeline.agent_message(
            kind=Message.Kind.INTERNAL_NOTE, by=self.agent, body=body, at=self.agent_time(2, 60)
        )

    def customer_says(self, lines: Sequence[str], low_hours: float, high_hours: float) -> None:
        body = f"{self.rng.choice(lines)}\n\n{self.customer.first_name}"
        self.timeline.customer_message(body=body, at=self.customer_time(low_hours, high_hours))

    def status(self, status: Status) -> None:
        self.timeline.set_status(status=status, by=self.agent, at=self.moments_later())

    def ask_for_details(self) -> None:
        self.reply(self.rng.choice(self.dq.spec.questions))
        self.status(Status.PENDING)

    def close(self, reason: CloseReason) -> None:
        self.timeline.close(reason=reason, by=self.agent, at=self.moments_later())


def _work_to_solution(s: Script) -> None:
    s.triage()
    path = s.rng.random()
    if path < 0.3:  # the agent needs details first
        s.ask_for_details()
        s.customer_says(CUSTOMER_DETAILS, 1, 30)
        if s.rng.random() < 0.3:
            s.note()
    elif path < 0.45:  # waiting on a third party
        s.reply(s.dq.spec.hold_reply)
        s.note()
        s.status(Status.ON_HOLD)
        if s.rng.random() < 0.3:
            s.customer_says(CUSTOMER_NUDGES, 20, 60)
        s.timeline.set_status(status=Status.OPEN, by=s.agent, at=s.agent_time(6 * 60, 24 * 60))
    elif s.rng.random() < 0.25:
        s.note()
    s.reply(s.topic.answer)


def _solved(s: Script) -> None:
    s.opened()
    _work_to_solution(s)
    if s.rng.random() < 0.5:  # wait for the customer's confirmation
        s.status(Status.PENDING)
        s.customer_says(CUSTOMER_THANKS, 0.5, 48)
        s.timeline.close(reason=CloseReason.SOLVED, by=s.agent, at=s.agent_time(1, 120))
    else:
        s.close(CloseReason.SOLVED)


def _reopened(s: Script) -> None:
    _solved(s)
    s.customer_says(CUSTOMER_REOPENS, 12, 96)
    if s.rng.random() < 0.5:
        s.note()


def _solved_after_reopen(s: Script) -> None:
    _reopened(s)
    s.reply(s.rng.choice(REOPEN_REPLIES))
    s.close(CloseReason.SOLVED)


def _new(s: Script) -> None:
    s.opened()
    at = s.agent_time(5, 120)
    if s.rng.random() < 0.5 and at <= s.deadline:
        s.timeline.assign(assignee=s.agent, by=s.dq.lead, at=at)


def _open(s: Script) -> None:
    s.opened()
    s.triage()
    if s.rng.random() < 0.5:
        s.reply(s.rng.choice(s.dq.spec.questions))
        s.customer_says(CUSTOMER_DETAILS, 1, 24)
    else:
        s.reply(s.rng.choice(ACKS), low=5, high=60)
    if s.rng.random() < 0.4:
        s.note()


def _pending(s: Script) -> None:
    s.opened()
    s.triage()
    s.ask_for_details()


def _on_hold(s: Script) -> None:
    s.opened()
    s.triage()
    s.reply(s.dq.spec.hold_reply)
    s.note()
    s.status(Status.ON_HOLD)
    if s.rng.random() < 0.3:
        s.customer_says(CUSTOMER_NUDGES, 20, 60)


def _no_response(s: Script) -> None:
    s.opened()
    s.triage()
    s.ask_for_details()
    days = s.dq.queue.pending_autoclose_days
    if days:  # the beat task closes it (every 5 minutes), as the system
        at = s.now + timedelta(days=days, seconds=s.rng.randint(1, 300))
        s.timeline.close(reason=CloseReason.NO_RESPONSE, by=None, at=at)
    else:
        s.timeline.close(reason=CloseReason.NO_RESPONSE, by=s.agent, at=s.agent_time(10 * 8 * 60, 12 * 8 * 60))


def _duplicate(s: Script) -> None:
    s.opened()
    s.triage()
    s.reply(DUPLICATE_REPLY, low=5, high=60)
    s.close(CloseReason.DUPLICATE)


def _spam(s: Script) -> None:
    s.opened(by_customer=True)
    s.timeline.close(reason=CloseReason.SPAM, by=s.agent, at=s.agent_time(5, 180))


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: int  # share of the tickets
    age_hours: tuple[float, float]  # created this long ago (moved earlier if its story would end after now)
    play: Callable[[Script], None]
    spam: bool = False


SCENARIOS = (
    Scenario("new", 4, (0.2, 20), _new),
    Scenario("open", 8, (3, 5 * 24), _open),
    Scenario("pending", 6, (6, 4 * 24), _pending),  # pending for less than the autoclose limit (7 days)
    Scenario("on hold", 4, (24, 12 * 24), _on_hold),
    Scenario("reopened", 2, (3 * 24, 14 * 24), _reopened),
    Scenario("solved", 58, (24, DAYS * 24), _solved),
    Scenario("solved after a reopen", 5, (3 * 24, DAYS * 24), _solved_after_reopen),
    Scenario("no response", 6, (9 * 24, DAYS * 24), _no_response),
    Scenario("duplicate", 4, (24, DAYS * 24), _duplicate),
    Scenario("spam", 3, (24, DAYS * 24), _spam, spam=True),
)
SCENARIO_WEIGHTS = [scenario.weight for scenario in SCENARIOS]


def ticket_build(desk: Desk, *, seed: int, index: int, now: datetime) -> Timeline:
    """Demo ticket number `index`: the first len(SCENARIOS) play each scenario once, later ones are drawn by weight.

    A story that would end after `now` is replayed with the same draws, starting earlier.
    """
    shift = timedelta(0)
    for attempt in range(10):
        rng = random.Random(f"{seed}:{index}")  # noqa: S311 - demo data
        timeline = _play(desk, rng=rng, index=index, now=now, shift=shift)
        if timeline.now <= now:
            return timeline
        shift += timeline.now - now + timedelta(hours=2**attempt)
    raise RuntimeError(f"Demo ticket {index} does not fit before {now}.")


def _play(desk: Desk, *, rng: random.Random, index: int, now: datetime, shift: timedelta) -> Timeline:
    scenario = SCENARIOS[index] if index < len(SCENARIOS) else rng.choices(SCENARIOS, weights=SCENARIO_WEIGHTS)[0]
    dq = rng.choices(desk.queues, weights=[dq.spec.weight for dq in desk.queues])[0]
    topic = rng.choice(SPAM if scenario.spam else dq.spec.topics)
    created = _created_at(rng, now, *scenario.age_hours) - shift
    script = Script(rng=rng, dq=dq, customer=rng.choice(desk.customers), topic=topic, created=created, now=now)
    scenario.play(script)
    return script.timeline


def _created_at(rng: random.Random, now: datetime, low_hours: float, high_hours: float) -> datetime:
    at = now - timedelta(hours=rng.uniform(low_hours, high_hours))
    if high_hours > 48:  # over longer spans: customers write mostly in the (European) daytime
        at = at.replace(hour=0, minute=0, second=0) + timedelta(hours=rng.triangular(5, 21, 10))
    return at.replace(microsecond=0)


# --- writing ---------------------------------------------------------------------------------------------------------

INSERT_BATCH = 1000  # rows per INSERT statement (Django lowers it where the database allows fewer parameters)


@dataclass(frozen=True)
class Written:
    tickets: int
    messages: int
    events: int

    def __add__(self, other: Written) -> Written:
        return Written(self.tickets + other.tickets, self.messages + other.messages, self.events + other.events)


def tickets_create(desk: Desk, *, seed: int, indexes: range, now: datetime, sla_context: SlaContext) -> Written:
    """Build demo tickets `indexes` and insert them, their messages, events and SLA targets in one transaction."""
    timelines = sorted(
        (ticket_build(desk, seed=seed, index=index, now=now) for index in indexes),
        key=lambda timeline: timeline.ticket.created_at,  # references (pks) follow creation within a batch
    )
    messages = [message for timeline in timelines for message in timeline.messages]
    targets = [
        row
        for tl in timelines
        for row in sla_targets_build(ticket=tl.row(), events=tl.events, context=sla_context, now=now)
    ]
    with transaction.atomic():
        Ticket.objects.bulk_create([timeline.row() for timeline in timelines], batch_size=INSERT_BATCH)
        if any(timeline.ticket.pk is None for timeline in timelines):
            raise RuntimeError("bulk_create returned no primary keys: this database is not supported.")
        events = [row for tl in timelines for row in ticket_event_rows(ticket=tl.ticket, events=tl.events)]
        Message.objects.bulk_create(messages, batch_size=INSERT_BATCH)
        TicketEvent.objects.bulk_create(events, batch_size=INSERT_BATCH)
        SlaTarget.objects.bulk_create(targets, batch_size=INSERT_BATCH)
    return Written(tickets=len(timelines), messages=len(messages), events=len(events))
