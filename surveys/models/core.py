"""Surveys domain: policies, invitations (one per close round), responses with their history, opt-outs, ratings."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from tickets.models import CloseReason, Customer, Queue, Ticket

CSAT_CHOICES = [
    (1, "Very dissatisfied"),
    (2, "Dissatisfied"),
    (3, "Neither satisfied nor dissatisfied"),
    (4, "Satisfied"),
    (5, "Very satisfied"),
]
CES_CHOICES = [
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Somewhat disagree"),
    (4, "Neither agree nor disagree"),
    (5, "Somewhat agree"),
    (6, "Agree"),
    (7, "Strongly agree"),
]
# The purposes of the links of a survey email (registered with common.tokens in SurveysConfig.ready): the survey
# (→ the invitation, valid until it expires) and unsubscribing (→ the customer, valid unsubscribe_link_days(), so it
# outlives the survey). One token of each per email.
SURVEY_LINK_PURPOSE = "survey"
SURVEY_UNSUBSCRIBE_PURPOSE = "survey_unsubscribe"
# The purpose the Message-IDs of survey emails are recorded with (tickets.mailthread): a customer's email answering
# one is kept with the ticket as a customer message with this reply_to_purpose, without reopening it.
SURVEY_MAIL_PURPOSE = "survey"


class SurveyEmail(StrEnum):
    """The email kinds surveys sends (registered with the outbox in SurveysConfig.ready)."""

    SURVEY = "survey"
    SURVEY_REMINDER = "survey_reminder"
    RESURVEY = "resurvey"
    NPS = "nps_survey"
    FOLLOWUP_REMINDER = "followup_reminder"
    FOLLOWUP_ESCALATION = "followup_escalation"


UNSUBSCRIBE_LINK_MIN_DAYS = 60
CSAT_QUESTION = "How satisfied are you with the support you received?"
CES_QUESTION = "The company made it easy for me to handle my issue."


def unsubscribe_link_days() -> int:
    """How long a survey email's unsubscribe links work: SURVEY_UNSUBSCRIBE_LINK_DAYS, never under 60 days."""
    return max(settings.SURVEY_UNSUBSCRIBE_LINK_DAYS, UNSUBSCRIBE_LINK_MIN_DAYS)


def default_close_reasons() -> list[str]:
    return [CloseReason.SOLVED.value]


def validate_close_reasons(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(CloseReason.values):
        raise ValidationError(f"Choose among: {', '.join(CloseReason.values)}.")


class SurveyPolicy(models.Model):
    """How and when surveys go out. One default policy (no queue); a queue may have its own."""

    class FollowUpOwner(models.TextChoices):
        AGENT = "agent", "The agent who closed the ticket (else the queue lead)"
        LEAD = "lead", "The queue lead"

    queue = models.OneToOneField(
        Queue,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey_policy",
        help_text="Empty for the default policy, used by every queue without its own.",
    )
    enabled = models.BooleanField(default=True)
    ask_csat = models.BooleanField("ask CSAT (1–5)", default=True)
    ask_ces = models.BooleanField("ask CES (1–7)", default=True)
    delay_minutes = models.PositiveIntegerField(default=60, help_text="Send this long after the ticket is closed.")
    expiry_days = models.PositiveIntegerField(default=28, validators=[MinValueValidator(1)])
    throttle_days = models.PositiveIntegerField(
        default=30, help_text="At most one survey per customer in this many days (0 = no limit)."
    )
    reminder_after_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="One reminder this many days after the survey if unanswered (empty = none).",
    )
    poor_csat_max = models.PositiveSmallIntegerField(default=2, validators=[MinValueValidator(1), MaxValueValidator(5)])
    poor_ces_max = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(7)])
    close_reasons = models.JSONField(
        default=default_close_reasons,
        validators=[validate_close_reasons],
        help_text='Close reasons that get a survey, e.g. ["solved"].',
    )
    settle_minutes = models.PositiveIntegerField(
        default=10, help_text="A rating unchanged this long (or confirmed by a CES answer or comment) is acted on."
    )
    followup_owner = models.CharField(max_length=10, choices=FollowUpOwner.choices, default=FollowUpOwner.AGENT)
    followup_due_business_hours = models.PositiveIntegerField(default=8)
    resurvey = models.BooleanField(
        "re-survey after recovery",
        default=True,
        help_text="When a follow-up is resolved, ask the customer once “Did we make this right?” (1–5), "
        "RESURVEY_DELAY_HOURS later: the recovery rate.",
    )

    class Meta:
        verbose_name_plural = "survey policies"
        constraints = [
            models.UniqueConstraint(
                models.ExpressionWrapper(models.Q(queue__isnull=True), output_field=models.BooleanField()),
                condition=models.Q(queue__isnull=True),
                name="one_default_survey_policy",
            ),
        ]

    def __str__(self) -> str:
        return f"Survey policy for {self.queue}" if self.queue_id else "Default survey policy"


