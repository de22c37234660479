"""SLA clocks as pure rules (tickets.sla.rules): hand-made event logs, every expected instant worked out by hand.

Dates (2026): June 1 is a Monday (Fri 5, Mon 8 June). Europe/Berlin goes CET → CEST on Sun 29 March and back on Sun
25 October; America/New_York goes EST → EDT on Sun 8 March and back on Sun 1 November. Easter Sunday is 5 April
(Good Friday 3, Easter Monday 6 April: public holidays in Germany). The calendars are Mon–Fri 09:00–17:00 local.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.calendar import CalendarSpec
from tickets.models import Message, Status, TicketEvent
from tickets.sla import rules
from tickets.transitions import Event

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
HOUR, MINUTE = 3600, 60
CUSTOMER, REPLY, NOTE = Message.Kind.CUSTOMER_MESSAGE, Message.Kind.PUBLIC_REPLY, Message.Kind.INTERNAL_NOTE
NEW, OPEN, PENDING, ON_HOLD, CLOSED = (s.value for s in Status)
T0 = datetime(2026, 6, 2, 10, tzinfo=UTC)  # a Tuesday; the tests without a calendar count from here


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def local(zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def nine_to_five(zone: ZoneInfo = BERLIN, **kwargs) -> CalendarSpec:
    return CalendarSpec(zone=zone, hours={day: ((time(9), time(17)),) for day in range(5)}, **kwargs)


def message(when: datetime, kind: str) -> Event:
    return Event(TicketEvent.Kind.MESSAGE, when, None, new_value=kind)


def status(when: datetime, old: str, new: str) -> Event:
    return Event(TicketEvent.Kind.STATUS, when, None, old_value=old, new_value=new)


def created(when: datetime) -> list[Event]:
    """What ticket_create writes: the created event and the customer's first message, at the same instant."""
    return [Event(TicketEvent.Kind.CREATED, when, None), message(when, CUSTOMER)]


def first_reply(when: datetime, *, from_status: str = NEW) -> list[Event]:
    """A public reply; on a new ticket it also opens it (the reply first, then the status, at the same instant)."""
    return [message(when, REPLY), *([status(when, NEW, OPEN)] if from_status == NEW else [])]


def customer_reopens(when: datetime) -> list[Event]:
    """A customer message on a closed ticket: the message, then the closed → open event, at the same instant."""
    return [message(when, CUSTOMER), status(when, CLOSED, OPEN)]


def clocks_of(events: list[Event], *, pause: bool = True, created_at: datetime = T0) -> dict[str, list[rules.Clock]]:
    by_kind: dict[str, list[rules.Clock]] = {kind: [] for kind in rules.KINDS}
    for clock in rules.clocks(created_at=created_at, events=events, pause_while_waiting=pause):
        by_kind[clock.kind].append(clock)
    return by_kind


def only(clocks: dict[str, list[rules.Clock]], kind: str) -> rules.Clock:
    (clock,) = clocks[kind]
    return clock


def outcome_of(
    clock: rules.Clock,
    *,
    target_minutes: float,
    now: datetime,
    calendar: CalendarSpec | None = None,
    close_reason: str = "",
    warn_percent: int = 80,
) -> rules.Outcome:
    return rules.outcome(
        clock,
        target_seconds=int(target_minutes * MINUTE),
        warn_percent=warn_percent,
        now=now,
        calendar=calendar,
        close_reason=close_reason,
    )


# --- first reply ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply_after", "result"),
    [(50, rules.MET), (60, rules.MET), (61, rules.BREACHED)],
    ids=["early", "on-time", "late"],
)
def test_first_reply_runs_from_creation_to_the_first_public_reply(reply_after, result):
    # given a ticket answered `reply_after` minutes after creation (an internal note before it does not count)
    events = [
        *created(T0),
        message(at(10), NOTE),
        *first_reply(at(reply_after)),
        *first_reply(at(90), from_status=OPEN),
    ]
    clock = only(clocks_of(events), rules.FIRST_REPLY)

    # then the clock ran from creation to that reply (not to the later one), and a 60-minute target is met or not
    assert (clock.started_at, clock.spans, clock.stopped_at) == (T0, [(T0, at(reply_after))], at(reply_after))
    done = outcome_of(clock, target_minutes=60, now=at(200))
    assert (done.result, done.elapsed_seconds, done.due_at, done.warn_at) == (result, reply_after * MINUTE, None, None)


