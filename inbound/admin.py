from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import InboundEmail
from .parsing import ParseError, parse
from .routing import inbound_retry


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Every email received, with what routing did. A failed one shows its error and can be routed again."""

    list_display = ("received_at", "queue", "from_address", "subject", "status", "outcome")
    list_filter = ("status", "channel", "queue")
    search_fields = ("from_address", "subject", "message_id", "recipient")
    date_hierarchy = "received_at"
    actions = ["retry"]
    fields = (
        "received_at",
        "queue",
        "channel",
        "envelope_sender",
        "recipient",
        "from_address",
        "subject",
        "message_id",
        "sha256",
        "size",
        "status",
        "outcome",
        "error",
        "attempts",
        "routed_at",
        "ticket",
        "ticket_message",
        "decided_by",
        "text",
    )
    readonly_fields = fields

    @admin.display(description="Text (as received, our links redacted)")
    def text(self, obj: InboundEmail) -> str:
        try:
            return parse(obj.raw_bytes()).text
        except (ParseError, OSError) as exc:
            return f"(cannot be read: {exc})"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Route the selected failed emails again")
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        retried = sum(inbound_retry(email_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{retried} email(s) routed again.", messages.SUCCESS)
