"""Tickets domain, events: one row per change of a ticket (see tickets.models and tickets.event_kinds)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..event_kinds import ticket_event_kind_validate, ticket_event_kinds
from .core import Ticket


class TicketEvent(models.Model):
    """One change of a ticket. `kind` is a registered ticket event kind (tickets.event_kinds): tickets' own are
    `Kind`; the apps above register theirs."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        ASSIGNEE = "assignee", "Assignee changed"
        PRIORITY = "priority", "Priority changed"
        QUEUE = "queue", "Queue changed"
        SLA_WARNING = "sla_warning", "SLA target nearly due"
        SLA_BREACH = "sla_breach", "SLA target breached"
        MESSAGE = "message", "Message added"
        ERASED = "erased", "Customer's personal data erased"
        CC_ADDED = "cc_added", "Address copied"
        CC_REMOVED = "cc_removed", "Address no longer copied"
        CUSTOMER_EMAIL = "customer_email", "Customer's address corrected"
        TAG_ADDED = "tag_added", "Tag added"
        TAG_REMOVED = "tag_removed", "Tag removed"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(
        max_length=20,
        validators=[ticket_event_kind_validate],
        help_text="A registered ticket event kind (tickets.event_kinds); tickets' own are Kind.",
    )
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_at")]

    def __str__(self) -> str:
        return f"{self.kind_label}: {self.old_value or '—'} → {self.new_value or '—'}"

    @property
    def kind_label(self) -> str:
        """The registered kind's label, or "unknown event (<key>)"."""
        return ticket_event_kinds.label(self.kind)