def test_a_running_first_reply_clock_has_its_due_and_warning_instants():
    # given a new ticket, not answered yet
    clock = only(clocks_of(created(T0)), rules.FIRST_REPLY)

    # when measured 30 minutes later against 60 minutes, warning at 80 %
    running = outcome_of(clock, target_minutes=60, now=at(30))

    # then it runs: due at +60, warned at +48, 30 minutes spent
    assert (running.result, running.due_at, running.warn_at, running.elapsed_seconds) == ("", at(60), at(48), 1800)


def test_business_hours_friday_afternoon_is_due_monday_morning():
    # given a ticket created Fri 5 June 16:30 Berlin under Mon–Fri 09:00–17:00, a 1 h target warned at 80 % (48 min)
    created_at = local(BERLIN, 6, 5, 16, 30)
    clock = only(clocks_of(created(created_at), created_at=created_at), rules.FIRST_REPLY)

    # when measured on Saturday
    running = outcome_of(clock, target_minutes=60, now=local(BERLIN, 6, 6, 12), calendar=nine_to_five())

    # then 30 min of Friday count; it is due Mon 09:30 and warned Mon 09:18
    assert running.due_at == local(BERLIN, 6, 8, 9, 30)
    assert running.warn_at == local(BERLIN, 6, 8, 9, 18)
    assert running.elapsed_seconds == 30 * MINUTE


@pytest.mark.parametrize(
    ("zone", "created_at", "target_hours", "due_utc"),
    [
        # Fri 27 March 16:30 CET (15:30 Z) + 1 h: 30 min Friday, 30 min Monday → Mon 30 March 09:30 CEST (07:30 Z)
        (BERLIN, local(BERLIN, 3, 27, 16, 30), 1, utc(3, 30, 7, 30)),
        # Fri 27 March 13:00 CET + 16 h: 4 h Friday, 8 h Monday, 4 h Tuesday → Tue 31 March 13:00 CEST (11:00 Z)
        (BERLIN, local(BERLIN, 3, 27, 13), 16, utc(3, 31, 11)),
        # Fri 23 October 16:30 CEST (14:30 Z) + 1 h → Mon 26 October 09:30 CET (08:30 Z)
        (BERLIN, local(BERLIN, 10, 23, 16, 30), 1, utc(10, 26, 8, 30)),
        # Fri 6 March 16:30 EST (21:30 Z) + 1 h → Mon 9 March 09:30 EDT (13:30 Z)
        (NEW_YORK, local(NEW_YORK, 3, 6, 16, 30), 1, utc(3, 9, 13, 30)),
        # Fri 30 October 16:30 EDT (20:30 Z) + 1 h → Mon 2 November 09:30 EST (14:30 Z)
        (NEW_YORK, local(NEW_YORK, 10, 30, 16, 30), 1, utc(11, 2, 14, 30)),
    ],
    ids=["berlin-spring", "berlin-spring-16h", "berlin-autumn", "new-york-spring", "new-york-autumn"],
)
def test_business_hours_across_a_dst_change_give_the_right_utc_instant(zone, created_at, target_hours, due_utc):
    # given a running clock over the weekend the clocks change
    clock = only(clocks_of(created(created_at), created_at=created_at), rules.RESOLUTION)

    # when measured against business hours of the local Mon–Fri 09:00–17:00
    running = outcome_of(clock, target_minutes=target_hours * 60, now=created_at, calendar=nine_to_five(zone))

    # then the due instant is the local working time, converted with the offset of *that* day
    assert running.due_at == due_utc

    # and a reply exactly then meets the target with exactly the target's business seconds
    done = outcome_of(
        only(clocks_of([*created(created_at), *first_reply(due_utc)], created_at=created_at), rules.FIRST_REPLY),
        target_minutes=target_hours * 60,
        now=due_utc,
        calendar=nine_to_five(zone),
    )
    assert (done.result, done.elapsed_seconds) == (rules.MET, target_hours * HOUR)


