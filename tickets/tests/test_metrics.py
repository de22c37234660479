"""Stored resolution metrics, produced by the real ticket services under a moving clock (time_machine).

Every expected number is worked out by hand in the comments. Calendar dates: 2026-06-01 is a Monday; the Berlin
calendar is CalendarFactory's Mon–Fri 09:00–17:00 Europe/Berlin (CEST, UTC+2 all June).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tickets import services
from tickets.calendar import CalendarSpec
from tickets.metrics import metrics_compute
from tickets.models import METRIC_STEMS, CloseReason, Message, Status, Ticket
from tickets.tests.factories import CalendarFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
METRIC_FIELDS = [
    *(f"{stem}_{unit}" for stem, _ in METRIC_STEMS for unit in ("seconds", "business_seconds")),
    "reopen_count",
    "public_reply_count",
]


def berlin(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def expected(
    *,
    first_reply: tuple[int, int] | int | None,
    resolution: tuple[int, int] | int | None,
    requester_wait: tuple[int, int] | int,
    agent_wait: tuple[int, int] | int,
    on_hold: tuple[int, int] | int,
    reopen_count: int,
    public_reply_count: int,
) -> dict[str, int | None]:
    """The stored metric fields; a duration is (calendar, business) seconds, one int when both are equal (24/7)."""
    values: dict[str, int | None] = {"reopen_count": reopen_count, "public_reply_count": public_reply_count}
    durations = {
        "first_reply": first_reply,
        "resolution": resolution,
        "requester_wait": requester_wait,
        "agent_wait": agent_wait,
        "on_hold": on_hold,
    }
    for stem, duration in durations.items():
        calendar, business = duration if isinstance(duration, tuple) else (duration, duration)
        values[f"{stem}_seconds"], values[f"{stem}_business_seconds"] = calendar, business
    assert set(values) == set(METRIC_FIELDS)
    return values


def stored(ticket: Ticket) -> dict[str, int | None]:
    ticket.refresh_from_db()
    return {name: getattr(ticket, name) for name in METRIC_FIELDS}


def create(queue, customer) -> Ticket:
    return services.ticket_create(queue=queue, customer=customer, subject="Printer on fire", body="Help!", by=None)


def reply(ticket: Ticket, agent) -> None:
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="On it.", by=agent)


def note(ticket: Ticket, agent) -> None:
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Internal.", by=agent)


def customer_writes(ticket: Ticket, customer) -> None:
    services.message_add(
        ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body="Still broken.", customer=customer
    )


def set_status(ticket: Ticket, status: Status, agent) -> None:
    services.ticket_set_status(ticket_id=ticket.pk, status=status, by=agent)


def close(ticket: Ticket, agent, reason: CloseReason = CloseReason.SOLVED) -> None:
    services.ticket_close(ticket_id=ticket.pk, reason=reason, by=agent)


@pytest.fixture
def berlin_queue(db):
    return QueueFactory(business_calendar=CalendarFactory())


@pytest.fixture
def berlin_agent(berlin_queue):
    return MembershipFactory(queue=berlin_queue).user


# --- a walk through every status --------------------------------------------------------------------------------------


def test_walk_through_every_status_on_a_24_7_queue(queue, agent, customer):
    t0 = datetime(2026, 6, 1, 8, tzinfo=UTC)
    with time_machine.travel(t0, tick=False) as clock:
        # given a ticket created at T0 (new) on a queue without a calendar
        ticket = create(queue, customer)
        clock.shift(timedelta(hours=1))
        note(ticket, agent)  # T0+1h: an internal note is not a reply; still new
        clock.shift(timedelta(hours=1))
        reply(ticket, agent)  # T0+2h: first public reply, new → open (new lasted 2h)
        clock.shift(timedelta(hours=3))
        set_status(ticket, Status.PENDING, agent)  # T0+5h: open 3h
        clock.shift(timedelta(hours=5))
        customer_writes(ticket, customer)  # T0+10h: pending → open (pending lasted 5h)
        clock.shift(timedelta(hours=1))
        set_status(ticket, Status.ON_HOLD, agent)  # T0+11h: open 1h
        clock.shift(timedelta(hours=4))
        set_status(ticket, Status.OPEN, agent)  # T0+15h: on hold 4h
        clock.shift(timedelta(hours=2))
        reply(ticket, agent)  # T0+17h: second public reply
        clock.shift(timedelta(hours=1))
        # (nothing is stored before the close)
        assert all(value is None for name, value in stored(ticket).items() if name.endswith("seconds"))

        # when it is closed at T0+18h (open since T0+15h: 3h)
        close(ticket, agent)

    # then first reply 2h; resolution 18h; requester wait = new 2h + open (3h + 1h + 3h) + on hold 4h = 13h;
    # agent wait = pending 5h; on hold 4h; 13h + 5h = 18h = resolution. 24/7: business = calendar seconds.
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.first_replied_at == t0 + timedelta(hours=2)
    assert ticket.closed_at == t0 + timedelta(hours=18)
    assert stored(ticket) == expected(
        first_reply=2 * HOUR,
        resolution=18 * HOUR,
        requester_wait=13 * HOUR,
        agent_wait=5 * HOUR,
        on_hold=4 * HOUR,
        reopen_count=0,
        public_reply_count=2,
    )


def test_walk_through_every_status_on_a_berlin_9_to_5_queue_across_a_night_and_a_weekend(
    berlin_queue, berlin_agent, customer
):
    agent = berlin_agent
    with time_machine.travel(berlin(6, 11, 16), tick=False) as clock:
        # given a ticket created Thu 11 June 16:00 Berlin (new)
        ticket = create(berlin_queue, customer)
        clock.move_to(berlin(6, 12, 9, 30))
        note(ticket, agent)  # Fri 09:30: internal note, not a reply
        clock.move_to(berlin(6, 12, 10))
        reply(ticket, agent)  # Fri 10:00: first reply, → open
        clock.move_to(berlin(6, 12, 12))
        set_status(ticket, Status.PENDING, agent)  # Fri 12:00
        clock.move_to(berlin(6, 15, 11))
        customer_writes(ticket, customer)  # Mon 15 June 11:00: → open
        clock.move_to(berlin(6, 15, 15))
        set_status(ticket, Status.ON_HOLD, agent)  # Mon 15:00
        clock.move_to(berlin(6, 16, 10))
        set_status(ticket, Status.OPEN, agent)  # Tue 16 June 10:00

        # when it is closed Tue 20:00 (after hours)
        clock.move_to(berlin(6, 16, 20))
        close(ticket, agent)

    # then, stretch by stretch (calendar / business):
    #   new      Thu 16:00 → Fri 10:00   18h / Thu 16–17 1h + Fri 09–10 1h            =  2h
    #   open     Fri 10:00 → Fri 12:00    2h / 2h
    #   pending  Fri 12:00 → Mon 11:00   71h / Fri 12–17 5h + weekend 0 + Mon 09–11 2h =  7h
    #   open     Mon 11:00 → Mon 15:00    4h / 4h
    #   on hold  Mon 15:00 → Tue 10:00   19h / Mon 15–17 2h + Tue 09–10 1h            =  3h
    #   open     Tue 10:00 → Tue 20:00   10h / Tue 10–17                              =  7h
    # first reply = new = 18h / 2h
    # resolution  = Thu 16:00 → Tue 20:00 = 124h / Thu 1h + Fri 8h + Mon 8h + Tue 8h = 25h
    # requester wait = 18 + 2 + 4 + 19 + 10 = 53h / 2 + 2 + 4 + 3 + 7 = 18h (+ pending 71h / 7h = 124h / 25h)
    assert stored(ticket) == expected(
        first_reply=(18 * HOUR, 2 * HOUR),
        resolution=(124 * HOUR, 25 * HOUR),
        requester_wait=(53 * HOUR, 18 * HOUR),
        agent_wait=(71 * HOUR, 7 * HOUR),
        on_hold=(19 * HOUR, 3 * HOUR),
        reopen_count=0,
        public_reply_count=1,
    )


def test_closing_again_later_changes_no_metric(queue, agent, customer):
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False) as clock:
        # given a ticket replied to after 1h and closed after 2h
        ticket = create(queue, customer)
        clock.shift(timedelta(hours=1))
        reply(ticket, agent)
        clock.shift(timedelta(hours=1))
        close(ticket, agent)
        before = stored(ticket)

        # when a second close (a double submit) arrives 5h later
        clock.shift(timedelta(hours=5))
        close(ticket, agent, reason=CloseReason.DUPLICATE)

    # then nothing is recomputed: resolution stays 2h, the reason stays solved
    assert stored(ticket) == before
    assert before["resolution_seconds"] == 2 * HOUR
    assert ticket.close_reason == CloseReason.SOLVED


# --- reopen -----------------------------------------------------------------------------------------------------------


def test_reopen_then_close_again_recomputes_and_time_closed_counts_in_no_wait(queue, agent, customer):
    t0 = datetime(2026, 6, 1, 8, tzinfo=UTC)
    with time_machine.travel(t0, tick=False) as clock:
        # given a ticket replied to at T0+1h and closed at T0+2h
        ticket = create(queue, customer)
        clock.shift(timedelta(hours=1))
        reply(ticket, agent)
        clock.shift(timedelta(hours=1))
        close(ticket, agent)
        assert stored(ticket)["resolution_seconds"] == 2 * HOUR

        # when an agent reopens it 10h later (T0+12h)
        clock.shift(timedelta(hours=10))
        services.ticket_reopen(ticket_id=ticket.pk, by=agent)

        # then right after the reopen: open, resolution unknown again, one reopen, and the 10h closed count nowhere
        ticket.refresh_from_db()
        assert (ticket.status, ticket.closed_at, ticket.close_reason) == (Status.OPEN, None, "")
        assert stored(ticket) == expected(
            first_reply=HOUR,
            resolution=None,
            requester_wait=2 * HOUR,  # new 1h + open 1h; open since the reopen: 0
            agent_wait=0,
            on_hold=0,
            reopen_count=1,
            public_reply_count=1,
        )

        # when it is closed again 3h later (T0+15h)
        clock.shift(timedelta(hours=3))
        close(ticket, agent)

    # then resolution = created → latest close = 15h; requester wait = 2h + 3h = 5h (the 10h closed excluded)
    ticket.refresh_from_db()
    assert ticket.closed_at == t0 + timedelta(hours=15)
    assert stored(ticket) == expected(
        first_reply=HOUR,
        resolution=15 * HOUR,
        requester_wait=5 * HOUR,
        agent_wait=0,
        on_hold=0,
        reopen_count=1,
        public_reply_count=1,
    )


def test_customer_message_on_a_closed_ticket_reopens_it_and_recomputes(berlin_queue, berlin_agent, customer):
    agent = berlin_agent
    with time_machine.travel(berlin(6, 8, 10), tick=False) as clock:
        # given a ticket created Mon 8 June 10:00 Berlin, replied to 11:00, closed 12:00
        ticket = create(berlin_queue, customer)
        clock.move_to(berlin(6, 8, 11))
        reply(ticket, agent)
        clock.move_to(berlin(6, 8, 12))
        close(ticket, agent)

        # when the customer writes on Wed 10 June 14:00 (closed for 50h, 18 business hours: Mon 12–17 5h,
        # Tue 8h, Wed 09–14 5h)
        clock.move_to(berlin(6, 10, 14))
        customer_writes(ticket, customer)

        # then the ticket is open again with one reopen and no resolution; the waits exclude the closed time
        ticket.refresh_from_db()
        assert (ticket.status, ticket.closed_at, ticket.close_reason) == (Status.OPEN, None, "")
        assert ticket.messages.filter(kind=Message.Kind.CUSTOMER_MESSAGE).count() == 2
        assert stored(ticket) == expected(
            first_reply=HOUR,  # Mon 10–11, inside hours
            resolution=None,
            requester_wait=2 * HOUR,  # new 1h + open 1h, both inside hours
            agent_wait=0,
            on_hold=0,
            reopen_count=1,
            public_reply_count=1,
        )

        # when the agent replies Wed 16:00 and closes Thu 11 June 10:00
        clock.move_to(berlin(6, 10, 16))
        reply(ticket, agent)
        clock.move_to(berlin(6, 11, 10))
        close(ticket, agent)

    # then open Wed 14:00 → Thu 10:00 = 20h / Wed 14–17 3h + Thu 09–10 1h = 4h;
    # requester wait = 2h + 20h = 22h / 2h + 4h = 6h;
    # resolution Mon 10:00 → Thu 10:00 = 72h / Mon 10–17 7h + Tue 8h + Wed 8h + Thu 1h = 24h
    # (= requester wait 22h / 6h + closed 50h / 18h)
    assert stored(ticket) == expected(
        first_reply=HOUR,
        resolution=(72 * HOUR, 24 * HOUR),
        requester_wait=(22 * HOUR, 6 * HOUR),
        agent_wait=0,
        on_hold=0,
        reopen_count=1,
        public_reply_count=2,
    )


# --- replies ----------------------------------------------------------------------------------------------------------


def test_ticket_closed_without_a_public_reply_has_no_first_reply(queue, agent, customer):
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False) as clock:
        # given a new ticket nobody answered
        ticket = create(queue, customer)

        # when it is closed as spam 30 minutes later
        clock.shift(timedelta(minutes=30))
        close(ticket, agent, reason=CloseReason.SPAM)

    # then first reply is unknown; resolution and requester wait are the 30 minutes spent new
    ticket.refresh_from_db()
    assert ticket.first_replied_at is None
    assert stored(ticket) == expected(
        first_reply=None,
        resolution=1800,
        requester_wait=1800,
        agent_wait=0,
        on_hold=0,
        reopen_count=0,
        public_reply_count=0,
    )


def test_internal_notes_are_neither_a_first_reply_nor_public_replies(queue, agent, customer):
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False) as clock:
        # given a ticket with two internal notes (T0+1h, T0+2h) and no public reply
        ticket = create(queue, customer)
        clock.shift(timedelta(hours=1))
        note(ticket, agent)
        clock.shift(timedelta(hours=1))
        note(ticket, agent)

        # when it is closed at T0+3h
        clock.shift(timedelta(hours=1))
        close(ticket, agent)

    # then no first reply and no public reply were counted; the ticket stayed new (requester waited 3h)
    ticket.refresh_from_db()
    assert ticket.messages.filter(kind=Message.Kind.INTERNAL_NOTE).count() == 2
    assert ticket.first_replied_at is None
    assert stored(ticket) == expected(
        first_reply=None,
        resolution=3 * HOUR,
        requester_wait=3 * HOUR,
        agent_wait=0,
        on_hold=0,
        reopen_count=0,
        public_reply_count=0,
    )


# --- metrics_compute directly -----------------------------------------------------------------------------------------


def test_metrics_compute_on_the_events_equals_the_stored_values(berlin_queue, berlin_agent, customer):
    agent = berlin_agent
    with time_machine.travel(berlin(6, 11, 16), tick=False) as clock:
        # given the Berlin walk: created Thu 16:00, reply Fri 10:00, pending Fri 12:00, customer Mon 11:00,
        # on hold Mon 15:00, open Tue 10:00, closed Tue 20:00
        ticket = create(berlin_queue, customer)
        for at, step in [
            (berlin(6, 12, 10), lambda: reply(ticket, agent)),
            (berlin(6, 12, 12), lambda: set_status(ticket, Status.PENDING, agent)),
            (berlin(6, 15, 11), lambda: customer_writes(ticket, customer)),
            (berlin(6, 15, 15), lambda: set_status(ticket, Status.ON_HOLD, agent)),
            (berlin(6, 16, 10), lambda: set_status(ticket, Status.OPEN, agent)),
            (berlin(6, 16, 20), lambda: close(ticket, agent)),
        ]:
            clock.move_to(at)
            step()
    ticket.refresh_from_db()

    # when computing directly from the events, with a `now` a month later
    computed = metrics_compute(
        created_at=ticket.created_at,
        closed_at=ticket.closed_at,
        events=ticket.events.all(),
        now=berlin(7, 16, 12),
        calendar=CalendarSpec.from_calendar(berlin_queue.business_calendar),
    )

    # then it equals what the close stored (a closed ticket is measured up to its close, not to `now`)
    assert computed == stored(ticket)
    assert computed["resolution_business_seconds"] == 25 * HOUR


def test_metrics_compute_on_an_open_ticket_measures_up_to_now(berlin_queue, berlin_agent, customer):
    with time_machine.travel(berlin(6, 11, 16), tick=False) as clock:
        # given a ticket created Thu 11 June 16:00 Berlin and replied to Fri 10:00 (open since)
        ticket = create(berlin_queue, customer)
        clock.move_to(berlin(6, 12, 10))
        reply(ticket, berlin_agent)
    ticket.refresh_from_db()

    # when computing at Mon 15 June 09:30
    computed = metrics_compute(
        created_at=ticket.created_at,
        closed_at=None,
        events=ticket.events.all(),
        now=berlin(6, 15, 9, 30),
        calendar=CalendarSpec.from_calendar(berlin_queue.business_calendar),
    )

    # then no resolution yet; requester wait runs to `now`: Thu 16:00 → Mon 09:30 = 89h30
    # / Thu 1h + Fri 8h + Mon 09:00–09:30 0.5h = 9h30; nothing was stored (the ticket never closed)
    assert computed["resolution_seconds"] is None
    assert computed["resolution_business_seconds"] is None
    assert computed["requester_wait_seconds"] == 89 * HOUR + 1800
    assert computed["requester_wait_business_seconds"] == 9 * HOUR + 1800
    assert computed["first_reply_seconds"] == 18 * HOUR
    assert computed["first_reply_business_seconds"] == 2 * HOUR
    assert stored(ticket)["requester_wait_seconds"] is None
