"""What the sentiment app keeps: a score per customer text (a message or a survey comment), the latest customer
message's label per ticket (read by the list and the ticket page with the ticket), the queues' spikes, and a
per-queue policy. Internal: never in a webhook or on a customer page; erased with the customer."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from surveys.models import SurveyResponse
from tickets.models import Customer, Message, Queue, Ticket

from .scoring import Label


class TextSentiment(models.Model):
    """The score of one customer text: a customer message, or a survey comment (rescored when it is edited)."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="sentiment")
    response = models.OneToOneField(
        SurveyResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="sentiment"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+", db_index=False)  # follows moves
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=12, choices=[(label.value, label.value.replace("_", " ")) for label in Label])
    score = models.FloatField(null=True, blank=True, help_text="−1 (negative) … 1 (positive); none when not scored.")
    language = models.CharField(max_length=8, blank=True)
    version = models.CharField(max_length=40, help_text="The scorer's version.")
    reason = models.CharField(max_length=100, blank=True, help_text="Why it was not scored.")
    text_digest = models.CharField(max_length=64, help_text="SHA-256 of the scored text: an unchanged one is kept.")
    written_at = models.DateTimeField(help_text="When the customer wrote (or last edited) the text.")
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["queue", "scored_at", "label"], name="sentiment_queue_scored"),
            # the customer history card's newest scores of a customer (a big customer has thousands)
            models.Index(fields=["customer", "-written_at"], name="sentiment_customer_written"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(message__isnull=False, response__isnull=True)
                | models.Q(message__isnull=True, response__isnull=False),
                name="sentiment_one_text",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.score})" if self.score is not None else self.label

    @property
    def is_comment(self) -> bool:
        return self.response_id is not None


class TicketSentiment(models.Model):
    """The label of the ticket's latest customer message, as TicketRating keeps the latest rating."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sentiment")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    message_created_at = models.DateTimeField()
    label = models.CharField(max_length=12, choices=TextSentiment._meta.get_field("label").choices)
    score = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["label"], name="ticket_sentiment_label")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.label}"


class SentimentSpike(models.Model):
    """A queue whose negative share over an hour reached the spike ratio × its 30-day baseline: flagged on the live
    panel, and its leads emailed (one spike per queue per hour at most)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    flagged_at = models.DateTimeField(default=timezone.now)
    scored = models.PositiveIntegerField(help_text="Texts scored in the hour.")
    negative = models.PositiveIntegerField()
    baseline_share = models.FloatField(help_text="The 30-day negative share before the hour (0…1).")

    class Meta:
        indexes = [models.Index(fields=["queue", "flagged_at"], name="sentiment_spike_queue")]

    def __str__(self) -> str:
        return f"{self.queue} at {self.flagged_at:%Y-%m-%d %H:%M}"

    @property
    def share(self) -> float:
        return self.negative / self.scored if self.scored else 0.0


class SentimentPolicy(models.Model):
    """A queue's sentiment settings; a queue without a row has the defaults."""

    queue = models.OneToOneField(Queue, on_delete=models.CASCADE, primary_key=True, related_name="+")
    followup_on_negative_comment = models.BooleanField(
        "open a follow-up for a negative comment beside a good score",
        default=True,
        help_text="A good CSAT/CES with a clearly negative comment opens a recovery follow-up as a poor score does.",
    )

    class Meta:
        verbose_name_plural = "sentiment policies"

    def __str__(self) -> str:
        return f"Sentiment policy of {self.queue}"
