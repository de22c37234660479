"""The ticket's rules as pure functions: no database, no clock.

Each function takes the ticket's current `TicketState`, the action's values (who acts, with what) and the time it
happens, and returns a `Change`: the new state and the ticket events the action produces, in order. A refusal raises
DomainError; a no-op (assigning the current assignee, the same priority, closing a closed ticket…) returns the state
unchanged and no events. Close and reopen (also a customer message that reopens) store the metrics in the new state,
computed from the ticket's earlier events (`history`) and the queue's calendar, so no caller can forget them.

tickets.services applies a Change to the locked row and writes its events; demo.tickets plays demo tickets with the
same functions at backdated times. STATUS_MOVES is the status graph the functions follow (checked against stored
histories by the demo invariant tests).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from common.errors import DomainError

from .calendar import CalendarSpec
from .metrics import EventLike, metrics_compute
from .models import CloseReason, Message, Priority, Status, TicketEvent

NEW, OPEN, PENDING, ON_HOLD, CLOSED = (s.value for s in Status)

SETTABLE_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD)  # what set_status may choose

# status → the statuses it may move to. A ticket starts new and never goes back to it.
STATUS_MOVES: Mapping[str, frozenset[str]] = {
    NEW: frozenset({OPEN, PENDING, ON_HOLD, CLOSED}),  # first public reply or set_status: open; close
    OPEN: frozenset({PENDING, ON_HOLD, CLOSED}),
    PENDING: frozenset({OPEN, ON_HOLD, CLOSED}),  # a customer message or set_status: open
    ON_HOLD: frozenset({OPEN, PENDING, CLOSED}),
    CLOSED: frozenset({OPEN}),  # reopen, or a customer message
}


@dataclass(frozen=True, slots=True)
class UserRef:
    """An agent or admin, as the rules see them: the id for the rows, the username for the events' values."""

    id: int
    username: str


@dataclass(frozen=True, slots=True)
class Event:
    """A ticket event to write (TicketEvent's fields). The created event's value, the ticket's reference, needs the
    primary key: it is empty here and the writer fills it in (tickets.replay.ticket_event_rows)."""

    kind: str
    at: datetime
    actor: UserRef | None
    old_value: str = ""
    new_value: str = ""


@dataclass(frozen=True, slots=True)
class TicketState:
    """What the rules read and change of a ticket; the names are the Ticket fields (`assignee` aside)."""

    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    status: str = NEW
    close_reason: str = ""
    priority: str = Priority.NORMAL.value
    assignee: UserRef | None = None
    first_replied_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    public_reply_count: int = 0
    first_reply_seconds: int | None = None
    first_reply_business_seconds: int | None = None
    resolution_seconds: int | None = None
    resolution_business_seconds: int | None = None
    requester_wait_seconds: int | None = None
    requester_wait_business_seconds: int | None = None
    agent_wait_seconds: int | None = None
    agent_wait_business_seconds: int | None = None
    on_hold_seconds: int | None = None
    on_hold_business_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """The state after an action and the events it produced; no events means nothing changed."""

    state: TicketState
    events: tuple[Event, ...] = ()


# --- refusals that need no ticket (services check these before taking the row lock) --------------------------------


def check_priority(priority: str) -> None:
    if priority not in Priority.values:
        raise DomainError(f"Unknown priority {priority!r}.")


def check_settable_status(status: str) -> None:
    if status not in SETTABLE_STATUSES:
        if status == CLOSED:
            raise DomainError("Close a ticket with a close reason (use close, not set status).")
        raise DomainError(f"A ticket cannot be set to {status!r}.")


def check_close_reason(reason: str) -> None:
    if reason not in CloseReason.values:
        raise DomainError(f"Unknown close reason {reason!r}.")


# --- actions ---------------------------------------------------------------------------------------------------------


def create(*, by: UserRef | None, at: datetime, priority: str, assignee: UserRef | None) -> Change:
    """A new ticket with the customer's first message (`by`: the agent entering it, None when the customer did)."""
    state = TicketState(created_at=at, updated_at=at, status_changed_at=at, priority=priority, assignee=assignee)
    events = [
        Event(TicketEvent.Kind.CREATED, at, by),
        Event(TicketEvent.Kind.MESSAGE, at, by, new_value=Message.Kind.CUSTOMER_MESSAGE),
    ]
    if assignee is not None:
        events.append(Event(TicketEvent.Kind.ASSIGNEE, at, by, new_value=assignee.username))
    return Change(state, tuple(events))


def customer_message(
    state: TicketState,
    *,
    at: datetime,
    history: Sequence[EventLike] | None,
    calendar: CalendarSpec | None,
    reopen: bool = True,
) -> Change:
    """The customer writes: a pending ticket moves to open, a closed one is reopened (metrics brought up to date)
    unless `reopen` is False (a reply to a survey email: the message is kept, the ticket stays closed).

    `history` (the ticket's events so far) and `calendar` are read only to reopen: None is allowed when the ticket
    is not closed."""
    message = Event(TicketEvent.Kind.MESSAGE, at, None, new_value=Message.Kind.CUSTOMER_MESSAGE)
    if state.status == CLOSED and not reopen:
        return Change(replace(state, updated_at=at), (message,))
    if state.status == CLOSED:
        if history is None:
            raise ValueError("Reopening needs the ticket's history.")
        return _reopened(state, by=None, at=at, history=history, calendar=calendar, before=(message,))
    if state.status == PENDING:
        return _moved(state, OPEN, by=None, at=at, before=(message,))
    return Change(replace(state, updated_at=at), (message,))


