"""The read-only inlines of the ticket's admin page (tickets.admin): its messages, its events and its SLA targets.
Nothing here writes; every change to a ticket goes through tickets.services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from common.clock import duration_text

from .models import Message, SlaTarget, TicketEvent


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    readonly_fields = ("created_at", "kind", "author", "body")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("author_user", "author_customer")

    @admin.display(description="author")
    def author(self, obj: Message) -> str:
        return obj.author_display


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    readonly_fields = ("at", "actor", "kind_label", "old_value", "new_value")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketEvent]:
        return super().get_queryset(request).select_related("actor")


class SlaTargetInline(ReadOnlyInline):
    """Each clock against its target, as the services keep it (tickets.sla.services)."""

    model = SlaTarget
    verbose_name = "SLA target"
    readonly_fields = (
        "kind",
        "started_at",
        "target",
        "priority",
        "due_at",
        "warned_at",
        "breached_at",
        "result",
        "elapsed",
        "settled_at",
        "agent",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlaTarget]:
        return super().get_queryset(request).select_related("agent")

    @admin.display(description="target")
    def target(self, obj: SlaTarget) -> str:
        return f"{duration_text(obj.target_seconds)} ({'business' if obj.business_hours else 'calendar'} hours)"

    @admin.display(description="elapsed")
    def elapsed(self, obj: SlaTarget) -> str:
        return duration_text(obj.elapsed_seconds)
