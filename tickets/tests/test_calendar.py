"""Business time: business_seconds_between and add_business_seconds, with every expected number worked out by hand.

Dates used (2026): June 1 is a Monday, so Fri 5, Sat 6, Sun 7, Mon 8 June. Europe/Berlin is CEST (UTC+2) in
summer and CET (UTC+1) in winter; the clocks go forward on Sun 29 March (02:00 → 03:00, a 23-hour day) and back on
Sun 25 October (03:00 → 02:00, a 25-hour day).
"""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from tickets.calendar import CalendarSpec, add_business_seconds, business_seconds_between
from tickets.models import Holiday, WorkingHours
from tickets.tests.factories import CalendarFactory

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def nine_to_five(**kwargs) -> CalendarSpec:
    """The same calendar as CalendarFactory, without the database: Mon–Fri 09:00–17:00 Berlin."""
    return CalendarSpec(zone=BERLIN, hours={day: ((time(9), time(17)),) for day in range(5)}, **kwargs)


def always_open_berlin(**kwargs) -> CalendarSpec:
    """24/7 in Berlin: no working hours, so every local day is open from midnight to midnight."""
    return CalendarSpec(zone=BERLIN, hours={}, **kwargs)


# --- no calendar: 24/7 elapsed time ---------------------------------------------------------------------------------


def test_no_calendar_counts_plain_elapsed_seconds():
    # given Fri 5 June 16:00 → Mon 8 June 10:00 Berlin: 8h (Fri) + 48h (weekend) + 10h (Mon) = 66h
    start, end = berlin(2026, 6, 5, 16), berlin(2026, 6, 8, 10)

    # when / then: without a calendar every second counts, nights and weekends included
    assert business_seconds_between(start, end, None) == 66 * HOUR == 237_600
    # and a span of 90 seconds is 90 seconds
    assert business_seconds_between(start, start + timedelta(seconds=90), None) == 90


@pytest.mark.parametrize("calendar", [None, nine_to_five(), always_open_berlin()], ids=["none", "9-17", "24/7"])
def test_end_not_after_start_is_zero(calendar):
    # given a working-hours instant (Tue 2 June 10:00 Berlin)
    start = berlin(2026, 6, 2, 10)

    # when the end equals the start, or lies before it
    # then nothing is counted (never a negative number)
    assert business_seconds_between(start, start, calendar) == 0
    assert business_seconds_between(start, start - timedelta(hours=3), calendar) == 0
    assert business_seconds_between(start, start - timedelta(days=30), calendar) == 0


# --- Mon–Fri 09:00–17:00 --------------------------------------------------------------------------------------------


def test_span_inside_one_working_day():
    # given Tue 2 June 10:00 → 12:30, all inside 09:00–17:00
    # then 2h30 = 9000 s
    assert business_seconds_between(berlin(2026, 6, 2, 10), berlin(2026, 6, 2, 12, 30), nine_to_five()) == 9000


def test_span_starting_before_hours_counts_from_opening():
    # given Tue 2 June 07:00 → 11:00: only 09:00–11:00 is working time
    # then 2h = 7200 s
    assert business_seconds_between(berlin(2026, 6, 2, 7), berlin(2026, 6, 2, 11), nine_to_five()) == 7200


def test_span_ending_after_hours_counts_until_closing():
    # given Tue 2 June 15:00 → 20:00: only 15:00–17:00 is working time
    # then 2h = 7200 s
    assert business_seconds_between(berlin(2026, 6, 2, 15), berlin(2026, 6, 2, 20), nine_to_five()) == 7200


def test_span_around_the_whole_working_day_counts_eight_hours():
    # given Tue 2 June 00:00 → Wed 3 June 00:00
    # then exactly the 8 working hours = 28800 s
    assert business_seconds_between(berlin(2026, 6, 2), berlin(2026, 6, 3), nine_to_five()) == 28_800


