"""tickets.transitions without a database: state in, action at a time, (new state, events) out.

No test here takes the db fixture: a query would fail the test, so the rules are proven pure.
"""

import contextlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from common.errors import DomainError
from tickets import transitions as t
from tickets.calendar import CalendarSpec
from tickets.metrics import DURATION_FIELDS
from tickets.models import CloseReason, Message, Priority, Status
from tickets.transitions import STATUS_MOVES, Change, Event, TicketState, UserRef

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)
ANA = UserRef(id=1, username="ana")
BEN = UserRef(id=2, username="ben")
PUBLIC, NOTE = Message.Kind.PUBLIC_REPLY, Message.Kind.INTERNAL_NOTE


@dataclass
class Ticket:
    """A ticket played through the rules in memory: its state and every event so far (the history)."""

    state: TicketState
    events: list[Event] = field(default_factory=list)

    @classmethod
    def created(cls, *, at: datetime = T0, by: UserRef | None = None, assignee: UserRef | None = None) -> "Ticket":
        change = t.create(by=by, at=at, priority=Priority.NORMAL, assignee=assignee)
        return cls(change.state, list(change.events))

    def take(self, change: Change) -> Change:
        self.state = change.state
        self.events.extend(change.events)
        return change

    def reply(self, at: datetime, kind: str = PUBLIC, by: UserRef = ANA) -> Change:
        return self.take(t.agent_message(self.state, kind=kind, by=by, at=at))

    def customer(self, at: datetime, calendar: CalendarSpec | None = None) -> Change:
        return self.take(t.customer_message(self.state, at=at, history=self.events, calendar=calendar))

    def status(self, status: str, at: datetime) -> Change:
        return self.take(t.set_status(self.state, status=status, by=ANA, at=at))

    def close(self, at: datetime, reason: str = CloseReason.SOLVED, calendar: CalendarSpec | None = None) -> Change:
        return self.take(t.close(self.state, reason=reason, by=ANA, at=at, history=self.events, calendar=calendar))

    def reopen(self, at: datetime) -> Change:
        return self.take(t.reopen(self.state, by=ANA, at=at, history=self.events, calendar=None))


def moves(change: Change) -> list[tuple[str, str]]:
    return [(e.old_value, e.new_value) for e in change.events if e.kind == "status"]


def kinds(change: Change) -> list[tuple[str, str, str]]:
    return [(e.kind, e.old_value, e.new_value) for e in change.events]


def refused(message: str):
    return pytest.raises(DomainError, match=f"^{re.escape(message)}$")


# --- create ----------------------------------------------------------------------------------------------------------


def test_create_is_a_new_ticket_with_the_created_and_message_events():
    change = t.create(by=None, at=T0, priority=Priority.HIGH, assignee=None)

    assert change.state == TicketState(created_at=T0, updated_at=T0, status_changed_at=T0, priority=Priority.HIGH)
    assert kinds(change) == [("created", "", ""), ("message", "", "customer_message")]
    assert {e.at for e in change.events} == {T0} and {e.actor for e in change.events} == {None}


def test_create_by_an_agent_with_an_assignee_records_the_assignee_by_username():
    change = t.create(by=ANA, at=T0, priority=Priority.NORMAL, assignee=BEN)

    assert change.state.assignee == BEN
    assert kinds(change)[-1] == ("assignee", "", "ben")
    assert {e.actor for e in change.events} == {ANA}


# --- messages --------------------------------------------------------------------------------------------------------


def test_first_public_reply_opens_a_new_ticket_and_sets_first_replied_at():
    ticket = Ticket.created()

    change = ticket.reply(T0 + HOUR)

    assert kinds(change) == [("message", "", "public_reply"), ("status", "new", "open")]
    assert (ticket.state.status, ticket.state.first_replied_at) == (Status.OPEN, T0 + HOUR)
    assert (ticket.state.public_reply_count, ticket.state.updated_at) == (1, T0 + HOUR)
    assert ticket.state.status_changed_at == T0 + HOUR


def test_later_public_replies_count_but_keep_the_first_reply_time():
    ticket = Ticket.created()
    ticket.reply(T0 + HOUR)

    change = ticket.reply(T0 + 2 * HOUR)

    assert moves(change) == []
    assert (ticket.state.public_reply_count, ticket.state.first_replied_at) == (2, T0 + HOUR)


def test_an_internal_note_is_no_reply_and_moves_nothing():
    ticket = Ticket.created()

    change = ticket.reply(T0 + HOUR, kind=NOTE)

    assert kinds(change) == [("message", "", "internal_note")]
    assert (ticket.state.status, ticket.state.first_replied_at, ticket.state.public_reply_count) == ("new", None, 0)
    assert ticket.state.updated_at == T0 + HOUR


