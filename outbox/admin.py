from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from common.admin import job_actions
from common.registry import registry_list_filter

from .kinds import email_kinds
from .models import Heartbeat, OutgoingEmail, Suppression
from .services import outbox_cancel, outbox_retry

ROW_FIELDS = (
    "kind_label",
    "status",
    "to_email",
    "from_email",
    "subject",
    "related_object",
    "last_error",
    "attempts",
    "next_attempt_at",
    "expires_at",
    "lease_until",
    "created_at",
    "sent_at",
    "message_id",
)


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Read-only. A row with customer links (a render spec) shows what it is — kind, recipient, related object — and
    never a body: it is rendered only when sent. A secret body (Django's own mail) is never shown either."""

    list_display = ["created_at", "kind_label", "to_email", "subject_or_spec", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", registry_list_filter(email_kinds, field="kind", title="kind")]
    search_fields = ["to_email", "subject", "message_id"]
    date_hierarchy = "created_at"
    actions = job_actions(
        noun="email(s)",
        retry_one=lambda pk: outbox_retry(email_id=pk),
        retry_description="Retry selected emails (failed or cancelled → queued now)",
        cancel_one=lambda pk: outbox_cancel(email_id=pk),
        cancel_description="Cancel selected emails (not yet sent)",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None and (obj.render_spec is not None or obj.secret_body):
            return (*ROW_FIELDS, "content")
        return (*ROW_FIELDS, "headers", "body_text", "body_html")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, obj: OutgoingEmail) -> str:
        return obj.kind_label

    @admin.display(description="subject")
    def subject_or_spec(self, obj: OutgoingEmail) -> str:
        return obj.subject or "(rendered when sent)"

    @admin.display(description="about")
    def related_object(self, obj: OutgoingEmail) -> str:
        if obj.related_type is None or obj.related_id is None:
            return "—"
        target = obj.related
        label = f"{obj.related_type.name} #{obj.related_id}" + (f": {target}" if target is not None else " (deleted)")
        meta = obj.related_type
        try:
            url = reverse(f"admin:{meta.app_label}_{meta.model}_change", args=[obj.related_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="content")
    def content(self, obj: OutgoingEmail) -> str:
        if obj.render_spec is not None:
            return (
                "Not stored: rendered when it is sent, with links made for that send only (a retry makes new "
                f"ones). Rendered from {obj.render_spec}."
            )
        return (
            "Hidden: Django's own mail may carry a credential (such as a password-reset link); "
            "it is erased once the email is sent, failed or cancelled."
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are written by the code that sends mail, in its own transaction

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses that bounce: no email goes to them. Delete a row to clear it (e.g. the mailbox was fixed)."""

    list_display = ("email", "reason", "created_at")
    search_fields = ("email",)
    readonly_fields = ("email", "reason", "bounced_message_id", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
