"""SLA clocks: pure rules, from the ticket's event log (no database, no clock of their own).

Three clocks per ticket (README "SLA policies"):
- first reply: from creation to the first public reply;
- next reply: from the first customer message that has no public reply after it (once the first-reply clock has
  stopped: at a reply, or at a close) to the next public reply — one clock per such wait; a customer message on a
  closed ticket starts one only if it reopens the ticket;
- resolution: from creation to close, paused while pending or on hold when the policy says so, and while closed;
  a reopen resumes it (the next close settles it again).
A reply clock still running when the ticket is closed stops there without a result. Elapsed time is counted in the
business hours of the queue's calendar or in calendar time (the policy's choice), so a due time is the instant the
clock's running spans reach the target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..calendar import CalendarSpec, add_business_seconds, business_seconds_between
from ..metrics import EventLike
from ..models import CloseReason, Message, SlaTarget, Status, TicketEvent

FIRST_REPLY, NEXT_REPLY, RESOLUTION = "first_reply", "next_reply", "resolution"
KINDS = (FIRST_REPLY, NEXT_REPLY, RESOLUTION)
WAITING = frozenset({Status.PENDING.value, Status.ON_HOLD.value})
EXCLUDED_CLOSES = frozenset({CloseReason.SPAM.value, CloseReason.DUPLICATE.value})

MET, BREACHED, EXCLUDED = SlaTarget.Result.MET, SlaTarget.Result.BREACHED, SlaTarget.Result.EXCLUDED


@dataclass
class Clock:
    """One clock of a ticket: when it started, its running spans (the last one open while it runs), and when it
    stopped for good (None while it runs or is paused). `unanswered`: a reply clock stopped by a close."""

    kind: str
    started_at: datetime
    spans: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    stopped_at: datetime | None = None
    unanswered: bool = False

    @property
    def running(self) -> bool:
        return bool(self.spans) and self.spans[-1][1] is None

    def pause(self, at: datetime) -> None:
        if self.running:
            self.spans[-1] = (self.spans[-1][0], at)

    def resume(self, at: datetime) -> None:
        if not self.running:
            self.spans.append((at, None))

    def stop(self, at: datetime, *, unanswered: bool = False) -> None:
        self.pause(at)
        self.stopped_at, self.unanswered = at, unanswered


class _Replay:
    """The clocks of one ticket, moved event by event (clocks() below)."""

    def __init__(self, created_at: datetime, *, pause_while_waiting: bool) -> None:
        self.first = Clock(FIRST_REPLY, created_at, [(created_at, None)])
        self.resolution = Clock(RESOLUTION, created_at, [(created_at, None)])
        self.result = [self.first, self.resolution]
        self.next_reply: Clock | None = None
        self.waiting_message: datetime | None = None  # the last customer message on the closed ticket
        self.status = Status.NEW.value
        self.pause_while_waiting = pause_while_waiting

    def _wait_starts(self, at: datetime) -> None:
        self.next_reply = Clock(NEXT_REPLY, at, [(at, None)])
        self.result.append(self.next_reply)

    def public_reply(self, at: datetime) -> None:
        for clock in (self.first, self.next_reply):
            if clock is not None and clock.stopped_at is None:
                clock.stop(at)

    def customer_message(self, at: datetime) -> None:
        if self.status == Status.CLOSED:
            self.waiting_message = at
        elif self.first.stopped_at is not None and (self.next_reply is None or self.next_reply.stopped_at is not None):
            self._wait_starts(at)

    def status_change(self, at: datetime, *, old: str, new: str) -> None:
        self.status = new
        pausing = self.pause_while_waiting
        if new == Status.CLOSED:
            self.resolution.stop(at)
            for clock in (self.first, self.next_reply):
                if clock is not None and clock.stopped_at is None:
                    clock.stop(at, unanswered=True)
        elif old == Status.CLOSED:  # reopened: the resolution clock runs again
            self.resolution.stopped_at = None
            if not (pausing and new in WAITING):
                self.resolution.resume(at)
            # The customer's message that reopened it (the same instant) waits for a reply; one kept with the
            # closed ticket earlier (a survey reply) does not start a wait when an agent reopens it later.
            if self.waiting_message == at:
                self._wait_starts(at)
        elif pausing and new in WAITING:
            self.resolution.pause(at)
        elif pausing and old in WAITING:
            self.resolution.resume(at)
        self.waiting_message = None


def clocks(*, created_at: datetime, events: Iterable[EventLike], pause_while_waiting: bool) -> list[Clock]:
    """The ticket's clocks from its events (in the order they happened)."""
    replay = _Replay(created_at, pause_while_waiting=pause_while_waiting)
    for event in sorted(events, key=lambda e: e.at):
        if event.kind == TicketEvent.Kind.MESSAGE and event.new_value == Message.Kind.PUBLIC_REPLY:
            replay.public_reply(event.at)
        elif event.kind == TicketEvent.Kind.MESSAGE and event.new_value == Message.Kind.CUSTOMER_MESSAGE:
            replay.customer_message(event.at)
        elif event.kind == TicketEvent.Kind.STATUS:
            replay.status_change(event.at, old=event.old_value, new=event.new_value)
    return replay.result