def test_a_closed_ticket_takes_notes_but_refuses_public_replies():
    ticket = Ticket.created()
    ticket.close(T0 + HOUR)

    assert ticket.reply(T0 + 2 * HOUR, kind=NOTE).state.status == Status.CLOSED
    with refused("This ticket is closed: reopen it before replying."):
        ticket.reply(T0 + 3 * HOUR)


def test_customer_message_moves_pending_to_open_and_leaves_other_statuses():
    ticket = Ticket.created()
    assert moves(ticket.customer(T0 + HOUR)) == []  # new stays new
    ticket.status(Status.ON_HOLD, T0 + 2 * HOUR)
    assert moves(ticket.customer(T0 + 3 * HOUR)) == []  # on hold stays on hold
    ticket.status(Status.PENDING, T0 + 4 * HOUR)

    change = ticket.customer(T0 + 5 * HOUR)

    assert kinds(change) == [("message", "", "customer_message"), ("status", "pending", "open")]
    assert {e.actor for e in change.events} == {None}
    assert (ticket.state.status, ticket.state.updated_at) == (Status.OPEN, T0 + 5 * HOUR)


def test_customer_message_reopens_a_closed_ticket_with_metrics_brought_up_to_date():
    ticket = Ticket.created()
    ticket.reply(T0 + HOUR)
    ticket.close(T0 + 3 * HOUR)
    assert ticket.state.resolution_seconds == 3 * 3600

    change = ticket.customer(T0 + 10 * HOUR)

    assert moves(change) == [("closed", "open")]
    state = ticket.state
    assert (state.status, state.close_reason, state.closed_at, state.reopen_count) == ("open", "", None, 1)
    assert (state.resolution_seconds, state.resolution_business_seconds) == (None, None)
    assert state.requester_wait_seconds == 3 * 3600  # the 7 closed hours count in no wait
    assert state.first_reply_seconds == 3600


def test_a_reopening_customer_message_needs_the_history():
    ticket = Ticket.created()
    ticket.close(T0 + HOUR)

    with pytest.raises(ValueError, match="history"):
        t.customer_message(ticket.state, at=T0 + 2 * HOUR, history=None, calendar=None)


# --- assign / priority / status -------------------------------------------------------------------------------------


def test_assign_records_usernames_and_the_current_assignee_is_a_no_op():
    ticket = Ticket.created()

    assert kinds(ticket.take(t.assign(ticket.state, assignee=ANA, by=BEN, at=T0 + HOUR))) == [("assignee", "", "ana")]
    same = t.assign(ticket.state, assignee=UserRef(id=1, username="ana"), by=BEN, at=T0 + 2 * HOUR)
    assert same == Change(ticket.state)  # no events, nothing changed (updated_at included)
    assert kinds(ticket.take(t.assign(ticket.state, assignee=None, by=BEN, at=T0 + 3 * HOUR))) == [
        ("assignee", "ana", "")
    ]
    assert (ticket.state.assignee, ticket.state.updated_at) == (None, T0 + 3 * HOUR)
    assert t.assign(ticket.state, assignee=None, by=BEN, at=T0 + 4 * HOUR) == Change(ticket.state)


def test_set_priority_records_the_change_once_and_refuses_unknown_priorities():
    ticket = Ticket.created()

    change = ticket.take(t.set_priority(ticket.state, priority=Priority.URGENT, by=ANA, at=T0 + HOUR))

    assert kinds(change) == [("priority", "normal", "urgent")]
    assert t.set_priority(ticket.state, priority=Priority.URGENT, by=ANA, at=T0 + 2 * HOUR) == Change(ticket.state)
    with refused("Unknown priority 'critical'."):
        t.set_priority(ticket.state, priority="critical", by=ANA, at=T0 + 2 * HOUR)


def test_set_status_walks_between_open_pending_and_on_hold():
    ticket = Ticket.created()

    walked = [moves(ticket.status(s, T0 + i * HOUR)) for i, s in enumerate(("pending", "on_hold", "open", "open"), 1)]

    assert walked == [[("new", "pending")], [("pending", "on_hold")], [("on_hold", "open")], []]
    assert ticket.state.status_changed_at == T0 + 3 * HOUR  # the repeated "open" changed nothing


@pytest.mark.parametrize(
    ("closed", "target", "message"),
    [
        (False, Status.CLOSED, "Close a ticket with a close reason (use close, not set status)."),
        (False, "new", "A ticket cannot be set to 'new'."),
        (True, Status.OPEN, "This ticket is closed: reopen it first."),
        (True, Status.PENDING, "This ticket is closed: reopen it first."),
    ],
)
def test_set_status_refusals(closed, target, message):
    ticket = Ticket.created()
    if closed:
        ticket.close(T0 + HOUR)

    with refused(message):
        ticket.status(target, T0 + 2 * HOUR)


# --- close / reopen --------------------------------------------------------------------------------------------------


