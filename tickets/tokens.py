"""Customer link tokens: minted per email, stored hashed, resolved by hash, expiry checked on every use."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .models import AccessToken


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_build(*, purpose: AccessToken.Purpose, target: models.Model, expires_at: datetime) -> tuple[str, AccessToken]:
    """A new random token for `target`: the raw token and its unsaved AccessToken (hash only). For callers that
    mint many at once and bulk_create them; token_mint saves one."""
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        token_hash=_hash(raw),
        purpose=purpose,
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        expires_at=expires_at,
    )
    return raw, token


def token_mint(*, purpose: AccessToken.Purpose, target: models.Model, expires_at: datetime) -> str:
    """Store the hash of a new random token for `target` and return the raw token (put it in the email only)."""
    raw, token = token_build(purpose=purpose, target=target, expires_at=expires_at)
    token.save(force_insert=True)
    return raw


def token_resolve(*, raw: str, purpose: AccessToken.Purpose, model: type[models.Model]) -> int | None:
    """The target id of a valid token of this purpose and model; None for unknown, tampered or expired tokens alike."""
    if not raw or len(raw) > 100:
        return None
    token = (
        AccessToken.objects.filter(
            token_hash=_hash(raw),
            purpose=purpose,
            target_type=ContentType.objects.get_for_model(model),
            expires_at__gt=timezone.now(),
        )
        .only("target_id")
        .first()
    )
    return token.target_id if token else None
