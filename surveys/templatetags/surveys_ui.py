"""Figure formatting of the feedback pages: numbers, their 95% intervals and the differences called out."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..intervals import Interval
from ..selectors import FeedbackStats, csat_difference

register = template.Library()


@register.filter
def one_decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@register.filter
def ci_range(interval: Interval | None, kind: str = "pct") -> str:
    """ "74–88": percentages to whole points (the figure itself has one decimal), means to one decimal."""
    if interval is None:
        return "—"
    digits = 1 if kind == "mean" else 0
    return f"{interval.low:.{digits}f}–{interval.high:.{digits}f}"


@register.simple_tag
def ci(interval: Interval | None, n: int, kind: str = "pct", compact: bool = False) -> SafeString:
    """A figure's 95% interval and sample: "(95% CI 74–88, n=120)"; compact (table cells), a small second line
    "74–88 · n=120" with the words in its title and for screen readers. No interval (n < 2 for a mean): the n alone."""
    if interval is None:
        return format_html('<span class="ci">{}n={}{}</span>', "" if compact else "(", n, "" if compact else ")")
    span = ci_range(interval, kind)
    unit = "%" if kind == "pct" else ""
    if compact:
        return format_html(
            '<span class="ci" title="95% confidence interval {}{}, of {} responses">'
            '<span class="visually-hidden">95% CI </span>{} · n={}</span>',
            span,
            unit,
            n,
            span,
            n,
        )
    return format_html('<span class="ci">(95% CI {}{}, n={})</span>', span, unit, n)


@register.simple_tag
def called_out(change: int, above: str, below: str) -> SafeString:
    """A difference beyond noise in words (an arrow beside them, not colour alone); nothing when there is none."""
    if not change:
        return SafeString("")
    arrow, words = ("▲", above) if change > 0 else ("▼", below)
    return format_html('<span class="called-out"><span aria-hidden="true">{} </span>{}</span>', arrow, words)


@register.simple_tag
def versus_team(stats: FeedbackStats | None, team: FeedbackStats | None) -> SafeString:
    """An agent's CSAT % called out as above or below the team's when their 95% intervals do not overlap."""
    return called_out(csat_difference(stats, team), "above the team", "below the team")