def test_spans_outside_hours_on_the_same_day_count_nothing():
    spec = nine_to_five()
    # given Tue 2 June before opening (06:00 → 08:59) and after closing (17:00 → 23:59)
    assert business_seconds_between(berlin(2026, 6, 2, 6), berlin(2026, 6, 2, 8, 59), spec) == 0
    assert business_seconds_between(berlin(2026, 6, 2, 17), berlin(2026, 6, 2, 23, 59), spec) == 0
    # and the whole of Saturday 6 June
    assert business_seconds_between(berlin(2026, 6, 6), berlin(2026, 6, 7), spec) == 0


@pytest.mark.django_db
def test_span_over_a_weekend_counts_only_friday_and_monday():
    # given the database calendar (Mon–Fri 09:00–17:00 Berlin)
    calendar = CalendarFactory()

    # when Fri 5 June 16:00 → Mon 8 June 10:00
    seconds = business_seconds_between(berlin(2026, 6, 5, 16), berlin(2026, 6, 8, 10), calendar)

    # then Fri 16–17 (1h) + Mon 09–10 (1h) = 2h = 7200 s; the 66 elapsed hours do not matter
    assert seconds == 7200


@pytest.mark.django_db
def test_multi_week_span():
    # given the database calendar (Mon–Fri 09:00–17:00 Berlin)
    calendar = CalendarFactory()

    # when Wed 3 June 13:00 → Tue 23 June 11:00
    seconds = business_seconds_between(berlin(2026, 6, 3, 13), berlin(2026, 6, 23, 11), calendar)

    # then Wed 3 (13–17) 4h + Thu 4, Fri 5 16h + week of 8 June 40h + week of 15 June 40h + Mon 22 8h
    #      + Tue 23 (09–11) 2h = 110h = 396000 s
    assert seconds == 110 * HOUR == 396_000


# --- holidays -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_holiday_row_removes_that_weekday():
    # given the database calendar; Tue 9 June 00:00 → Fri 12 June 00:00 covers Tue, Wed, Thu = 24 working hours
    calendar = CalendarFactory()
    start, end = berlin(2026, 6, 9), berlin(2026, 6, 12)
    assert business_seconds_between(start, end, calendar) == 24 * HOUR

    # when Wednesday 10 June becomes a holiday
    Holiday.objects.create(calendar=calendar, date=date(2026, 6, 10), name="Company day")

    # then only Tue and Thu count: 16h = 57600 s
    assert business_seconds_between(start, end, calendar) == 16 * HOUR == 57_600


def test_a_holiday_closes_even_a_24_7_calendar():
    # given a 24/7 Berlin calendar with Wed 10 June as a holiday
    spec = always_open_berlin(holiday_dates=frozenset({date(2026, 6, 10)}))

    # when Tue 9 June 12:00 → Thu 11 June 12:00 (48 elapsed hours)
    seconds = business_seconds_between(berlin(2026, 6, 9, 12), berlin(2026, 6, 11, 12), spec)

    # then Tue 12–24 (12h) + Thu 00–12 (12h) = 24h; the whole local Wednesday is gone
    assert seconds == 24 * HOUR


@pytest.mark.django_db
def test_country_holidays_remove_christmas_day_friday():
    # given (checked against the holidays package) Christmas Day 2026 is a German public holiday on a Friday
    german = holidays.country_holidays("DE", years=2026)
    assert date(2026, 12, 25) in german
    assert date(2026, 12, 25).weekday() == 4
    assert date(2026, 12, 24) not in german  # Christmas Eve is a working day
    start, end = berlin(2026, 12, 24), berlin(2026, 12, 29)  # Thu 24 00:00 → Tue 29 00:00

    # when the calendar has no country vs. holiday_country="DE"
    without_country = business_seconds_between(start, end, CalendarFactory())
    with_country = business_seconds_between(start, end, CalendarFactory(holiday_country="DE"))

    # then without: Thu 24 + Fri 25 + Mon 28 = 24h; with DE: Thu 24 + Mon 28 = 16h
    assert without_country == 24 * HOUR
    assert with_country == 16 * HOUR == 57_600


