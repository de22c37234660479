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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .calendar import CalendarSpec, business_seconds_between
from .models import Message, Status, Ticket, TicketEvent

REQUESTER_WAIT_STATUSES = {Status.NEW, Status.OPEN, Status.ON_HOLD}


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


def status_spans(
    *, created_at: datetime, events: Iterable[TicketEvent], until: datetime
) -> list[tuple[str, datetime, datetime]]:
    """(status, start, end) for each stretch of the ticket's life, from its status events, up to `until`."""
    spans = []
    status, since = Status.NEW.value, created_at
    for event in sorted(events, key=lambda e: (e.at, e.pk or 0)):
        if event.kind != TicketEvent.Kind.STATUS:
            continue
        spans.append((status, since, event.at))
        status, since = event.new_value, event.at
    spans.append((status, since, max(until, since)))
    return [span for span in spans if span[2] > span[1]]


def metrics_compute(*, ticket: Ticket, events: Iterable[TicketEvent], now: datetime) -> dict[str, int | None]:
    """The stored metric fields of `ticket` as a dict of field name → value (see module docstring)."""
    events = list(events)
    calendar = CalendarSpec.from_calendar(ticket.queue.business_calendar) if ticket.queue.business_calendar else None
    until = ticket.closed_at if ticket.is_closed and ticket.closed_at else now
    spans = status_spans(created_at=ticket.created_at, events=events, until=until)

    def time_in(statuses: set[str]) -> Duration:
        return _duration(((start, end) for status, start, end in spans if status in statuses), calendar)

    first_reply_at = next(
        (
            e.at
            for e in sorted(events, key=lambda e: e.at)
            if e.kind == TicketEvent.Kind.MESSAGE and e.new_value == Message.Kind.PUBLIC_REPLY
        ),
        None,
    )
    first_reply = _duration([(ticket.created_at, first_reply_at)], calendar) if first_reply_at else None
    resolution = _duration([(ticket.created_at, until)], calendar) if ticket.is_closed else None
    waits = {
        "requester_wait": time_in({s.value for s in REQUESTER_WAIT_STATUSES}),
        "agent_wait": time_in({Status.PENDING.value}),
        "on_hold": time_in({Status.ON_HOLD.value}),
    }
    values: dict[str, int | None] = {
        "reopen_count": sum(1 for e in events if e.kind == TicketEvent.Kind.STATUS and e.old_value == Status.CLOSED),
        "public_reply_count": sum(
            1 for e in events if e.kind == TicketEvent.Kind.MESSAGE and e.new_value == Message.Kind.PUBLIC_REPLY
        ),
    }
    for stem, duration in {"first_reply": first_reply, "resolution": resolution, **waits}.items():
        values[f"{stem}_seconds"] = duration.seconds if duration else None
        values[f"{stem}_business_seconds"] = duration.business_seconds if duration else None
    return values
