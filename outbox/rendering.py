"""The message the send step sends for a row: stored content, or its kind's renderer's email for a render spec
(rendered now, its links minted now; see outbox.kinds)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMultiAlternatives

from .kinds import EmailNotWanted, RenderedEmail, email_kinds
from .models import OutgoingEmail


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
    kind = email_kinds.get(email.kind)
    if kind is None or kind.render is None:
        raise LookupError(f"No renderer for emails of kind {email.kind!r}: is its app installed?")
    try:
        return kind.render(dict(email.render_spec))
    except ObjectDoesNotExist as gone:
        raise EmailNotWanted(f"what it is about no longer exists ({gone})") from gone


def build_message(email: OutgoingEmail, connection: object = None) -> EmailMultiAlternatives:
    """The message to send for a row: a render spec is rendered now (its links minted now)."""
    rendered = email_render(email)
    message = EmailMultiAlternatives(
        subject=" ".join(rendered.subject.split()),  # no header injection through newlines
        body=rendered.text,
        from_email=rendered.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[rendered.to],
        headers={**rendered.headers, "Message-ID": email.message_id},
        connection=connection,
    )
    if rendered.html:
        message.attach_alternative(rendered.html, "text/html")
    return message
