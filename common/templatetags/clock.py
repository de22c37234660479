"""{% load clock %}: durations in templates, written as common.clock writes them."""

from django import template

from common.clock import duration_text

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """3720 → "1 h 2 min"; None → "—"."""
    return duration_text(seconds)
