"""Tags on tickets: a small model of tickets' own (not django-taggit) so that every tag change goes through
tickets.services.tags — row-locked, checked against the queue, recorded as a tag_added / tag_removed TicketEvent —
and the list reads a page's tags in an annotation of its own query (see tickets.selectors.list_row_annotations)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .core import Ticket

TAG_NAME_MAX = 50


class Tag(models.Model):
    """A label agents put on tickets. Names are unique whatever their case ("VPN" and "vpn" are one tag); the slug is
    what the list's filter and the URLs use."""

    name = models.CharField(max_length=TAG_NAME_MAX, help_text="Letters, digits, spaces, - and _; no commas.")
    slug = models.SlugField(max_length=TAG_NAME_MAX + 10, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    tickets = models.ManyToManyField(Ticket, through="TicketTag", related_name="tags")  # type: ignore[var-annotated]

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="unique_tag_name_ci")]

    def __str__(self) -> str:
        return self.name


class TicketTag(models.Model):
    """A tag on a ticket: who put it there and when (the event says so too; this row is what is current)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ticket_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="ticket_tags")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "tag"], name="unique_ticket_tag")]
        # The list's tag filter: the tickets with a tag, from the index alone.
        indexes = [models.Index(fields=["tag", "ticket"], name="ticket_tag_by_tag")]

    def __str__(self) -> str:
        return f"{self.tag} on {self.ticket_id}"