def _span_seconds(start: datetime, end: datetime, calendar: CalendarSpec | None) -> int:
    return business_seconds_between(start, end, calendar)


def elapsed(clock: Clock, *, now: datetime, calendar: CalendarSpec | None) -> int:
    """Seconds the clock has run up to `now` (business seconds when a calendar is given)."""
    return sum(_span_seconds(start, end or now, calendar) for start, end in clock.spans)


def reached_at(clock: Clock, seconds: int, *, calendar: CalendarSpec | None) -> datetime | None:
    """The instant the clock's running time reaches `seconds`: in a past span, or ahead in the open one; None when
    it is paused or stopped short of it."""
    total = 0
    for start, end in clock.spans:
        span = _span_seconds(start, end, calendar) if end is not None else None
        if span is None or total + span >= seconds:
            return add_business_seconds(start, seconds - total, calendar)
        total += span
    return None


@dataclass(frozen=True)
class Outcome:
    """A clock against its target: due and warning instants (None when paused or stopped short of them), and the
    result once it stopped (met, breached, or excluded: closed as spam or duplicate, whatever its time, or a reply
    clock a close stopped before its target)."""

    due_at: datetime | None
    warn_at: datetime | None
    elapsed_seconds: int
    result: SlaTarget.Result  # OPEN ("") while it runs or is paused


def outcome(
    clock: Clock,
    *,
    target_seconds: int,
    warn_percent: int,
    now: datetime,
    calendar: CalendarSpec | None,
    close_reason: str,
) -> Outcome:
    spent = elapsed(clock, now=now, calendar=calendar)
    if clock.stopped_at is not None:
        return settled(clock, elapsed_seconds=spent, target_seconds=target_seconds, close_reason=close_reason)
    due_at = reached_at(clock, target_seconds, calendar=calendar)
    warn_at = reached_at(clock, target_seconds * warn_percent // 100, calendar=calendar)
    return Outcome(due_at=due_at, warn_at=warn_at, elapsed_seconds=spent, result=SlaTarget.Result.OPEN)


def settled(clock: Clock, *, elapsed_seconds: int, target_seconds: int, close_reason: str) -> Outcome:
    """A stopped clock's result from its elapsed time. The services pass the time stored when it settled while it
    stays stopped there, so a later move, policy or calendar edit does not change it; its exclusion can change (a
    close as spam or duplicate after it, undone by a reopen)."""
    if close_reason in EXCLUDED_CLOSES:
        result = EXCLUDED
    elif elapsed_seconds > target_seconds:
        result = BREACHED  # whatever stopped it: a breach stands
    else:
        result = EXCLUDED if clock.unanswered else MET
    return Outcome(due_at=None, warn_at=None, elapsed_seconds=elapsed_seconds, result=result)


def nearest_due(outcomes: Sequence[Outcome]) -> datetime | None:
    """The ticket's nearest due time: of its clocks still running (what the list shows and sorts by)."""
    dues = [o.due_at for o in outcomes if o.result == "" and o.due_at is not None]
    return min(dues, default=None)
