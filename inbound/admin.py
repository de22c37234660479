from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import ImapMailbox, InboundEmail
from .parsing import ParseError, parse
from .routing import inbound_retry
from .tasks import poll_imap_mailbox


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


class ImapMailboxForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        strip=False,
        help_text="Leave empty to keep the current password. It is stored encrypted and never shown.",
    )

    class Meta:
        model = ImapMailbox
        fields = ("queue", "host", "port", "security", "username", "password", "folder", "enabled")

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not password and not self.instance.password_encrypted:
            raise forms.ValidationError("A password is needed.")
        return password

    def save(self, commit: bool = True) -> ImapMailbox:
        if self.cleaned_data["password"]:
            self.instance.password_set(self.cleaned_data["password"])
        return super().save(commit=commit)


@admin.register(ImapMailbox)
class ImapMailboxAdmin(admin.ModelAdmin):
    """A queue's mailbox at a mail provider, polled every INBOUND_IMAP_POLL_SECONDS. The password is write-only."""

    form = ImapMailboxForm
    list_display = ("__str__", "queue", "enabled", "last_polled_at", "last_uid", "last_error")
    list_filter = ("enabled", "queue")
    actions = ["poll_now"]
    fieldsets = (
        (
            None,
            {
                "description": "Only username/password (basic auth) IMAP login is supported. OAuth2 — Gmail's or "
                "Microsoft 365's modern authentication — is not: use an app password where the provider offers one, "
                "or deliver to the desk's own mail gateway instead.",
                "fields": ("queue", "host", "port", "security", "username", "password", "folder", "enabled"),
            },
        ),
        ("Polling", {"fields": ("last_polled_at", "last_error", "uidvalidity", "last_uid", "polling_until")}),
    )
    readonly_fields = ("last_polled_at", "last_error", "uidvalidity", "last_uid", "polling_until")

    @admin.action(description="Poll the selected mailboxes now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[ImapMailbox]) -> None:
        """Sends the poll task for each (after the commit): a slow server never holds the request up."""
        for mailbox in queryset:
            transaction.on_commit(partial(poll_imap_mailbox.delay, mailbox.pk))
            self.message_user(request, f"{mailbox}: poll queued (see its last poll and error here once done)")