class SurveyInvitation(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        QUEUED = "queued", "Queued for email"  # its email is in the outbox: "sent" once the outbox sent it
        SENT = "sent", "Sent"
        ANSWERED = "answered", "Answered"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"
        SUPPRESSED = "suppressed", "Suppressed"
        NOT_EMAILED = "not_emailed", "Not emailed"  # the outbox did not send its email: not_emailed_reason says why

    class SuppressionReason(models.TextChoices):
        OPTED_OUT = "opted_out", "Customer opted out"
        THROTTLED = "throttled", "Throttled (recent survey)"
        CLOSE_REASON = "close_reason", "Close reason gets no survey"
        NO_EMAIL = "no_email", "Customer has no email"
        POLICY_OFF = "policy_off", "Survey policy off"
        ERASED = "erased", "Customer's data erased"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="survey_invitations")
    round = models.PositiveIntegerField(help_text="1 for the first close, 2 after a reopen and re-close, …")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="survey_invitations")
    # Snapshot at close: later reassignment or queue moves never move the rating.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_invitations"
    )
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="survey_invitations")
    status = models.CharField(max_length=12, choices=Status.choices)
    suppression_reason = models.CharField(max_length=20, choices=SuppressionReason.choices, blank=True)
    closed_at = models.DateTimeField()
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the outbox sent its survey email.")
    not_emailed_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the outbox did not send its survey email (the address bounces, past its maximum age, …).",
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The ticket was reopened after this survey was emailed: it takes no more answers (an answer "
        "given before stays counted) and gets no reminder; its page says the request was reopened.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A copy of the response while it counts (it exists and is not a link scanner's burst): its scores and whether it
    # has a comment, written only by surveys.services.answers.answer_copies_write. The feedback figures then read this
    # table alone, through the covering indexes below, instead of joining every response of the period.
    answer_counted = models.BooleanField(default=False, editable=False)
    answer_csat = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    answer_ces = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    answer_commented = models.BooleanField(default=False, editable=False)  # counted, with a comment
    emails = GenericRelation("outbox.OutgoingEmail", content_type_field="related_type", object_id_field="related_id")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "round"], name="unique_invitation_per_round")]
        indexes = [
            models.Index(fields=["status", "send_after"], name="invitation_due"),
            models.Index(fields=["status", "expires_at"], name="invitation_expiry"),
            models.Index(fields=["customer", "created_at"], name="invitation_customer"),
            # Covering the feedback figures (by agent or queue snapshot, over a sent_at period): index-only reads.
            models.Index(
                fields=["agent", "sent_at", "queue", "answer_counted", "answer_csat", "answer_ces", "answer_commented"],
                name="invitation_agent_stats",
            ),
            models.Index(
                fields=["queue", "sent_at", "agent", "answer_counted", "answer_csat", "answer_ces"],
                name="invitation_queue_stats",
            ),
        ]

    def __str__(self) -> str:
        return f"Survey for {self.ticket.reference} (round {self.round})"

    @property
    def is_open_for_answers(self) -> bool:
        return (
            # queued: its email is being sent, and its link works from then (the outbox marks it sent right after)
            self.status in (self.Status.QUEUED, self.Status.SENT, self.Status.ANSWERED)
            and self.reopened_at is None
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )


# Invitations that were emailed (whatever became of them since): the throttle counts them.
EMAILED_STATUSES = (SurveyInvitation.Status.SENT, SurveyInvitation.Status.ANSWERED, SurveyInvitation.Status.EXPIRED)


class SurveyResponse(models.Model):
    class Via(models.TextChoices):
        AUTO = "auto", "Auto-submit of the clicked score"
        PERSON = "person", "A person's action"

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE, related_name="response")
    csat = models.PositiveSmallIntegerField(choices=CSAT_CHOICES, null=True, blank=True)
    ces = models.PositiveSmallIntegerField(choices=CES_CHOICES, null=True, blank=True)
    comment = models.TextField(blank=True)
    submitted_via = models.CharField(max_length=10, choices=Via.choices)
    answered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person confirmed by their own action (CES answer or comment)."
    )
    settled_at = models.DateTimeField(null=True, blank=True, help_text="When the current answer was acted on.")
    flagged_automated = models.BooleanField(
        default=False, help_text="Several different scores within seconds: a link scanner, not a person."
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["settled_at", "updated_at"], name="response_settle")]

    def __str__(self) -> str:
        return f"Response to {self.invitation}"


class SurveyResponseChange(models.Model):
    """Every submission, in order; the response row holds the latest."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="changes")
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    ces = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    via = models.CharField(max_length=10, choices=SurveyResponse.Via.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["response", "at"], name="response_change_at")]

    def __str__(self) -> str:
        return f"CSAT {self.csat} CES {self.ces} at {self.at:%Y-%m-%d %H:%M:%S}"


class TicketRating(models.Model):
    """The ticket's latest survey answer, for the ticket list's rating column, "Poor ratings" view and rating filter
    (registered with tickets.extensions). Written only by surveys.services.answers.answer_copies_write."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="survey_rating")
    # The ticket's queue, so the "Poor ratings" view finds a queue's poor tickets in rating_poor_queue.
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+", db_index=False)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    ces = models.PositiveSmallIntegerField(null=True, blank=True)
    poor = models.BooleanField(default=False, help_text="The latest answer is at or below its policy's poor threshold.")
    rated_at = models.DateTimeField(help_text="When the latest answer was given or changed.")

    class Meta:
        # The "Poor ratings" view: a queue's poor tickets, newest rating first, counted and paged from this alone.
        indexes = [
            models.Index(
                fields=["queue", "-rated_at", "ticket"], condition=models.Q(poor=True), name="rating_poor_queue"
            )
        ]

    def __str__(self) -> str:
        return f"Rating of {self.ticket_id}: CSAT {self.csat} CES {self.ces}"


class SurveyOptOut(models.Model):
    """A customer who asked for no more surveys (the unsubscribe link); later closes are suppressed."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="survey_opt_out")
    opted_out_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "survey opt-out"

    def __str__(self) -> str:
        return f"{self.customer} (since {self.opted_out_at:%Y-%m-%d})"
