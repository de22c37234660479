"""The NPS relationship survey: "How likely are you to recommend us to a friend or colleague?" (0–10) and "What is
the main reason for your score?", asked of customers with recent activity (not of a ticket), at most once per
interval, by the one policy row an admin edits (NpsPolicy; no row: NPS is off). Same rules as the other surveys: a
token link valid until it expires, one click that a link scanner cannot answer, opt-out, suppression, the outbox
saying whether it was emailed, and the one throttle (surveys.selectors.throttle)."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from tickets.models import Customer, Queue

NPS_LINK_PURPOSE = "nps"
NPS_QUESTION = "How likely are you to recommend us to a friend or colleague?"
NPS_REASON_QUESTION = "What is the main reason for your score?"
NPS_SCORES = tuple(range(11))
PROMOTER_FROM = 9  # 9–10: promoters
DETRACTOR_TO = 6  # 0–6: detractors (7–8: passives)


class NpsPolicy(models.Model):
    """Who is asked and when. One row (the admin adds no second one); without it no NPS survey is scheduled."""

    enabled = models.BooleanField(default=False)
    interval_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1)], help_text="At most one NPS survey per customer this often."
    )
    min_closed_tickets = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Closed tickets needed within the activity days."
    )
    activity_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1)], help_text="Recent activity: a ticket closed this recently."
    )
    excluded_queues = models.ManyToManyField(
        Queue, blank=True, related_name="+", help_text="A customer whose latest closed ticket is in one is not asked."
    )
    send_window_start_hour = models.PositiveSmallIntegerField(default=9, validators=[MaxValueValidator(23)])
    send_window_end_hour = models.PositiveSmallIntegerField(
        default=17,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Emails are queued only from the start hour to the end hour (exclusive), in the desk's time zone.",
    )
    expiry_days = models.PositiveIntegerField(default=14, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = "NPS policy"
        verbose_name_plural = "NPS policy"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(send_window_start_hour__lt=models.F("send_window_end_hour")),
                name="nps_send_window_not_empty",
            )
        ]

    def __str__(self) -> str:
        return "NPS policy" + ("" if self.enabled else " (off)")


class NpsSurvey(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        QUEUED = "queued", "Queued for email"
        SENT = "sent", "Sent"
        ANSWERED = "answered", "Answered"
        EXPIRED = "expired", "Expired"
        SUPPRESSED = "suppressed", "Suppressed"
        NOT_EMAILED = "not_emailed", "Not emailed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="nps_surveys")
    # Snapshot when scheduled: the queue of the customer's latest closed ticket (the NPS figure's "per queue").
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it was suppressed or not emailed.")
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the outbox sent its email.")
    expires_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(
        choices=[(score, str(score)) for score in NPS_SCORES], null=True, blank=True
    )
    comment = models.TextField(blank=True, help_text=NPS_REASON_QUESTION)
    answered_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the answer was acted on (a detractor's follow-up): once confirmed by the customer's own "
        "submission, or unchanged for the settle time; a changed score settles again.",
    )
    flagged_automated = models.BooleanField(
        default=False, help_text="Several different scores within seconds: a link scanner, not counted."
    )
    clicks = models.JSONField(default=list, blank=True, editable=False)  # recent [score, ISO time] for the burst rule
    created_at = models.DateTimeField(default=timezone.now)
    emails = GenericRelation("outbox.OutgoingEmail", content_type_field="related_type", object_id_field="related_id")

    class Meta:
        verbose_name = "NPS survey"
        indexes = [
            models.Index(fields=["status", "send_after"], name="nps_due"),
            models.Index(fields=["customer", "created_at"], name="nps_customer"),
            models.Index(fields=["queue", "sent_at"], name="nps_queue_sent"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(score__lte=10), name="nps_score_0_10")]

    def __str__(self) -> str:
        return f"NPS survey of {self.customer} ({self.created_at:%Y-%m-%d})"

    @property
    def is_open_for_answers(self) -> bool:
        return (
            self.status in (self.Status.QUEUED, self.Status.SENT, self.Status.ANSWERED)
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )

    @property
    def counts(self) -> bool:
        """An answer the NPS figure counts (a link scanner's burst is not)."""
        return self.score is not None and not self.flagged_automated

    @property
    def group(self) -> str:
        """promoter (9–10), passive (7–8) or detractor (0–6); empty before an answer."""
        if self.score is None:
            return ""
        return "promoter" if self.score >= PROMOTER_FROM else "detractor" if self.score <= DETRACTOR_TO else "passive"