def test_calendar_hours_across_a_dst_change_count_real_time():
    # given Sat 28 March 12:00 CET (11:00 Z) and a 24 h calendar-hours target (no calendar given)
    created_at = local(BERLIN, 3, 28, 12)
    clock = only(clocks_of(created(created_at), created_at=created_at), rules.RESOLUTION)

    # then it is due 24 real hours later: Sun 29 March 11:00 Z, which is 13:00 CEST on the wall clock
    due_at = outcome_of(clock, target_minutes=24 * 60, now=created_at).due_at
    assert due_at == utc(3, 29, 11) == local(BERLIN, 3, 29, 13)


def test_calendar_hours_ignore_the_calendar():
    # given the Friday 16:30 ticket, but a calendar-hours policy (the service passes no calendar)
    created_at = local(BERLIN, 6, 5, 16, 30)
    clock = only(clocks_of(created(created_at), created_at=created_at), rules.FIRST_REPLY)

    # then evenings and weekends count: due Fri 17:30
    assert outcome_of(clock, target_minutes=60, now=created_at).due_at == local(BERLIN, 6, 5, 17, 30)


@pytest.mark.parametrize(
    ("calendar", "created_at", "due_at"),
    [
        # a Holiday row on Mon 8 June: Fri 16:30 + 1 h → Tue 9 June 09:30
        (
            nine_to_five(holiday_dates=frozenset({date(2026, 6, 8)})),
            local(BERLIN, 6, 5, 16, 30),
            local(BERLIN, 6, 9, 9, 30),
        ),
        # holiday_country DE: Thu 2 April 16:30 + 1 h skips Good Friday, the weekend and Easter Monday → Tue 7 April
        (nine_to_five(holiday_country="DE"), local(BERLIN, 4, 2, 16, 30), local(BERLIN, 4, 7, 9, 30)),
    ],
    ids=["holiday-row", "holiday-country"],
)
def test_business_hours_skip_public_holidays(calendar, created_at, due_at):
    clock = only(clocks_of(created(created_at), created_at=created_at), rules.FIRST_REPLY)

    running = outcome_of(clock, target_minutes=60, now=created_at, calendar=calendar)

    assert running.due_at == due_at
    # and a reply then: exactly one business hour spent, the holidays not counted
    replied = only(clocks_of([*created(created_at), *first_reply(due_at)], created_at=created_at), rules.FIRST_REPLY)
    assert outcome_of(replied, target_minutes=60, now=due_at, calendar=calendar).elapsed_seconds == HOUR


# --- next reply -----------------------------------------------------------------------------------------------------


def test_next_reply_runs_from_each_unanswered_customer_message_to_the_next_public_reply():
    events = [
        *created(T0),
        message(at(5), CUSTOMER),  # before the first reply: the first-reply clock covers it
        *first_reply(at(10)),
        message(at(20), CUSTOMER),  # a wait starts
        message(at(25), CUSTOMER),  # still the same wait
        message(at(30), NOTE),  # an internal note does not answer the customer
        message(at(40), REPLY),  # answered: 20 minutes
        message(at(50), CUSTOMER),  # a second wait
        message(at(95), REPLY),  # answered: 45 minutes
    ]

    replies = clocks_of(events)[rules.NEXT_REPLY]

    assert [(c.started_at, c.spans, c.stopped_at) for c in replies] == [
        (at(20), [(at(20), at(40))], at(40)),
        (at(50), [(at(50), at(95))], at(95)),
    ]
    # each cycle is its own target: the first met, the second breached against 30 minutes
    results = [outcome_of(c, target_minutes=30, now=at(100)) for c in replies]
    assert [(o.result, o.elapsed_seconds) for o in results] == [(rules.MET, 20 * MINUTE), (rules.BREACHED, 45 * MINUTE)]


