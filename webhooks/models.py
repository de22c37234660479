"""Outgoing webhooks: endpoints that subscribe to desk events, and one delivery row per event and endpoint.

A delivery is written in the transaction of the change that caused the event (like an outbox email) and sent by a
Celery worker. Life of a row: queued → (claimed by the sweep: an attempt) sending → delivered | queued again (5xx,
429, after a backoff; or no answer — refused, timeout, DNS, TLS — attempt given back and the endpoint's circuit
breaker open) | failed (other 4xx, a redirect, too many attempts, or past its expiry); cancelled by an admin.
"""

from __future__ import annotations

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from common.leased_jobs import LeasedJob, job_indexes

from .events import webhook_events


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


def validate_events(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one event.")
    unknown = [event for event in value if event not in webhook_events]
    if unknown:
        raise ValidationError(f"Unknown event(s): {', '.join(map(str, unknown))}.")


class WebhookEndpoint(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(
        "URL", max_length=500, validators=[URLValidator(schemes=["http", "https"])], help_text="http:// or https://"
    )
    secret = models.CharField(
        max_length=100,
        default=generate_secret,
        editable=False,
        help_text="Signs every request (X-Helpdesk-Signature); give it to the receiver so it can verify.",
    )
    events = models.JSONField(default=list, validators=[validate_events], help_text="The events this URL receives.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(LeasedJob):
    class Status(models.TextChoices):  # the leased-job states (common.leased_jobs.JobStatus) plus `delivered`
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, help_text="A registered webhook event (webhooks.events).")
    event_id = models.UUIDField(
        "event id",
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="Sent as X-Helpdesk-Delivery, the same on every attempt: receivers de-duplicate on it.",
    )
    payload = models.JSONField(default=dict)

    # status, attempts, next_attempt_at, lease_until, claim_token, last_error: from LeasedJob
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status of the last try.")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = job_indexes("webhook")

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.event_id})"

    @property
    def event_label(self) -> str:
        return webhook_events.label(self.event)