def test_country_holidays_remove_labour_day_friday():
    # given May 1st 2026 is a Friday and a German public holiday
    assert date(2026, 5, 1) in holidays.country_holidays("DE", years=2026)
    assert date(2026, 5, 1).weekday() == 4
    start, end = berlin(2026, 4, 30, 12), berlin(2026, 5, 4, 12)  # Thu 30 April 12:00 → Mon 4 May 12:00

    # then without a country: Thu 12–17 (5h) + Fri 8h + Mon 09–12 (3h) = 16h; with DE the Friday goes: 8h
    assert business_seconds_between(start, end, nine_to_five()) == 16 * HOUR
    assert business_seconds_between(start, end, nine_to_five(holiday_country="DE")) == 8 * HOUR == 28_800


# --- daylight saving time -------------------------------------------------------------------------------------------


def test_24_7_berlin_calendar_counts_the_23_hour_spring_forward_day():
    # given a 24/7 Berlin calendar; on Sun 29 March 2026 the clocks jump 02:00 → 03:00
    spec = always_open_berlin()
    start, end = berlin(2026, 3, 29), berlin(2026, 3, 30)  # 2026-03-28 23:00Z → 2026-03-29 22:00Z

    # then the local day has 23 real hours = 82800 s
    assert business_seconds_between(start, end, spec) == 23 * HOUR == 82_800
    # and noon Saturday → noon Sunday across the night is also 23 real hours
    assert business_seconds_between(berlin(2026, 3, 28, 12), berlin(2026, 3, 29, 12), spec) == 23 * HOUR


def test_24_7_berlin_calendar_counts_the_25_hour_autumn_day():
    # given a 24/7 Berlin calendar; on Sun 25 October 2026 the clocks go back 03:00 → 02:00
    spec = always_open_berlin()
    start, end = berlin(2026, 10, 25), berlin(2026, 10, 26)  # 2026-10-24 22:00Z → 2026-10-25 23:00Z

    # then the local day has 25 real hours = 90000 s
    assert business_seconds_between(start, end, spec) == 25 * HOUR == 90_000


def test_no_calendar_across_dst_counts_true_elapsed_seconds_whatever_the_input_zone():
    # given the spring-forward day given as Berlin wall-clock times (the same tzinfo on both ends)
    start, end = berlin(2026, 3, 29), berlin(2026, 3, 30)

    # then without a calendar the answer is the real elapsed time, 23h, as for the same instants in UTC
    assert business_seconds_between(start.astimezone(UTC), end.astimezone(UTC), None) == 23 * HOUR
    assert business_seconds_between(start, end, None) == 23 * HOUR
    # and the autumn day is 25h
    assert business_seconds_between(berlin(2026, 10, 25), berlin(2026, 10, 26), None) == 25 * HOUR


def test_nine_to_five_on_the_monday_after_spring_forward_follows_local_time():
    spec = nine_to_five()
    # given Mon 23 March (CET, UTC+1): 09:00 local = 08:00Z; Mon 30 March (CEST, UTC+2): 09:00 local = 07:00Z

    # then a whole UTC day still holds 8 working hours on both Mondays
    assert business_seconds_between(utc(2026, 3, 23), utc(2026, 3, 24), spec) == 8 * HOUR
    assert business_seconds_between(utc(2026, 3, 30), utc(2026, 3, 31), spec) == 8 * HOUR
    # and the UTC hour 07:00–08:00 is before opening the week before, but working time after the change
    assert business_seconds_between(utc(2026, 3, 23, 7), utc(2026, 3, 23, 8), spec) == 0
    assert business_seconds_between(utc(2026, 3, 30, 7), utc(2026, 3, 30, 8), spec) == HOUR
    # and the UTC hour 15:00–16:00 is working time (16–17 local) before, after closing (17–18 local) after
    assert business_seconds_between(utc(2026, 3, 23, 15), utc(2026, 3, 23, 16), spec) == HOUR
    assert business_seconds_between(utc(2026, 3, 30, 15), utc(2026, 3, 30, 16), spec) == 0


def test_nine_to_five_on_the_monday_after_autumn_change_follows_local_time():
    spec = nine_to_five()
    # given Mon 19 October (CEST): 09:00 local = 07:00Z; Mon 26 October (CET): 09:00 local = 08:00Z
    assert business_seconds_between(utc(2026, 10, 19, 7), utc(2026, 10, 19, 8), spec) == HOUR
    assert business_seconds_between(utc(2026, 10, 26, 7), utc(2026, 10, 26, 8), spec) == 0
    assert business_seconds_between(berlin(2026, 10, 26), berlin(2026, 10, 27), spec) == 8 * HOUR


