"""Customer link tokens: minted per email, stored hashed, resolved by hash, expiry checked on every use.

Each app registers the purposes of its links and the model a link of that purpose points at, in its
AppConfig.ready(): `token_purpose_register(purpose="conversation", model=Ticket)`. A token is only ever resolved
for its own purpose, to its own model: a survey link never opens a conversation.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .models import AccessToken

_PURPOSES: dict[str, type[models.Model]] = {}


def token_purpose_register(*, purpose: str, model: type[models.Model]) -> None:
    """Declare a link purpose and its target model (called from the owning app's ready())."""
    registered = _PURPOSES.setdefault(purpose, model)
    if registered is not model:
        raise ValueError(f"Token purpose {purpose!r} is already registered for {registered.__name__}.")


def _model_of(purpose: str) -> type[models.Model]:
    try:
        return _PURPOSES[purpose]
    except KeyError:
        raise ValueError(f"Unknown token purpose {purpose!r}: register it with token_purpose_register.") from None


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_build(*, purpose: str, target: models.Model, expires_at: datetime) -> tuple[str, AccessToken]:
    """A new random token for `target`: the raw token and its unsaved AccessToken (hash only). For callers that
    mint many at once and bulk_create them; token_mint saves one."""
    model = _model_of(purpose)
    if not isinstance(target, model):
        raise ValueError(f"A {purpose!r} token points at a {model.__name__}, not a {type(target).__name__}.")
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        token_hash=_hash(raw),
        purpose=purpose,
        target_type=ContentType.objects.get_for_model(model),
        target_id=target.pk,
        expires_at=expires_at,
    )
    return raw, token


def token_mint(*, purpose: str, target: models.Model, expires_at: datetime) -> str:
    """Store the hash of a new random token for `target` and return the raw token (put it in the email only)."""
    raw, token = token_build(purpose=purpose, target=target, expires_at=expires_at)
    token.save(force_insert=True)
    return raw


def token_resolve(*, raw: str, purpose: str) -> int | None:
    """The target id of a valid token of this purpose; None for unknown, tampered or expired tokens alike."""
    if not raw or len(raw) > 100:
        return None
    token = (
        AccessToken.objects.filter(
            token_hash=_hash(raw),
            purpose=purpose,
            target_type=ContentType.objects.get_for_model(_model_of(purpose)),
            expires_at__gt=timezone.now(),
        )
        .only("target_id")
        .first()
    )
    return token.target_id if token else None


def tokens_revoke(*, purpose: str, target_ids: Iterable[int]) -> int:
    """Delete every link of this purpose to these targets (e.g. an erased customer's): they then answer like unknown
    tokens. Returns how many were deleted."""
    ids = list(target_ids)
    if not ids:
        return 0
    target_type = ContentType.objects.get_for_model(_model_of(purpose))
    deleted, _ = AccessToken.objects.filter(purpose=purpose, target_type=target_type, target_id__in=ids).delete()
    return deleted
