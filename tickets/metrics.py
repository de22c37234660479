"""Resolution metrics derived from a ticket's events (never from its current fields alone).

Definitions (the usual helpdesk ones, e.g. Zendesk's):
- first reply time: created → first public agent reply
- full resolution time: created → the latest close (None while the ticket is not closed)
- requester wait time: time spent new, open or on hold (the customer is waiting on us)
- agent wait time: time spent pending (we are waiting on the customer)
- on-hold time: time spent on hold (waiting on a third party)
- reopens and public replies: counted from the status and message events
Time in the closed status (between a close and a reopen) counts in none of the waits.
Each is measured in calendar seconds and in business seconds of the queue's calendar.

Pure: everything comes in as arguments (no query, no clock). tickets.transitions stores them on close and reopen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .calendar import CalendarSpec, business_seconds_between
from .models import METRIC_STEMS, Message, Status, TicketEvent

REQUESTER_WAIT_STATUSES = {Status.NEW, Status.OPEN, Status.ON_HOLD}
# The stored duration fields: <stem>_seconds and <stem>_business_seconds for each stem.
DURATION_FIELDS = tuple(f"{stem}_{unit}" for stem, _ in METRIC_STEMS for unit in ("seconds", "business_seconds"))


class EventLike(Protocol):
    """What the metrics read of an event: a stored TicketEvent or an unsaved tickets.transitions.Event."""

    @property
    def kind(self) -> str: ...
    @property
    def old_value(self) -> str: ...
    @property
    def new_value(self) -> str: ...
    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True)
class Duration:
    seconds: int
    business_seconds: int


def _duration(spans: Iterable[tuple[datetime, datetime]], calendar: CalendarSpec | None) -> Duration:
    spans = list(spans)
    return Duration(
        seconds=int(sum((end - start).total_seconds() for start, end in spans)),
        business_seconds=sum(business_seconds_between(start, end, calendar) for start, end in spans),
    )


def _by_time(events: Iterable[EventLike]) -> list[EventLike]:
    # A stable sort: events at the same instant keep the order given (ticket.events is ordered by time, then id).
    return sorted(events, key=lambda e: e.at)


def status_spans(
    *, created_at: datetime, events: Iterable[EventLike], until: datetime
) -> list[tuple[str, datetime, datetime]]:
    """(status, start, end) for each stretch of the ticket's life, from its status events, up to `until`."""
    spans = []
    status, since = Status.NEW.value, created_at
    for event in _by_time(events):
        if event.kind != TicketEvent.Kind.STATUS:
            continue
        spans.append((status, since, event.at))
        status, since = event.new_value, event.at
    spans.append((status, since, max(until, since)))
    return [span for span in spans if span[2] > span[1]]


def _is_public_reply(event: EventLike) -> bool:
    return event.kind == TicketEvent.Kind.MESSAGE and event.new_value == Message.Kind.PUBLIC_REPLY


def metrics_compute(
    *,
    created_at: datetime,
    closed_at: datetime | None,
    events: Iterable[EventLike],
    now: datetime,
    calendar: CalendarSpec | None,
) -> dict[str, int | None]:
    """The stored metric fields as a dict of field name → value (see module docstring).

    `events` are the ticket's events in the order they happened; `closed_at` is None while the ticket is not closed
    (then the waits run up to `now`); `calendar` is the queue's business calendar, None for 24/7.
    """
    events = _by_time(events)
    until = closed_at or now
    spans = status_spans(created_at=created_at, events=events, until=until)

    def time_in(statuses: set[str]) -> Duration:
        return _duration(((start, end) for status, start, end in spans if status in statuses), calendar)

    first_reply_at = next((e.at for e in events if _is_public_reply(e)), None)
    first_reply = _duration([(created_at, first_reply_at)], calendar) if first_reply_at else None
    resolution = _duration([(created_at, until)], calendar) if closed_at else None
    waits = {
        "requester_wait": time_in({s.value for s in REQUESTER_WAIT_STATUSES}),
        "agent_wait": time_in({Status.PENDING.value}),
        "on_hold": time_in({Status.ON_HOLD.value}),
    }
    values: dict[str, int | None] = {
        "reopen_count": sum(1 for e in events if e.kind == TicketEvent.Kind.STATUS and e.old_value == Status.CLOSED),
        "public_reply_count": sum(1 for e in events if _is_public_reply(e)),
    }
    for stem, duration in {"first_reply": first_reply, "resolution": resolution, **waits}.items():
        values[f"{stem}_seconds"] = duration.seconds if duration else None
        values[f"{stem}_business_seconds"] = duration.business_seconds if duration else None
    return values