def test_weekend_span_across_spring_forward():
    # given Fri 27 March 16:00 CET (15:00Z) → Mon 30 March 10:00 CEST (08:00Z): 65 real hours
    start, end = berlin(2026, 3, 27, 16), berlin(2026, 3, 30, 10)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=65)

    # then Fri 16–17 (1h) + Mon 09–10 (1h) = 2h
    assert business_seconds_between(start, end, nine_to_five()) == 2 * HOUR


# --- working hours ending at midnight -------------------------------------------------------------------------------


def test_working_hours_ending_at_midnight_run_to_the_end_of_the_day():
    # given only Saturday 18:00–00:00 (00:00 = the end of Saturday)
    spec = CalendarSpec(zone=BERLIN, hours={5: ((time(18), time(0)),)})

    # then Sat 6 June 17:00 → Sun 01:00 counts 18:00–24:00 = 6h
    assert business_seconds_between(berlin(2026, 6, 6, 17), berlin(2026, 6, 7, 1), spec) == 6 * HOUR
    # and Sat 23:30 → Sun 00:30 counts the last half hour of Saturday only
    assert business_seconds_between(berlin(2026, 6, 6, 23, 30), berlin(2026, 6, 7, 0, 30), spec) == 1800
    # and Sunday itself counts nothing
    assert business_seconds_between(berlin(2026, 6, 7), berlin(2026, 6, 8), spec) == 0
    # and a week (Mon 1 June → Mon 8 June) holds exactly one 6h shift
    assert business_seconds_between(berlin(2026, 6, 1), berlin(2026, 6, 8), spec) == 6 * HOUR


@pytest.mark.django_db
def test_working_hours_row_ending_at_midnight_loaded_from_the_database():
    # given a database calendar with only Saturday 18:00–00:00
    calendar = CalendarFactory(weekdays_9_to_5=False)
    WorkingHours.objects.create(calendar=calendar, weekday=WorkingHours.Weekday.SATURDAY, start="18:00", end="00:00")

    # then Sat 6 June 12:00 → Mon 8 June 12:00 counts 6h
    assert business_seconds_between(berlin(2026, 6, 6, 12), berlin(2026, 6, 8, 12), calendar) == 6 * HOUR
    # and 2h from Sat 23:00 use the last hour of this Saturday and the first of next Saturday's shift
    assert add_business_seconds(berlin(2026, 6, 6, 23), 2 * HOUR, calendar) == berlin(2026, 6, 13, 19)


# --- input time zones -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone",
    [UTC, BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"), timezone(timedelta(hours=-3, minutes=-30))],
    ids=["UTC", "Berlin", "New_York", "Kolkata", "-03:30"],
)
@pytest.mark.parametrize(
    ("calendar", "expected"),
    [(None, 65 * HOUR), (nine_to_five(), 2 * HOUR), (always_open_berlin(), 65 * HOUR)],
    ids=["none", "9-17", "24/7"],
)
def test_the_zone_of_the_inputs_does_not_change_the_answer(zone, calendar, expected):
    # given the same two instants, Fri 27 March 16:00 Berlin → Mon 30 March 10:00 Berlin (across spring forward),
    # expressed in different zones
    start, end = berlin(2026, 3, 27, 16), berlin(2026, 3, 30, 10)

    # when counted from inputs in `zone`
    seconds = business_seconds_between(start.astimezone(zone), end.astimezone(zone), calendar)

    # then the answer is that of the UTC instants: 65 real hours 24/7, 2h with 9–17
    assert seconds == expected
    assert seconds == business_seconds_between(start.astimezone(UTC), end.astimezone(UTC), calendar)


# --- add_business_seconds -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_eight_business_hours_from_friday_afternoon_land_on_monday_afternoon():
    # given the database calendar and Fri 5 June 15:00 Berlin
    calendar = CalendarFactory()

    # when adding 8 business hours
    due = add_business_seconds(berlin(2026, 6, 5, 15), 8 * HOUR, calendar)

    # then Fri 15–17 uses 2h, the remaining 6h run Mon 09:00–15:00
    assert due == berlin(2026, 6, 8, 15)


