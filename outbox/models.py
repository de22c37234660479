"""The outbox: every email the desk sends is a row here first, written in the transaction of the change that caused it.

Life of a row: queued → (claimed by the sweep: an attempt) sending → sent | queued again (4xx to RCPT/DATA, after a
backoff; or SMTP unreachable, attempt given back) | failed (5xx to RCPT/DATA, too many attempts, or past its expiry);
cancelled by an admin or by the code that queued it. The rule is common.leased_jobs'; README "How email works".
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from common.leased_jobs import LeasedJob, job_indexes


class OutgoingEmail(LeasedJob):
    class Status(models.TextChoices):  # the leased-job states (common.leased_jobs.JobStatus) plus `sent`
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        SYSTEM = "system", "System (Django mail)"
        SURVEY = "survey", "Survey"
        SURVEY_REMINDER = "survey_reminder", "Survey reminder"
        REPLY_NOTIFICATION = "reply_notification", "Reply notification"
        CONFIRMATION = "confirmation", "Request confirmation"
        FOLLOWUP_REMINDER = "followup_reminder", "Follow-up reminder"
        FOLLOWUP_ESCALATION = "followup_escalation", "Follow-up escalation"

    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.SYSTEM)
    to_email = models.CharField(max_length=254)
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=255, help_text="Set when queued; the same on every attempt.")

    # status, attempts, next_attempt_at, lease_until, claim_token, last_error: from LeasedJob
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    related_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    related_id = models.PositiveBigIntegerField(null=True, blank=True)
    related = GenericForeignKey("related_type", "related_id")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            *job_indexes("outbox"),
            models.Index(fields=["related_type", "related_id"], name="outbox_related"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_email}: {self.subject}"


class Heartbeat(models.Model):
    """Last sign of life of a process kind ('beat', 'worker'), shown on the health page and /healthz."""

    name = models.CharField(max_length=20, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
