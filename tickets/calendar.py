"""Business time: how many working seconds of a BusinessCalendar lie between two instants."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays as holidays_lib

from .models import BusinessCalendar

MIDNIGHT = time(0)


@dataclass(frozen=True)
class CalendarSpec:
    """A calendar loaded once: zone, working intervals per weekday, fixed holiday dates, optional country."""

    zone: zoneinfo.ZoneInfo
    hours: dict[int, tuple[tuple[time, time], ...]]  # weekday → ((start, end), ...); end 00:00 = end of day
    holiday_dates: frozenset[date] = field(default_factory=frozenset)
    holiday_country: str = ""

    @classmethod
    def from_calendar(cls, calendar: BusinessCalendar) -> CalendarSpec:
        hours: dict[int, list[tuple[time, time]]] = {}
        for wh in calendar.working_hours.all():
            hours.setdefault(wh.weekday, []).append((wh.start, wh.end))
        return cls(
            zone=zoneinfo.ZoneInfo(calendar.timezone),
            hours={day: tuple(sorted(spans)) for day, spans in hours.items()},
            holiday_dates=frozenset(h.date for h in calendar.holidays.all()),
            holiday_country=calendar.holiday_country.upper(),
        )

    @property
    def always_open(self) -> bool:
        return not self.hours

    def is_holiday(self, day: date) -> bool:
        if day in self.holiday_dates:
            return True
        return bool(self.holiday_country) and day in _country_holidays(self.holiday_country, day.year)

    def working_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working intervals as aware UTC datetimes (DST-correct: built from local wall-clock times)."""
        if self.is_holiday(day):
            return []
        spans = ((MIDNIGHT, MIDNIGHT),) if self.always_open else self.hours.get(day.weekday(), ())
        out = []
        for start, end in spans:
            local_start = datetime.combine(day, start, tzinfo=self.zone)
            end_day = day + timedelta(days=1) if end == MIDNIGHT else day
            local_end = datetime.combine(end_day, end, tzinfo=self.zone)
            out.append((local_start.astimezone(UTC), local_end.astimezone(UTC)))
        return out


@cache
def _country_holidays(country: str, year: int) -> holidays_lib.HolidayBase:
    return holidays_lib.country_holidays(country, years=year)


def business_seconds_between(start: datetime, end: datetime, calendar: BusinessCalendar | CalendarSpec | None) -> int:
    """Working seconds of `calendar` within [start, end). No calendar means 24/7. Both datetimes must be aware."""
    # In UTC first: Python subtracts and compares two datetimes of the same tzinfo by wall clock, ignoring DST.
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    if end_utc <= start_utc:
        return 0
    if calendar is None:
        return int((end_utc - start_utc).total_seconds())
    spec = calendar if isinstance(calendar, CalendarSpec) else CalendarSpec.from_calendar(calendar)
    # Start a day early: a working span of the previous day may reach past midnight.
    day = start_utc.astimezone(spec.zone).date() - timedelta(days=1)
    last_day = end_utc.astimezone(spec.zone).date()
    total = 0.0
    while day <= last_day:
        for span_start, span_end in spec.working_intervals(day):
            overlap = (min(span_end, end_utc) - max(span_start, start_utc)).total_seconds()
            if overlap > 0:
                total += overlap
        day += timedelta(days=1)
    return int(total)


def add_business_seconds(start: datetime, seconds: int, calendar: BusinessCalendar | CalendarSpec | None) -> datetime:
    """The instant `seconds` working seconds after `start` (used for due times, e.g. follow-ups)."""
    if calendar is None:
        return (start.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(start.tzinfo)
    spec = calendar if isinstance(calendar, CalendarSpec) else CalendarSpec.from_calendar(calendar)
    current = start.astimezone(UTC)
    remaining = float(seconds)
    day = current.astimezone(spec.zone).date() - timedelta(days=1)
    for _ in range(366 * 2):  # a calendar with no working time at all would otherwise loop forever
        for span_start, span_end in spec.working_intervals(day):
            begin = max(span_start, current)
            available = (span_end - begin).total_seconds()
            if available <= 0:
                continue
            if remaining <= available:
                return begin + timedelta(seconds=remaining)
            remaining -= available
            current = span_end
        day += timedelta(days=1)
    raise ValueError("The calendar has no working time in the next two years.")
