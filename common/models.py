"""The models of the bottom layer: the hashed credential of a customer link (common.tokens writes and reads it), and
the circuit breaker of a transport that leased jobs go through (common.breakers writes and reads it)."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils import timezone


class AccessToken(models.Model):
    """A customer link's credential. Only the SHA-256 of the random token is stored; the token itself exists only
    in the email that carried it. One row per email and purpose. `purpose` is one an app registered with
    common.tokens.token_purpose_register (e.g. "conversation" by tickets, the survey link's by surveys)."""

    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=20)
    target_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["target_type", "target_id"], name="token_target")]

    def __str__(self) -> str:
        return f"{self.purpose} token for {self.target_type.model} #{self.target_id}"


class CircuitBreaker(models.Model):
    """The state of one transport that leased jobs are sent through: "smtp" for the outbox, "webhook:<endpoint id>"
    for each webhook endpoint. Closed (failures 0) while it works; opened by transport trouble, half-open from
    `retry_at` on (one probe), closed by the first success. Only common.breakers writes it."""

    name = models.CharField(max_length=100, primary_key=True)
    failures = models.PositiveIntegerField(default=0, help_text="Trips in a row; 0 = closed.")
    opened_at = models.DateTimeField(null=True, blank=True, help_text="Unreachable since (the first trip).")
    retry_at = models.DateTimeField(null=True, blank=True, help_text="Open until then; from then one probe may go.")
    probe_token = models.CharField(max_length=32, blank=True, help_text="The claim token of the probe in flight.")
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {'closed' if not self.failures else f'open since {self.opened_at:%Y-%m-%d %H:%M:%S}'}"
