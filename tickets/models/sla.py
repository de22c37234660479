"""SLA policies and each ticket's targets (the clocks themselves are tickets.sla.rules; the services keep these rows and
Ticket.sla_due_at up to date). Re-exported by tickets.models."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .core import Priority, Queue, Ticket

POSITIVE = [MinValueValidator(1)]


class SlaPolicy(models.Model):
    """Targets for the tickets of one queue and priority. An edit applies to clocks that start after it: a running
    clock keeps the target it started with (unless the ticket's priority or queue changes)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=10, choices=Priority.choices)
    first_reply_minutes = models.PositiveIntegerField(null=True, blank=True, validators=POSITIVE)
    next_reply_minutes = models.PositiveIntegerField(null=True, blank=True, validators=POSITIVE)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True, validators=POSITIVE)
    business_hours = models.BooleanField(
        default=True,
        help_text="Count the working hours of the queue's business calendar (off: calendar hours, around the clock).",
    )
    pause_while_waiting = models.BooleanField(
        default=True, help_text="The resolution clock stops while the ticket is pending or on hold."
    )
    warn_at_percent = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="Warn when this share of a target has passed.",
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Clocks that start before this get no target from it.")

    class Meta:
        ordering = ["queue", "priority"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [models.UniqueConstraint(fields=["queue", "priority"], name="unique_sla_policy")]

    def __str__(self) -> str:
        return f"{self.queue} — {self.get_priority_display()}"

    def clean(self) -> None:
        if not (self.first_reply_minutes or self.next_reply_minutes or self.resolution_minutes):
            raise ValidationError("Set at least one target.")
        if self.business_hours and self.queue_id:
            calendar = Queue.objects.select_related("business_calendar").get(pk=self.queue_id).business_calendar
            if calendar is None or not calendar.working_hours.exists():
                raise ValidationError(
                    {"business_hours": "The queue's business calendar has no working hours: give it some, or count "
                     "calendar hours."}
                )  # fmt: skip

    def target_seconds(self, kind: str) -> int | None:
        minutes = getattr(self, f"{kind}_minutes")
        return minutes * 60 if minutes else None


class SlaTarget(models.Model):
    """One clock of a ticket against its target. While it runs: due_at and warn_at (None while paused). Once it
    stops: its result and elapsed seconds (business seconds for a business-hours target), with the queue and agent
    it counts for."""

    class Kind(models.TextChoices):
        FIRST_REPLY = "first_reply", "First reply"
        NEXT_REPLY = "next_reply", "Next reply"
        RESOLUTION = "resolution", "Resolution"

    class Result(models.TextChoices):
        OPEN = "", "Running"
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        EXCLUDED = "excluded", "Excluded"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_targets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_at = models.DateTimeField()
    target_seconds = models.PositiveIntegerField()
    business_hours = models.BooleanField()
    warn_at_percent = models.PositiveSmallIntegerField()
    pause_while_waiting = models.BooleanField(
        default=True, help_text="The policy's switch when the target started (or was re-derived)."
    )
    # What the target was derived from: a change of either re-derives a running target from its start.
    priority = models.CharField(max_length=10, choices=Priority.choices)
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=10, choices=Result.choices, blank=True, default="")
    settled_at = models.DateTimeField(null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    warned_at = models.DateTimeField(null=True, blank=True, help_text="When the warning was recorded (once).")
    breached_at = models.DateTimeField(null=True, blank=True, help_text="When the breach was recorded (once).")

    class Meta:
        ordering = ["ticket", "started_at", "kind"]
        constraints = [models.UniqueConstraint(fields=["ticket", "kind", "started_at"], name="unique_sla_target")]
        indexes = [
            # beat: running targets past their warning or due time
            models.Index(fields=["warn_at"], condition=models.Q(result=""), name="sla_target_warn"),
            models.Index(fields=["due_at"], condition=models.Q(result=""), name="sla_target_due"),
            # reporting: settled targets per queue / agent and period
            models.Index(fields=["queue", "settled_at", "kind", "result"], name="sla_target_queue_settled"),
            models.Index(fields=["agent", "settled_at", "kind", "result"], name="sla_target_agent_settled"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.ticket_id}"


class SlaDailyCount(models.Model):
    """Settled SLA targets counted per day (UTC), queue, agent and kind: what the reports add up, a few rows per
    agent and day instead of every target of the period. Kept by tickets.sla.counts with the targets (in the same
    transaction), rebuilt from them by sla_counts_rebuild."""

    day = models.DateField()
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    agent_key = models.PositiveIntegerField(help_text="The agent's user id; 0 for targets that settled unassigned.")
    kind = models.CharField(max_length=20, choices=SlaTarget.Kind.choices)
    met = models.PositiveIntegerField(default=0)
    breached = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["queue", "day", "agent_key", "kind"]
        verbose_name = "SLA daily count"
        constraints = [
            models.UniqueConstraint(fields=["queue", "day", "agent_key", "kind"], name="unique_sla_daily_count")
        ]
        indexes = [models.Index(fields=["agent_key", "day"], name="sla_daily_agent_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.met} met, {self.breached} breached"