def test_no_next_reply_clock_before_the_first_reply():
    # given customer messages, no reply yet
    clocks = clocks_of([*created(T0), message(at(5), CUSTOMER), message(at(9), CUSTOMER)])

    # then only the first-reply (and resolution) clocks run
    assert clocks[rules.NEXT_REPLY] == []
    assert only(clocks, rules.FIRST_REPLY).running


def test_a_customer_message_on_a_pending_ticket_starts_a_next_reply():
    # given an answered ticket set pending; the customer's message moves it to open at the same instant
    events = [
        *created(T0),
        *first_reply(at(10)),
        status(at(11), OPEN, PENDING),
        message(at(30), CUSTOMER),
        status(at(30), PENDING, OPEN),
    ]

    clock = only(clocks_of(events), rules.NEXT_REPLY)

    assert (clock.started_at, clock.running) == (at(30), True)
    assert outcome_of(clock, target_minutes=30, now=at(40)).due_at == at(60)


@pytest.mark.parametrize(
    ("closed_after", "result"), [(40, rules.EXCLUDED), (200, rules.BREACHED)], ids=["before-due", "after-due"]
)
def test_a_reply_clock_running_at_close_is_excluded_unless_it_breached(closed_after, result):
    # given a wait for the next reply (30 minutes from minute 20), and the ticket closed before the agent answered
    events = [*created(T0), *first_reply(at(10)), message(at(20), CUSTOMER), status(at(closed_after), OPEN, CLOSED)]
    clock = only(clocks_of(events), rules.NEXT_REPLY)

    # then the clock stopped at the close: short of its target it counts neither way; past it, the breach stands
    assert (clock.stopped_at, clock.unanswered) == (at(closed_after), True)
    done = outcome_of(clock, target_minutes=30, now=at(300), close_reason="solved")
    assert (done.result, done.elapsed_seconds, done.due_at) == (result, (closed_after - 20) * MINUTE, None)
    # a close as spam or duplicate excludes it either way
    assert outcome_of(clock, target_minutes=30, now=at(300), close_reason="spam").result == rules.EXCLUDED


def test_a_ticket_closed_before_any_reply_has_its_first_reply_excluded_and_resolution_settled():
    clocks = clocks_of([*created(T0), status(at(15), NEW, CLOSED)])

    first, resolution = only(clocks, rules.FIRST_REPLY), only(clocks, rules.RESOLUTION)
    assert outcome_of(first, target_minutes=60, now=at(20), close_reason="solved").result == rules.EXCLUDED
    assert outcome_of(resolution, target_minutes=60, now=at(20), close_reason="solved").result == rules.MET
    assert clocks[rules.NEXT_REPLY] == []


def test_a_customer_reopening_a_ticket_closed_unanswered_waits_for_a_reply():
    # given a ticket closed before any reply, which the customer reopens by writing
    events = [*created(T0), status(at(15), NEW, CLOSED), *customer_reopens(at(100))]
    clocks = clocks_of(events)

    # then the first-reply clock stays excluded (it stopped at the close), and the customer's wait is a next-reply
    # clock from the reopening message: the same as for a message after an agent's reopen
    assert only(clocks, rules.FIRST_REPLY).unanswered
    assert only(clocks, rules.NEXT_REPLY).spans == [(at(100), None)]
    agent_reopened = [
        *created(T0),
        status(at(15), NEW, CLOSED),
        status(at(99), CLOSED, OPEN),
        message(at(100), CUSTOMER),
    ]
    assert only(clocks_of(agent_reopened), rules.NEXT_REPLY).spans == [(at(100), None)]


# --- resolution -----------------------------------------------------------------------------------------------------

WAITING_LIFE = [
    *created(T0),
    *first_reply(at(10)),
    status(at(20), OPEN, PENDING),  # waiting on the customer
    message(at(50), CUSTOMER),
    status(at(50), PENDING, OPEN),
    status(at(60), OPEN, ON_HOLD),  # waiting on a third party
    status(at(70), ON_HOLD, PENDING),  # still waiting
    status(at(80), PENDING, OPEN),
    status(at(100), OPEN, CLOSED),
]


