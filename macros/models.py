"""Macros (canned replies): a text with placeholders and optional actions (status, priority, assignee), shared with
a queue's agents or personal to one agent. Applying one fills the reply box and lists its actions; sending the reply
performs them (macros.services.macro_apply) and counts the use (MacroUse), which leads see per macro."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tickets.models import Priority, Queue, Status, Ticket

BODY_MAX = 20_000


class Macro(models.Model):
    class Assign(models.TextChoices):
        ME = "me", "The agent who applies it"
        NOBODY = "nobody", "Nobody (unassign)"

    name = models.CharField(max_length=100)
    body = models.TextField(
        max_length=BODY_MAX,
        help_text="The reply's text. Placeholders: {{ customer.first_name }}, {{ customer.name }}, "
        "{{ ticket.reference }}, {{ agent.name }}, {{ agent.first_name }}, {{ queue.name }}; anything else stays as "
        "written.",
    )
    queue = models.ForeignKey(
        Queue, on_delete=models.CASCADE, null=True, blank=True, related_name="+", help_text="Shared with its agents."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
        help_text="Personal: only its owner sees it.",
    )
    set_status = models.CharField(
        "then set the status",
        max_length=10,
        blank=True,
        choices=[(s.value, s.label) for s in (Status.OPEN, Status.PENDING, Status.ON_HOLD)],
    )
    set_priority = models.CharField("then set the priority", max_length=10, blank=True, choices=Priority.choices)
    assign = models.CharField("then assign to", max_length=10, blank=True, choices=Assign.choices)
    add_tags = models.CharField(
        "then add tags", max_length=200, blank=True, help_text="Tag names, separated by commas (e.g. refund, vip)."
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(queue__isnull=False, owner__isnull=True)
                | models.Q(queue__isnull=True, owner__isnull=False),
                name="macro_of_a_queue_or_an_agent",
            )
        ]
        indexes = [models.Index(fields=["queue", "active"], name="macro_queue_active")]

    def __str__(self) -> str:
        return self.name

    @property
    def actions(self) -> list[str]:
        """What sending the reply with this macro does besides sending it, in words."""
        done = []
        if self.set_status:
            done.append(f"status → {self.get_set_status_display()}")
        if self.set_priority:
            done.append(f"priority → {self.get_set_priority_display()}")
        if self.assign:
            done.append(f"assign → {self.get_assign_display().lower()}")
        if self.add_tags:
            done.append(f"tags + {self.add_tags}")
        return done


class MacroUse(models.Model):
    """One reply sent with the macro (the lead's usage count)."""

    macro = models.ForeignKey(Macro, on_delete=models.CASCADE, related_name="uses")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["macro", "at"], name="macro_use_at")]

    def __str__(self) -> str:
        return f"{self.macro} on {self.ticket_id} at {self.at:%Y-%m-%d %H:%M}"
