from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Heartbeat, OutgoingEmail
from .services import outbox_cancel, outbox_retry


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "to_email", "subject", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to_email", "subject", "message_id"]
    date_hierarchy = "created_at"
    actions = ["retry", "cancel"]
    readonly_fields = (
        "kind",
        "status",
        "to_email",
        "from_email",
        "subject",
        "last_error",
        "attempts",
        "next_attempt_at",
        "expires_at",
        "lease_until",
        "created_at",
        "sent_at",
        "message_id",
        "headers",
        "body_text",
        "body_html",
        "related_type",
        "related_id",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are written by the code that sends mail, in its own transaction

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[OutgoingEmail], call: Callable[..., bool], verb: str
    ) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        done = sum(call(email_id=pk) for pk in ids)
        level = messages.SUCCESS if done else messages.WARNING
        self.message_user(request, f"{verb} {done} of {len(ids)} email(s).", level)

    @admin.action(description="Retry selected emails (failed or cancelled → queued now)")
    def retry(self, request: HttpRequest, queryset: QuerySet[OutgoingEmail]) -> None:
        self._apply(request, queryset, outbox_retry, "Queued again")

    @admin.action(description="Cancel selected emails (not yet sent)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[OutgoingEmail]) -> None:
        self._apply(request, queryset, outbox_cancel, "Cancelled")


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