def test_adding_from_a_weekend_starts_at_the_next_opening():
    spec = nine_to_five()
    # given Sat 6 June 12:00: 1h lands Mon 8 June 10:00
    assert add_business_seconds(berlin(2026, 6, 6, 12), HOUR, spec) == berlin(2026, 6, 8, 10)
    # and from Sun 23:00, a full 8h day lands Mon 17:00 (the end of Monday's hours, not Tuesday)
    assert add_business_seconds(berlin(2026, 6, 7, 23), 8 * HOUR, spec) == berlin(2026, 6, 8, 17)
    # and from Friday after closing, 30 min land Mon 09:30
    assert add_business_seconds(berlin(2026, 6, 5, 18), 1800, spec) == berlin(2026, 6, 8, 9, 30)


def test_adding_skips_country_holidays():
    # given Thu 24 December 2026 09:00 and holiday_country="DE" (Fri 25 is Christmas Day)
    spec = nine_to_five(holiday_country="DE")

    # when adding two working days (16h)
    due = add_business_seconds(berlin(2026, 12, 24, 9), 16 * HOUR, spec)

    # then Thu 8h, Fri holiday, weekend, Mon 28 8h → Mon 28 December 17:00
    assert due == berlin(2026, 12, 28, 17)


def test_adding_on_a_24_7_berlin_calendar_across_spring_forward():
    # given 24/7 in Berlin from Sun 29 March 00:00 (a 23-hour day)
    # when adding 24 real hours
    due = add_business_seconds(berlin(2026, 3, 29), 24 * HOUR, always_open_berlin())

    # then the result is Mon 30 March 01:00 local (wall clock shows 25h later)
    assert due == berlin(2026, 3, 30, 1)


def test_adding_without_a_calendar_is_plain_addition_of_real_seconds():
    # given no calendar
    # then Fri 16:00 + 10h is Sat 02:00
    assert add_business_seconds(berlin(2026, 6, 5, 16), 10 * HOUR, None) == berlin(2026, 6, 6, 2)
    # and 24 real hours from Sat 28 March 12:00 Berlin (across spring forward) are Sun 29 March 13:00 local,
    # whether the start is given in Berlin time or in UTC
    assert add_business_seconds(berlin(2026, 3, 28, 12), 24 * HOUR, None) == berlin(2026, 3, 29, 13)
    assert add_business_seconds(utc(2026, 3, 28, 11), 24 * HOUR, None) == berlin(2026, 3, 29, 13)


ROUND_TRIP_STARTS = [
    berlin(2026, 6, 2, 10, 15),  # Tuesday, inside hours
    berlin(2026, 6, 2, 7),  # Tuesday, before opening
    berlin(2026, 6, 5, 16, 59),  # Friday, one minute before closing
    berlin(2026, 6, 6, 12),  # Saturday
    berlin(2026, 3, 27, 12),  # Friday before spring forward
    berlin(2026, 12, 23, 14),  # Wednesday before Christmas
]
ROUND_TRIP_SECONDS = [0, 1, 59, HOUR, 8 * HOUR - 1, 8 * HOUR, 8 * HOUR + 1, 40 * HOUR, 123_457]


@pytest.mark.parametrize("start", ROUND_TRIP_STARTS, ids=lambda d: d.strftime("%a-%m-%d-%H%M"))
@pytest.mark.parametrize(
    "calendar",
    [None, nine_to_five(), nine_to_five(holiday_country="DE"), always_open_berlin()],
    ids=["none", "9-17", "9-17-DE", "24/7"],
)
def test_round_trip_between_and_add(start, calendar):
    for seconds in ROUND_TRIP_SECONDS:
        # when adding `seconds` business seconds
        due = add_business_seconds(start, seconds, calendar)

        # then exactly `seconds` business seconds lie between the start and the result, and time never goes back
        assert business_seconds_between(start, due, calendar) == seconds, seconds
        assert due >= start