def test_close_stores_reason_time_and_metrics():
    ticket = Ticket.created()
    ticket.reply(T0 + 2 * HOUR)
    ticket.status(Status.PENDING, T0 + 3 * HOUR)
    ticket.customer(T0 + 8 * HOUR)

    change = ticket.close(T0 + 10 * HOUR, reason=CloseReason.DUPLICATE)

    state = ticket.state
    assert moves(change) == [("open", "closed")]
    assert (state.status, state.close_reason, state.closed_at) == ("closed", "duplicate", T0 + 10 * HOUR)
    assert (state.first_reply_seconds, state.resolution_seconds) == (2 * 3600, 10 * 3600)
    assert (state.requester_wait_seconds, state.agent_wait_seconds, state.on_hold_seconds) == (5 * 3600, 5 * 3600, 0)
    assert state.first_reply_business_seconds == 2 * 3600  # no calendar: 24/7
    assert (state.reopen_count, state.public_reply_count) == (0, 1)


def test_close_measures_business_time_in_the_calendar_given():
    berlin = CalendarSpec(zone=ZoneInfo("Europe/Berlin"), hours={day: ((time(9), time(17)),) for day in range(5)})
    ticket = Ticket.created(at=datetime(2026, 6, 5, 14, tzinfo=UTC))  # Friday 16:00 in Berlin

    ticket.close(datetime(2026, 6, 8, 8, tzinfo=UTC), calendar=berlin)  # Monday 10:00 in Berlin

    assert ticket.state.resolution_seconds == 66 * 3600
    assert ticket.state.resolution_business_seconds == 2 * 3600  # Friday 16–17, Monday 9–10


def test_closing_a_closed_ticket_is_a_no_op_and_unknown_reasons_are_refused():
    ticket = Ticket.created()
    ticket.close(T0 + HOUR)

    assert ticket.close(T0 + 2 * HOUR, reason=CloseReason.SPAM) == Change(ticket.state)
    assert ticket.state.close_reason == CloseReason.SOLVED
    with refused("Unknown close reason 'fixed'."):
        ticket.close(T0 + 3 * HOUR, reason="fixed")


def test_reopen_brings_the_metrics_up_to_date_and_is_a_no_op_unless_closed():
    ticket = Ticket.created()
    assert ticket.reopen(T0 + HOUR) == Change(ticket.state)
    ticket.close(T0 + HOUR)

    change = ticket.reopen(T0 + 5 * HOUR)

    state = ticket.state
    assert kinds(change) == [("status", "closed", "open")] and change.events[0].actor == ANA
    assert (state.status, state.close_reason, state.closed_at, state.reopen_count) == ("open", "", None, 1)
    assert (state.resolution_seconds, state.requester_wait_seconds) == (None, 3600)
    ticket.close(T0 + 7 * HOUR)
    assert (ticket.state.resolution_seconds, ticket.state.requester_wait_seconds) == (7 * 3600, 3 * 3600)
    assert ticket.state.reopen_count == 1


def test_metrics_are_only_set_by_close_and_reopen():
    ticket = Ticket.created()
    ticket.reply(T0 + HOUR)
    ticket.status(Status.PENDING, T0 + 2 * HOUR)

    assert all(getattr(ticket.state, name) is None for name in DURATION_FIELDS)


# --- the status graph ----------------------------------------------------------------------------------------------


def test_status_moves_start_at_new_never_return_to_it_and_a_closed_ticket_only_reopens():
    assert set(STATUS_MOVES) == set(Status.values)
    assert all(Status.NEW not in targets for targets in STATUS_MOVES.values())
    assert STATUS_MOVES[Status.CLOSED] == {Status.OPEN}
    assert all(status not in targets for status, targets in STATUS_MOVES.items())


def random_step(ticket: Ticket, rng: random.Random, at: datetime) -> None:
    """One action drawn at random, with values that may be refused."""
    match rng.randrange(6):
        case 0:
            ticket.reply(at, kind=rng.choice((PUBLIC, NOTE)))
        case 1:
            ticket.customer(at)
        case 2:
            ticket.status(rng.choice(Status.values), at)
        case 3:
            ticket.close(at, reason=rng.choice(CloseReason.values))
        case 4:
            ticket.reopen(at)
        case _:
            ticket.take(t.assign(ticket.state, assignee=rng.choice((ANA, BEN, None)), by=ANA, at=at))


def test_random_plays_only_make_allowed_moves_and_only_refuse_with_domain_errors():
    rng = random.Random(7)
    for _ in range(200):
        ticket, at = Ticket.created(), T0
        for _ in range(12):
            at += timedelta(minutes=rng.randint(1, 600))
            with contextlib.suppress(DomainError):
                random_step(ticket, rng, at)
        status = Status.NEW
        for event in ticket.events:
            if event.kind == "status":
                assert event.old_value == status and event.new_value in STATUS_MOVES[status]
                status = event.new_value
        assert status == ticket.state.status
        assert ticket.state.public_reply_count == sum(e.new_value == PUBLIC for e in ticket.events)
