"""Admin of SLA policies (registered in tickets.admin). The form validates with SlaPolicy.clean: at least one target,
each positive, and business hours only on a queue whose calendar has working hours."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin

from common.clock import duration_text

from ..models import SlaPolicy

EDIT_RULE = (
    "An edit applies to clocks that start after it; running clocks keep their targets unless the ticket's priority "
    "or queue changes."
)


def _target_column(kind: str, label: str) -> Callable[[SlaPolicyAdmin, SlaPolicy], str]:
    @admin.display(description=label, ordering=f"{kind}_minutes")
    def column(self: SlaPolicyAdmin, obj: SlaPolicy) -> str:
        return duration_text(obj.target_seconds(kind))

    return column


class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "queue",
        "priority",
        "first_reply",
        "next_reply",
        "resolution",
        "business_hours",
        "pause_while_waiting",
        "warn_at_percent",
        "updated_at",
    ]
    list_select_related = ["queue"]
    list_filter = ["queue", "priority", "business_hours"]
    ordering = ["queue__name", "priority"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["queue", "priority"], "description": EDIT_RULE}),
        (
            "Targets, in minutes (empty: no target; at least one)",
            {"fields": ["first_reply_minutes", "next_reply_minutes", "resolution_minutes"]},
        ),
        ("Clocks", {"fields": ["business_hours", "pause_while_waiting", "warn_at_percent", "updated_at"]}),
    ]

    first_reply = _target_column("first_reply", "first reply")
    next_reply = _target_column("next_reply", "next reply")
    resolution = _target_column("resolution", "resolution")
