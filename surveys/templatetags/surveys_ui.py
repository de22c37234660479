"""Figure formatting of the feedback pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def one_decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"
