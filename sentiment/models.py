"""One row per scored text (a customer message or a survey comment) and the latest customer message's sentiment kept
per ticket, so the list and the ticket page read it without a join per row. Internal data: no webhook, no customer
page, erased with the customer."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from surveys.models import SurveyResponse
from tickets.models import Customer, Message, Queue, Ticket

from .scoring import Label

LABEL_CHOICES = [(label.value, label.value.replace("_", " ").capitalize()) for label in Label]


class TextSentiment(models.Model):
    class Source(models.TextChoices):
        MESSAGE = "message", "Customer message"
        COMMENT = "comment", "Survey comment"

    source = models.CharField(max_length=10, choices=Source.choices)
    message = models.OneToOneField(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="sentiment")
    response = models.OneToOneField(
        SurveyResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="sentiment"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=12, choices=LABEL_CHOICES)
    score = models.FloatField(null=True, blank=True, help_text="−1 (negative) … 1 (positive); empty when not scored.")
    language = models.CharField(max_length=8, blank=True)
    reason = models.CharField(max_length=100, blank=True, help_text="Why the text was not scored.")
    scorer_version = models.CharField(max_length=20)
    written_at = models.DateTimeField(help_text="When the customer wrote the text.")
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["queue", "scored_at"], name="sentiment_queue_scored"),
            models.Index(fields=["ticket", "written_at"], name="sentiment_ticket_written"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(source="message", message__isnull=False, response__isnull=True)
                    | models.Q(source="comment", message__isnull=True, response__isnull=False)
                ),
                name="sentiment_one_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} on {self.ticket_id}: {self.label}"


class TicketSentiment(models.Model):
    """The latest scored customer message of a ticket (written only with its TextSentiment)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sentiment")
    label = models.CharField(max_length=12, choices=LABEL_CHOICES)
    score = models.FloatField(null=True, blank=True)
    written_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.label}"
