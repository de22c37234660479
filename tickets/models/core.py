"""Tickets domain, core: queues, customers, tickets and messages (see tickets.models)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from common.users import display_name

from .calendars import BusinessCalendar


class Queue(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    reply_from_email = models.EmailField(help_text="Emails to customers of this queue are sent from this address.")
    business_calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="queues",
        help_text="Leave empty for 24/7.",
    )
    pending_autoclose_days = models.PositiveIntegerField(
        default=7, help_text="Close tickets left pending this many days (reason: no response). 0 turns it off."
    )
    reopen_window_days = models.PositiveIntegerField(
        default=30,
        help_text="A customer's email on a ticket closed less than this many days ago reopens it; a later one starts "
        "a new ticket linked to the closed one.",
    )
    attachment_max_mb = models.PositiveIntegerField(
        default=10, help_text="Emailed attachments larger than this (MB, each) are not kept; the message says so."
    )
    attachment_max_count = models.PositiveIntegerField(
        default=10, help_text="At most this many attachments are kept from one email; the message names the rest."
    )
    assign_on_reply = models.BooleanField(
        "assign on reply",
        default=True,
        help_text="A public reply to an unassigned ticket assigns it to the agent who replied, so their tickets and "
        "the team's figures include the work they did.",
    )
    members = models.ManyToManyField(  # type: ignore[var-annotated]
        settings.AUTH_USER_MODEL, through="QueueMembership", related_name="helpdesk_queues"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class QueueMembership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        LEAD = "lead", "Lead"

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)

    class Meta:
        ordering = ["queue", "role", "user"]
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="unique_queue_membership")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.queue}"


class Customer(models.Model):
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the customer's personal data was erased (tickets.erasure): name and email are placeholders.",
    )

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="unique_customer_email_ci")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    CLOSED = "closed", "Closed"


class CloseReason(models.TextChoices):
    SOLVED = "solved", "Solved"
    DUPLICATE = "duplicate", "Duplicate"
    SPAM = "spam", "Spam"
    NO_RESPONSE = "no_response", "No response"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)

# Stored metrics: (field stem, label). Each stem has <stem>_seconds and <stem>_business_seconds columns.
METRIC_STEMS = (
    ("first_reply", "First reply time"),
    ("resolution", "Full resolution time"),
    ("requester_wait", "Requester wait time"),
    ("agent_wait", "Agent wait time"),
    ("on_hold", "On-hold time"),
)


class Ticket(models.Model):
    subject = models.CharField(max_length=250)
    queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )  # ticket_queue_id
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    first_replied_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    public_reply_count = models.PositiveIntegerField(default=0)
    sla_due_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="The nearest due time of the ticket's running SLA targets."
    )
    follows = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followed_by",
        help_text="The closed ticket this one continues (the customer wrote after its reopen window).",
    )

    # Metrics, computed from the ticket events on close (and reopen) by tickets.metrics; null until known.
    first_reply_seconds = models.PositiveIntegerField(null=True, blank=True)
    first_reply_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    requester_wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    requester_wait_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    agent_wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    agent_wait_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    on_hold_seconds = models.PositiveIntegerField(null=True, blank=True)
    on_hold_business_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The queue's foreign key index, with the id: a join that knows a ticket's id and queue (another app's
            # table keyed by ticket, e.g. a rating kept with its ticket's queue) checks the ticket's visibility in it.
            models.Index(fields=["queue", "id"], name="ticket_queue_id"),
            models.Index(fields=["queue", "status", "-updated_at"], name="ticket_queue_status_upd"),
            # queue last: "my open tickets" counts (queue membership checked too) from the index alone
            models.Index(fields=["assignee", "status", "-updated_at", "queue"], name="ticket_assignee_status_q"),
            models.Index(fields=["status", "status_changed_at"], name="ticket_status_changed"),
            # The team dashboard's closed-ticket figures (count, median first reply and resolution) read this alone.
            models.Index(
                fields=["queue", "closed_at", "assignee", "close_reason", "first_reply_seconds", "resolution_seconds"],
                name="ticket_queue_closed_metrics",
            ),
            models.Index(fields=["-created_at", "-id"], name="ticket_created"),
            # The list's default order: walked in order, skipping other statuses, until a page is full. (Partial
            # indexes on the open statuses are not used by SQLite when the statuses are query parameters.)
            models.Index(fields=["assignee", "-updated_at", "-id"], name="ticket_assignee_upd"),
            models.Index(fields=["queue", "-updated_at", "-id"], name="ticket_queue_upd"),
            # The SLA column's sort and the "breaching"/"breached" views: by queue (the visibility rule) and due time.
            models.Index(fields=["queue", "sla_due_at"], name="ticket_queue_sla_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(status="closed") & ~models.Q(close_reason="") & models.Q(closed_at__isnull=False))
                | (~models.Q(status="closed") & models.Q(close_reason="")),
                name="ticket_closed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return format_reference(self.pk)

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def age(self) -> timedelta:
        return timezone.now() - self.created_at


# The purpose of the customer's conversation links (registered with common.tokens in TicketsConfig.ready).
CONVERSATION_LINK_PURPOSE = "conversation"


def format_reference(pk: int | None) -> str:
    """Human reference derived from the primary key (never from a count, which changes when rows are deleted)."""
    return f"HD-{pk:06d}" if pk else "HD-new"


def parse_reference(text: str) -> int | None:
    """'HD-000123', 'hd-123' or '123' → 123; anything else → None."""
    text = text.strip().upper().removeprefix("HD-")
    return int(text) if text.isdigit() else None


class Channel(models.TextChoices):
    WEB = "web", "Web"
    EMAIL = "email", "Email"


class Message(models.Model):
    class Kind(models.TextChoices):
        PUBLIC_REPLY = "public_reply", "Public reply"
        INTERNAL_NOTE = "internal_note", "Internal note"
        CUSTOMER_MESSAGE = "customer_message", "Customer message"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    body = models.TextField(help_text="For an email, the new text only: quoted history and signature stripped.")
    created_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    email_message_id = models.CharField(max_length=255, blank=True, help_text="The Message-ID of the email it came in.")
    full_body = models.TextField(blank=True, help_text="An email's whole text, quoted history included.")
    reply_to_purpose = models.CharField(
        max_length=30, blank=True, help_text="The purpose of our email it answers (e.g. a survey email's), when known."
    )
    customer_email = models.ForeignKey(
        "outbox.OutgoingEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="A public reply's email to the customer: its delivery state is shown beside the reply.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="customer_message", author_customer__isnull=False, author_user__isnull=True)
                    | (
                        models.Q(kind__in=["public_reply", "internal_note"])
                        & models.Q(author_user__isnull=False, author_customer__isnull=True)
                    )
                ),
                name="message_author_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket.reference}"

    @property
    def author_display(self) -> str:
        if self.author_customer_id:
            return str(self.author_customer)
        return display_name(self.author_user)
