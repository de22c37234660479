"""The one model of the bottom layer: the hashed credential of a customer link (common.tokens writes and reads it)."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils import timezone


class AccessToken(models.Model):
    """A customer link's credential. Only the SHA-256 of the random token is stored; the token itself exists only
    in the email that carried it. One row per email and purpose. `purpose` is one an app registered with
    common.tokens.token_purpose_register (e.g. "conversation" by tickets, "survey" by surveys)."""

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
