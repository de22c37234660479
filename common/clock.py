"""Time as people read it: one way to print a length of time, one way to tell how long ago something was."""

from __future__ import annotations

from datetime import datetime


def duration_text(seconds: float | None) -> str:
    """3720 → "1 h 2 min", 200000 → "2 d 7 h"; None → "—"."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def seconds_since(at: datetime | None, now: datetime) -> int | None:
    """Whole seconds from `at` to `now` (never negative); None when `at` is unknown."""
    return None if at is None else max(0, int((now - at).total_seconds()))
