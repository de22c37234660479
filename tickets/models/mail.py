"""The email side of a ticket: the files that came with a customer's email, the addresses an agent copied on it, and
the Message-IDs of the emails we sent about it. Re-exported by tickets.models."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .core import Message, Ticket


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under a random name: the customer's file name is shown, never used as a path."""
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file that came with a customer's email; served only to users who can see its ticket (tickets.views)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["message", "id"]

    def __str__(self) -> str:
        return self.filename


class TicketCC(models.Model):
    """An address an agent copied on the ticket: its emails are trusted as replies like the customer's own."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ccs")
    email = models.EmailField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ticket", "email"]
        verbose_name = "ticket CC"
        constraints = [models.UniqueConstraint("ticket", Lower("email"), name="unique_ticket_cc_ci")]

    def __str__(self) -> str:
        return self.email


class TicketMailRef(models.Model):
    """The Message-ID of an email we sent about a ticket (random, so a reply naming it comes from a recipient), and
    the email's purpose: a reply to a survey email is kept with the ticket without reopening it."""

    message_id = models.CharField(max_length=255, unique=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="mail_refs")
    purpose = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at"], name="mailref_ticket_created")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.message_id}"