def test_resolution_pauses_while_pending_or_on_hold_when_the_policy_says_so():
    clock = only(clocks_of(WAITING_LIFE, pause=True), rules.RESOLUTION)

    # then it ran 0–20, 50–60 and 80–100: 50 minutes, the sum of its running spans
    assert clock.spans == [(T0, at(20)), (at(50), at(60)), (at(80), at(100))]
    assert clock.stopped_at == at(100)
    assert outcome_of(clock, target_minutes=60, now=at(500)).elapsed_seconds == 50 * MINUTE


def test_resolution_runs_through_waiting_when_the_policy_does_not_pause():
    clock = only(clocks_of(WAITING_LIFE, pause=False), rules.RESOLUTION)

    assert clock.spans == [(T0, at(100))]
    assert outcome_of(clock, target_minutes=60, now=at(500)).result == rules.BREACHED


def test_a_paused_resolution_clock_has_no_due_time_until_it_resumes():
    # given a ticket pending since minute 20, 20 minutes of a 60-minute target spent
    events = [*created(T0), *first_reply(at(10)), status(at(20), OPEN, PENDING)]
    clock = only(clocks_of(events), rules.RESOLUTION)

    paused = outcome_of(clock, target_minutes=60, now=at(500))
    assert (paused.result, paused.due_at, paused.warn_at, paused.elapsed_seconds) == ("", None, None, 20 * MINUTE)

    # when the customer writes at minute 600 the remaining 40 minutes run from there
    resumed = only(clocks_of([*events, message(at(600), CUSTOMER), status(at(600), PENDING, OPEN)]), rules.RESOLUTION)
    assert outcome_of(resumed, target_minutes=60, now=at(600)).due_at == at(640)


def test_a_paused_clock_past_its_target_keeps_its_past_due_time():
    # given 30 minutes spent of a 20-minute target before the ticket went pending
    events = [*created(T0), *first_reply(at(10)), status(at(30), OPEN, PENDING)]
    paused = outcome_of(only(clocks_of(events), rules.RESOLUTION), target_minutes=20, now=at(500))

    # then it stays breached (due in the past) while paused, rather than disappearing from the breached list
    assert (paused.result, paused.due_at, paused.warn_at) == ("", at(20), at(16))


def test_resolution_is_paused_while_closed_resumed_on_reopen_and_settled_again_at_the_next_close():
    # given the waiting life (50 minutes, closed at 100), reopened by an agent at 130 and closed again at 150
    events = [*WAITING_LIFE, status(at(130), CLOSED, OPEN), status(at(150), OPEN, CLOSED)]
    clock = only(clocks_of(events), rules.RESOLUTION)

    # then the closed half hour does not count: 50 + 20 = 70 minutes
    assert clock.spans[-1] == (at(130), at(150))
    assert clock.stopped_at == at(150)
    assert outcome_of(clock, target_minutes=60, now=at(150), close_reason="solved").elapsed_seconds == 70 * MINUTE

    # and between the reopen and the second close it was running, with its due time from the remaining 10 minutes
    reopened = only(clocks_of([*WAITING_LIFE, status(at(130), CLOSED, OPEN)]), rules.RESOLUTION)
    assert (reopened.running, reopened.stopped_at) == (True, None)
    assert outcome_of(reopened, target_minutes=60, now=at(135)).due_at == at(140)


@pytest.mark.parametrize("same_instant_order", ["message-first", "status-first"])
def test_a_customer_message_reopening_a_ticket_resumes_resolution_and_starts_a_next_reply(same_instant_order):
    # given the message and the closed → open event at the same instant, in either order
    reopen = customer_reopens(at(130))
    if same_instant_order == "status-first":
        reopen.reverse()
    clocks = clocks_of([*WAITING_LIFE, *reopen, message(at(140), REPLY)])

    # then the resolution clock runs again from 130 and the customer's wait is answered at 140
    assert only(clocks, rules.RESOLUTION).spans[-1] == (at(130), None)
    assert [c.spans for c in clocks[rules.NEXT_REPLY]] == [
        [(at(50), at(100))],  # the wait that the close left unanswered
        [(at(130), at(140))],
    ]