def agent_message(state: TicketState, *, kind: str, by: UserRef, at: datetime) -> Change:
    """A public reply or an internal note. The first public reply sets first_replied_at and opens a new ticket;
    a closed ticket takes internal notes only."""
    if kind not in (Message.Kind.PUBLIC_REPLY, Message.Kind.INTERNAL_NOTE):
        raise ValueError(f"Not an agent's message kind: {kind!r}.")
    if kind == Message.Kind.PUBLIC_REPLY and state.status == CLOSED:
        raise DomainError("This ticket is closed: reopen it before replying.")
    message = Event(TicketEvent.Kind.MESSAGE, at, by, new_value=kind)
    if kind == Message.Kind.INTERNAL_NOTE:
        return Change(replace(state, updated_at=at), (message,))
    state = replace(
        state,
        public_reply_count=state.public_reply_count + 1,
        first_replied_at=state.first_replied_at or at,
        updated_at=at,
    )
    if state.status == NEW:
        return _moved(state, OPEN, by=by, at=at, before=(message,))
    return Change(state, (message,))


def assign(state: TicketState, *, assignee: UserRef | None, by: UserRef | None, at: datetime) -> Change:
    """Assign (None: unassign). The event stores usernames. Assigning the current assignee is a no-op."""
    if (assignee.id if assignee else None) == (state.assignee.id if state.assignee else None):
        return Change(state)
    event = Event(
        TicketEvent.Kind.ASSIGNEE,
        at,
        by,
        old_value=state.assignee.username if state.assignee else "",
        new_value=assignee.username if assignee else "",
    )
    return Change(replace(state, assignee=assignee, updated_at=at), (event,))


def set_priority(state: TicketState, *, priority: str, by: UserRef | None, at: datetime) -> Change:
    check_priority(priority)
    if priority == state.priority:
        return Change(state)
    event = Event(TicketEvent.Kind.PRIORITY, at, by, old_value=state.priority, new_value=priority)
    return Change(replace(state, priority=priority, updated_at=at), (event,))


def set_status(state: TicketState, *, status: str, by: UserRef | None, at: datetime) -> Change:
    """Move a ticket that is not closed between open, pending and on hold (closing and reopening are their own)."""
    check_settable_status(status)
    if state.status == CLOSED:
        raise DomainError("This ticket is closed: reopen it first.")
    if state.status == status:
        return Change(state)
    return _moved(state, status, by=by, at=at)


def close(
    state: TicketState,
    *,
    reason: str,
    by: UserRef | None,
    at: datetime,
    history: Sequence[EventLike],
    calendar: CalendarSpec | None,
) -> Change:
    """Close with a reason; the metrics are stored. Closing a closed ticket is a no-op (a double submit)."""
    check_close_reason(reason)
    if state.status == CLOSED:
        return Change(state)
    moved = _moved(state, CLOSED, by=by, at=at)
    state = replace(moved.state, close_reason=reason, closed_at=at)
    return _with_metrics(state, moved.events, history=history, calendar=calendar, now=at)


def reopen(
    state: TicketState, *, by: UserRef | None, at: datetime, history: Sequence[EventLike], calendar: CalendarSpec | None
) -> Change:
    """Reopen a closed ticket (open); metrics brought up to date. Reopening a ticket not closed is a no-op."""
    if state.status != CLOSED:
        return Change(state)
    return _reopened(state, by=by, at=at, history=history, calendar=calendar)


# --- helpers ---------------------------------------------------------------------------------------------------------


def _moved(
    state: TicketState, status: str, *, by: UserRef | None, at: datetime, before: tuple[Event, ...] = ()
) -> Change:
    """`before` then the status event; every status change of the rules goes through here."""
    if status not in STATUS_MOVES[state.status]:
        raise DomainError(f"A ticket cannot move from {state.status} to {status}.")
    event = Event(TicketEvent.Kind.STATUS, at, by, old_value=state.status, new_value=status)
    return Change(replace(state, status=status, status_changed_at=at, updated_at=at), (*before, event))


def _reopened(
    state: TicketState,
    *,
    by: UserRef | None,
    at: datetime,
    history: Sequence[EventLike],
    calendar: CalendarSpec | None,
    before: tuple[Event, ...] = (),
) -> Change:
    moved = _moved(state, OPEN, by=by, at=at, before=before)
    state = replace(moved.state, close_reason="", closed_at=None)
    # Resolution becomes unknown again; waits and reopens are brought up to date.
    return _with_metrics(state, moved.events, history=history, calendar=calendar, now=at)


def _with_metrics(
    state: TicketState,
    events: tuple[Event, ...],
    *,
    history: Sequence[EventLike],
    calendar: CalendarSpec | None,
    now: datetime,
) -> Change:
    metrics = metrics_compute(
        created_at=state.created_at,
        closed_at=state.closed_at,
        events=[*history, *events],
        now=now,
        calendar=calendar,
    )
    return Change(replace(state, **metrics), events)  # type: ignore[arg-type]  # metrics: field name → value
