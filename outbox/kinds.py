"""The email kinds of the outbox: a registry that each app fills in its `AppConfig.ready()` with the kinds it sends.

`OutgoingEmail.kind` is a plain string; the outbox never names the kinds of the apps above it. One registration per
kind carries everything about it:

    email_kind_register(app="surveys", key="…", label="Survey", max_age=timedelta(days=3),
                        render=survey_email_render, on_outcome=survey_email_outcomes)

- `max_age`: an email not sent within this time of being due fails instead of going out late (None: no limit).
  The environment variable `OUTBOX_MAX_AGE_HOURS_<KEY>` (e.g. `OUTBOX_MAX_AGE_HOURS_SYSTEM=48`) overrides it for any
  registered kind, read when a row is queued.
- `render` (optional): for a kind queued as a *render spec*. An email whose links are credentials (a survey link, an
  unsubscribe link, a conversation link, a password-reset link) is never stored rendered: its row holds the ids its
  renderer needs (`OutgoingEmail.render_spec`, e.g. `{"invitation_id": 7}`). The send step (`outbox.services.
  outbox_send`) calls the renderer right before the SMTP transaction: it mints the email's tokens then (only their
  hashes are stored) and returns the whole email. A retry renders again, with fresh tokens; the Message-ID stays the
  row's. A renderer raises `EmailNotWanted` when the email must no longer go out (its survey was cancelled, its
  customer opted out, its object was deleted): the row is then cancelled with that reason instead of being sent.
- `on_outcome` (optional): told what became of the kind's rows — sent, failed, or cancelled, and why — with a list of
  `EmailOutcome`, inside the outbox's transaction that records it (see outbox.services).

A row whose kind is not registered (its app was removed) is shown as "unknown email kind (<key>)", never claimed by
the sweep (a warning is logged): it stays queued until its app is back, or fails as expired once past its expiry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from common.registry import Registry


@dataclass(frozen=True)
class RenderedEmail:
    """Everything that is sent; `from_email` empty means DEFAULT_FROM_EMAIL."""

    to: str
    subject: str
    text: str
    html: str = ""
    from_email: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class EmailNotWanted(Exception):
    """The email must no longer go out; the message says why (it becomes the cancelled row's last_error)."""


@dataclass(frozen=True)
class EmailOutcome:
    """What became of one row: `status` sent, failed or cancelled; `reason` why it was not sent (empty when sent)."""

    email_id: int
    related_id: int | None
    status: str
    reason: str
    at: datetime


Renderer = Callable[[dict[str, Any]], RenderedEmail]
OutcomeCallback = Callable[[Sequence[EmailOutcome]], None]


@dataclass(frozen=True)
class EmailKind:
    key: str
    label: str
    app_label: str
    max_age: timedelta | None
    render: Renderer | None = None
    on_outcome: OutcomeCallback | None = None


email_kinds: Registry[EmailKind] = Registry("email kind")


class OutboxEmail(StrEnum):
    """The outbox's own kinds (registered in OutboxConfig.ready)."""

    SYSTEM = "system"  # Django's own mail, through outbox.backends
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an email kind, not a password


def email_kind_register(
    *,
    app: str,
    key: str,
    label: str,
    max_age: timedelta | None,
    render: Renderer | None = None,
    on_outcome: OutcomeCallback | None = None,
) -> EmailKind:
    """Declare an email kind (from the owning app's ready(); `app` is its label)."""
    return email_kinds.add(
        EmailKind(key=str(key), label=label, app_label=app, max_age=max_age, render=render, on_outcome=on_outcome)
    )


def email_kind_max_age(key: str) -> timedelta | None:
    """The maximum age of a kind's rows: OUTBOX_MAX_AGE_HOURS_<KEY> if set, else its registration's."""
    override = os.environ.get(f"OUTBOX_MAX_AGE_HOURS_{key.upper()}")
    if override:
        return timedelta(hours=int(override))
    kind = email_kinds.get(key)
    return kind.max_age if kind is not None else None
