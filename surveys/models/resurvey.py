"""The re-survey of a resolved follow-up: one question, "Did we make this right?" (1–5), once per follow-up, with the
CSAT survey's rules (a token link valid until it expires, one click that a link scanner cannot answer, opt-out,
suppression, the outbox saying whether it was emailed). Its answers are the recovery rate."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils import timezone

from tickets.models import Customer, Queue

from .followups import FollowUp

RESURVEY_LINK_PURPOSE = "resurvey"
RESURVEY_QUESTION = "Did we make this right?"
RESURVEY_CHOICES = [(1, "Not at all"), (2, "Not really"), (3, "Partly"), (4, "Mostly"), (5, "Completely")]
RECOVERED_FROM = 4  # 4–5: the customer says we made it right


class Resurvey(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        QUEUED = "queued", "Queued for email"
        SENT = "sent", "Sent"
        ANSWERED = "answered", "Answered"
        EXPIRED = "expired", "Expired"
        SUPPRESSED = "suppressed", "Suppressed"
        NOT_EMAILED = "not_emailed", "Not emailed"

    followup = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="resurvey")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="resurveys")
    # Snapshots at resolution: who recovered it, in which queue, and what the cause was.
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    root_cause = models.CharField(max_length=20, choices=FollowUp.RootCause.choices, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it was suppressed or not emailed.")
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the outbox sent its email.")
    expires_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(choices=RESURVEY_CHOICES, null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    flagged_automated = models.BooleanField(
        default=False, help_text="Several different scores within seconds: a link scanner, not counted."
    )
    clicks = models.JSONField(default=list, blank=True, editable=False)  # recent [score, ISO time] for the burst rule
    created_at = models.DateTimeField(default=timezone.now)
    emails = GenericRelation("outbox.OutgoingEmail", content_type_field="related_type", object_id_field="related_id")

    class Meta:
        indexes = [
            models.Index(fields=["status", "send_after"], name="resurvey_due"),
            models.Index(fields=["customer", "sent_at"], name="resurvey_customer"),
            models.Index(fields=["queue", "sent_at"], name="resurvey_queue_sent"),
        ]

    def __str__(self) -> str:
        return f"Re-survey of {self.followup}"

    @property
    def is_open_for_answers(self) -> bool:
        return (
            self.status in (self.Status.QUEUED, self.Status.SENT, self.Status.ANSWERED)
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )

    @property
    def counts(self) -> bool:
        """An answer the recovery rate counts (a link scanner's burst is not)."""
        return self.score is not None and not self.flagged_automated
