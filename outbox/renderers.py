"""Emails rendered when they are sent: the renderer registry of the outbox.

An email whose links are credentials (a survey link, an unsubscribe link, a conversation link, a password-reset link)
is never stored rendered. Its row holds a *render spec* instead: the email's kind and the ids its renderer needs
(`OutgoingEmail.render_spec`, e.g. `{"invitation_id": 7}`). The app that owns the kind registers the renderer in its
`AppConfig.ready()` — `email_renderer_register(kind=OutgoingEmail.Kind.SURVEY, render=survey_email_render)` — since
the outbox, below the apps, cannot import them. The send step (`outbox.services.outbox_send`) calls it right before
the SMTP transaction: the renderer mints the email's tokens then (only their hashes are stored) and returns the whole
email. A retry renders again, with fresh tokens; the Message-ID stays the row's.

A renderer raises `EmailNotWanted` when the email must no longer go out (its survey was cancelled, its customer
opted out, its object was deleted): the row is then cancelled with that reason instead of being sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from .models import OutgoingEmail


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


Renderer = Callable[[dict[str, Any]], RenderedEmail]
_RENDERERS: dict[str, Renderer] = {}


def email_renderer_register(*, kind: str, render: Renderer) -> None:
    """Declare how rows of `kind` are rendered (called from the owning app's ready()); `render(spec)`."""
    if kind not in OutgoingEmail.Kind.values:
        raise ValueError(f"{kind!r} is not an OutgoingEmail.Kind.")
    registered = _RENDERERS.setdefault(kind, render)
    if registered is not render:
        raise ValueError(f"Emails of kind {kind!r} already have a renderer.")


def email_render(email: OutgoingEmail) -> RenderedEmail:
    """What to send for this row: its renderer's email for a render spec, else the content stored in the row."""
    if email.render_spec is None:
        return RenderedEmail(
            to=email.to_email,
            subject=email.subject,
            text=email.body_text,
            html=email.body_html,
            from_email=email.from_email,
            headers=email.headers,
        )
    try:
        render = _RENDERERS[email.kind]
    except KeyError:
        raise LookupError(f"No renderer for emails of kind {email.kind!r}: is its app installed?") from None
    try:
        return render(dict(email.render_spec))
    except ObjectDoesNotExist as gone:
        raise EmailNotWanted(f"what it is about no longer exists ({gone})") from gone
