"""Recovery follow-ups: opened by a settled poor rating of a ticket or by a customer's NPS answer (a detractor, or a
passive whose reason reads negative), worked by agents in the UI, with their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tickets.models import Customer, Queue, Ticket

from .core import SurveyInvitation


class FollowUp(models.Model):
    """A recovery task: contact the customer and record the outcome. Opened by a settled poor rating of a ticket
    (invitation and ticket set), or by a customer's NPS answer — a detractor, or a passive whose reason reads
    negative — which belongs to no ticket (nps_survey set while the answer exists; invitation and ticket empty)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONTACTED = "contacted", "Contacted"
        RESOLVED = "resolved", "Resolved"
        UNREACHABLE = "unreachable", "Unreachable"

    class RootCause(models.TextChoices):
        PRODUCT_BUG = "product_bug", "Product bug"
        SLOW_RESPONSE = "slow_response", "Slow response"
        WRONG_ANSWER = "wrong_answer", "Wrong answer"
        AGENT_TONE = "agent_tone", "Agent tone"
        POLICY = "policy", "Policy"
        OTHER = "other", "Other"

    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, null=True, blank=True, related_name="followup"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="followups")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="followups")
    nps_survey = models.OneToOneField(
        "surveys.NpsSurvey",
        on_delete=models.SET_NULL,  # erasure deletes the answer; the follow-up's figures stay
        null=True,
        blank=True,
        related_name="followup",
        help_text="The NPS answer that opened it (a follow-up of the relationship survey).",
    )
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="followups")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="followups"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    rating_improved_at = models.DateTimeField(null=True, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    reason = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why an app above surveys opened it (e.g. a negative comment beside a good score); "
        "blank for a poor rating.",
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="followup_owner_due"),
            models.Index(fields=["queue", "status", "due_at"], name="followup_queue_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invitation__isnull=False, ticket__isnull=False, nps_survey__isnull=True)
                | models.Q(invitation__isnull=True, ticket__isnull=True),
                name="followup_of_a_rating_or_a_customer",
            )
        ]

    def __str__(self) -> str:
        return f"Follow-up on {self.about}"

    @property
    def about(self) -> str:
        """What it follows up, for titles and emails: the ticket, or the customer's NPS answer."""
        if self.ticket is not None:
            return f'{self.ticket.reference} "{self.ticket.subject}"'
        return f"the NPS answer of {self.customer.name or self.customer.email}"


class FollowUpEvent(models.Model):
    """The history of a follow-up: every action on it, by whom and when (written by surveys.services)."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        CONTACTED = "contacted", "Customer contacted"
        RESOLVED = "resolved", "Resolved"
        UNREACHABLE = "unreachable", "Customer unreachable"
        REASSIGNED = "reassigned", "Reassigned"
        REMINDED = "reminded", "Reminder sent"
        ESCALATED = "escalated", "Escalated"

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["followup", "at"], name="followup_event_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
