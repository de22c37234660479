from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from common.admin import job_actions
from common.registry import registry_list_filter

from .events import webhook_events
from .models import WebhookDelivery, WebhookEndpoint
from .services import webhook_delivery_cancel, webhook_delivery_retry


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https", help_text="http:// or https://")
    events = forms.MultipleChoiceField(choices=webhook_events.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "events", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = ("name", "url", "events", "active")
        return fields if obj is None else (*fields, "secret", "created_at")  # the secret exists once saved

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return () if obj is None else ("secret", "created_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_label",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
        "delivered_at",
        "short_error",
    ]
    list_filter = ["status", registry_list_filter(webhook_events, field="event", title="event"), "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["event_id"]
    date_hierarchy = "created_at"
    actions = job_actions(
        noun="delivery(ies)",
        retry_one=lambda pk: webhook_delivery_retry(delivery_id=pk),
        retry_description="Retry selected deliveries (failed or cancelled → queued now)",
        cancel_one=lambda pk: webhook_delivery_cancel(delivery_id=pk),
        cancel_description="Cancel selected deliveries (queued or failed → cancelled, not sent)",
    )
    readonly_fields = (
        "endpoint",
        "event_label",
        "event_id",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "next_attempt_at",
        "expires_at",
        "lease_until",
        "created_at",
        "delivered_at",
        "payload",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are written by the code that emits the event, in its own transaction

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="event", ordering="event")
    def event_label(self, obj: WebhookDelivery) -> str:
        return obj.event_label

    @admin.display(description="last error")
    def short_error(self, obj: WebhookDelivery) -> str:
        return obj.last_error[:80]