def test_a_message_kept_with_a_closed_ticket_starts_no_wait_when_an_agent_reopens_it_later():
    # given a survey reply on the closed ticket (kept there: no reopen), and an agent reopening it a day later
    events = [*WAITING_LIFE, message(at(110), CUSTOMER), status(at(110 + 24 * 60), CLOSED, OPEN)]
    clocks = clocks_of(events)

    # then no next-reply clock starts at the survey reply (it would be breached at once): nobody is waiting
    assert [c.started_at for c in clocks[rules.NEXT_REPLY]] == [at(50)]  # only WAITING_LIFE's, closed unanswered
    assert only(clocks, rules.RESOLUTION).spans[-1] == (at(110 + 24 * 60), None)


@pytest.mark.parametrize(("pause", "running_from"), [(True, at(160)), (False, at(130))])
def test_a_reopen_straight_into_pending_stays_paused_when_the_policy_pauses(pause, running_from):
    # given a ticket closed while pending, then reopened straight into pending (the status graph has no such move
    # today; the clocks must not depend on it), and open at 160
    events = [
        *created(T0),
        *first_reply(at(10)),
        status(at(20), OPEN, PENDING),
        status(at(100), PENDING, CLOSED),
        status(at(130), CLOSED, PENDING),
    ]
    reopened = only(clocks_of(events, pause=pause), rules.RESOLUTION)
    assert reopened.stopped_at is None  # no longer settled either way
    assert reopened.running is not pause

    clock = only(clocks_of([*events, status(at(160), PENDING, OPEN)], pause=pause), rules.RESOLUTION)
    assert clock.spans[-1] == (running_from, None)


def test_elapsed_business_time_is_the_sum_of_the_running_spans():
    # given Berlin business hours: created Fri 5 June 16:00, pending Fri 16:30 – Mon 10:00, closed Mon 11:00
    calendar = nine_to_five()
    created_at = local(BERLIN, 6, 5, 16)
    events = [
        *created(created_at),
        *first_reply(local(BERLIN, 6, 5, 16, 10)),
        status(local(BERLIN, 6, 5, 16, 30), OPEN, PENDING),
        status(local(BERLIN, 6, 8, 10), PENDING, OPEN),
        status(local(BERLIN, 6, 8, 11), OPEN, CLOSED),
    ]
    clock = only(clocks_of(events, created_at=created_at), rules.RESOLUTION)

    # then 30 minutes on Friday and 1 hour on Monday: 90 minutes
    done = outcome_of(clock, target_minutes=120, now=local(BERLIN, 6, 9, 9), calendar=calendar)
    assert (done.result, done.elapsed_seconds) == (rules.MET, 90 * MINUTE)


# --- achievement ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("close_reason", "result"), [("spam", rules.EXCLUDED), ("duplicate", rules.EXCLUDED),
                                                      ("solved", rules.MET), ("no_response", rules.MET)])  # fmt: skip
def test_a_close_as_spam_or_duplicate_excludes_every_settled_clock(close_reason, result):
    # given a ticket answered in time, its next reply too, then closed in time
    events = [*created(T0), *first_reply(at(10)), message(at(20), CUSTOMER), message(at(25), REPLY),
              status(at(40), OPEN, CLOSED)]  # fmt: skip
    clocks = rules.clocks(created_at=T0, events=events, pause_while_waiting=True)

    results = {outcome_of(c, target_minutes=60, now=at(50), close_reason=close_reason).result for c in clocks}

    assert results == {result}


def test_the_nearest_due_is_of_the_running_clocks_only():
    running_late = rules.Outcome(due_at=at(90), warn_at=at(80), elapsed_seconds=0, result="")
    running_soon = rules.Outcome(due_at=at(30), warn_at=at(20), elapsed_seconds=0, result="")
    paused = rules.Outcome(due_at=None, warn_at=None, elapsed_seconds=0, result="")
    settled = rules.Outcome(due_at=None, warn_at=None, elapsed_seconds=0, result=rules.MET)

    assert rules.nearest_due([running_late, paused, running_soon, settled]) == at(30)
    assert rules.nearest_due([paused, settled]) is None
    assert rules.nearest_due([]) is None
