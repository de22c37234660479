"""The outbox: every email the desk sends is a row here first, written in the transaction of the change that caused it.

Life of a row: queued → (claimed by the sweep: an attempt) sending → sent | queued again (4xx to RCPT/DATA, after a
backoff; or SMTP unreachable, attempt given back) | failed (5xx to RCPT/DATA, too many attempts, or past its expiry);
cancelled by an admin, by the code that queued it, or by the send step when the row's renderer says the email is no
longer wanted. The rule is common.leased_jobs'; README "How email works".

A row holds either a rendered email (subject, bodies, headers) or, for an email that carries customer links, a
*render spec*: its kind and the ids its renderer needs (`render_spec`), rendered only when it is sent, with links
minted then (see outbox.kinds). A rendered row whose body may hold a credential (Django's own mail) has
`secret_body`: the admin never shows it, and it is erased once the row is sent, failed or cancelled.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from common.leased_jobs import LeasedJob, job_indexes

from .kinds import OutboxEmail, email_kinds


class OutgoingEmail(LeasedJob):
    class Status(models.TextChoices):  # the leased-job states (common.leased_jobs.JobStatus) plus `sent`
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(
        max_length=30, default=OutboxEmail.SYSTEM.value, help_text="A registered email kind (outbox.kinds)."
    )
    to_email = models.CharField(max_length=254)
    from_email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    render_spec = models.JSONField(
        null=True,
        blank=True,
        help_text="Set for an email rendered when it is sent (its kind's renderer gets these ids); then the subject, "
        "sender and bodies are empty until it is sent and the bodies are never stored.",
    )
    secret_body = models.BooleanField(
        default=False,
        help_text="The stored body may hold a credential (Django's own mail, e.g. a reset link): never shown, erased "
        "once the row is sent, failed or cancelled.",
    )
    message_id = models.CharField(max_length=255, help_text="Set when queued; the same on every attempt.")

    # status, attempts, next_attempt_at, lease_until, claim_token, last_error: from LeasedJob
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    related_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    related_id = models.PositiveBigIntegerField(null=True, blank=True)
    related = GenericForeignKey("related_type", "related_id")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            *job_indexes("outbox"),
            models.Index(fields=["related_type", "related_id"], name="outbox_related"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} to {self.to_email}: {self.subject or '(rendered when sent)'}"

    @property
    def kind_label(self) -> str:
        return email_kinds.label(self.kind)


class Heartbeat(models.Model):
    """Last sign of life of a process kind ('beat', 'worker'), shown on the health page and /healthz."""

    name = models.CharField(max_length=20, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"


class Suppression(models.Model):
    """An address that bounces: a failed delivery status notification (5.x.x) citing one of our emails named it.
    No email of any kind goes to it (the send step cancels them) until an admin deletes the row."""

    email = models.EmailField()
    reason = models.CharField(max_length=300, help_text="The bounce's status and diagnostic.")
    bounced_message_id = models.CharField(max_length=255, blank=True, help_text="Our email that bounced.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(Lower("email"), name="unique_suppression_email_ci")]

    def __str__(self) -> str:
        return self.email
