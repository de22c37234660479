"""Email in: every email the desk receives is an InboundEmail row first, stored before it is answered for.

Life of a row: received (stored; the gateway has answered 250, or the IMAP poller may now move past its UID) →
routed by a Celery task (a beat sweep re-queues rows left received) to one outcome: added to a ticket, a new ticket,
held for an agent ("unverified message"), a redelivery of an earlier email (same Message-ID and From, other bytes:
a backup MX added a header), ignored (auto-reply, our own mail, a delay notice) or a bounce recorded; or failed
with its error (retryable from the admin). Nothing is dropped without a row that says why.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from tickets.models import Message, Queue, Ticket


class InboundEmail(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received (not routed yet)"
        ROUTED = "routed", "Routed"
        HELD = "held", "Held for an agent"
        ACCEPTED = "accepted", "Accepted by an agent"
        REJECTED = "rejected", "Rejected by an agent"
        IGNORED = "ignored", "Ignored"
        REDELIVERY = "redelivery", "Redelivery of an earlier email"
        FAILED = "failed", "Failed"

    class Channel(models.TextChoices):
        SMTP = "smtp", "SMTP gateway"
        LMTP = "lmtp", "LMTP gateway"
        IMAP = "imap", "IMAP mailbox"

    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="inbound_emails")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    envelope_sender = models.CharField(max_length=998, blank=True, help_text="MAIL FROM (empty for a bounce).")
    recipient = models.CharField(max_length=998, blank=True, help_text="RCPT TO (or the IMAP mailbox's address).")
    message_id = models.CharField(max_length=998, help_text="As sent (empty when the message had none).")
    sha256 = models.CharField(max_length=64, help_text="Of the raw bytes as received (before redaction).")
    size = models.PositiveBigIntegerField()
    raw = models.BinaryField(null=True, blank=True, help_text="The MIME message, our own links redacted.")
    raw_file = models.FileField(upload_to="inbound/%Y/%m/", blank=True, help_text="Used instead of `raw` when large.")
    from_address = models.CharField(max_length=998, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.CharField(max_length=300, blank=True, help_text="What routing did, in words.")
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    routed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ticket_message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="The first delivery."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # A redelivery is a no-op; a forged copy of a real Message-ID (other bytes) cannot block the real one.
            models.UniqueConstraint(fields=["queue", "message_id", "sha256"], name="inbound_unique_delivery"),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received"),
            models.Index(fields=["ticket", "status"], name="inbound_ticket_status"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address or self.envelope_sender or '(no sender)'}: {self.subject or '(no subject)'}"

    def raw_bytes(self) -> bytes:
        if self.raw is not None:
            return bytes(self.raw)
        with self.raw_file.open("rb") as stored:
            return stored.read()


def _fernet() -> Fernet:
    return Fernet(settings.INBOUND_CREDENTIALS_KEY)


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class ImapMailbox(models.Model):
    """A queue's mailbox at a mail provider, polled over IMAP (inbound.imap) when the desk has no MX of its own.

    Only username/password login: OAuth2 (Gmail, Microsoft 365 modern auth) is not supported. The password is kept
    encrypted with INBOUND_CREDENTIALS_KEY (Fernet). Progress is the last UID stored under the folder's UIDVALIDITY,
    never the \\Seen flag, which a person reading the mailbox changes.
    """

    class Security(models.TextChoices):
        SSL = "ssl", "SSL/TLS (port 993)"
        STARTTLS = "starttls", "STARTTLS (port 143)"
        NONE = "none", "None: plain text, only for a test server on this machine"

    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="imap_mailboxes")
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(
        max_length=10,
        choices=Security.choices,
        default=Security.SSL,
        help_text="None sends the password in plain text: only for a local test server (localhost/127.0.0.1).",
    )
    username = models.CharField(max_length=255)
    password_encrypted = models.TextField(editable=False, help_text="Fernet token (INBOUND_CREDENTIALS_KEY).")
    folder = models.CharField(max_length=255, default="INBOX")
    enabled = models.BooleanField(default=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False, help_text="Every message up to it is stored.")
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    polling_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Lease: a poller is at work until then (one at a time)."
    )

    class Meta:
        verbose_name = "IMAP mailbox"
        verbose_name_plural = "IMAP mailboxes"
        constraints = [
            models.UniqueConstraint(fields=["host", "port", "username", "folder"], name="inbound_unique_imap_mailbox"),
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.host}/{self.folder}"

    def clean(self) -> None:
        if self.security == self.Security.NONE and self.host.strip().lower() not in LOOPBACK_HOSTS:
            raise ValidationError({"security": "Plain text (no TLS) is only allowed for a server on this machine."})

    def password_set(self, password: str) -> None:
        self.password_encrypted = _fernet().encrypt(password.encode()).decode()

    def password(self) -> str:
        """The plain password; InvalidToken if INBOUND_CREDENTIALS_KEY changed since it was stored."""
        return _fernet().decrypt(self.password_encrypted.encode()).decode()
