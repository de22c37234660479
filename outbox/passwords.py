"""Password-reset mail without a stored reset link.

Django's PasswordResetForm renders the reset link into the mail it sends, and every mail the desk sends is stored in
the outbox: the link would sit in the database, readable by staff, until the mail went out. The desk's password-reset
view (helpdesk/urls.py) uses this form instead, which queues a render spec of kind `password_reset` (the user's id
and the page's domain and protocol). The renderer below makes the reset token and the email when the row is sent, so
the link only ever exists in the email itself; a retry makes a fresh token, valid PASSWORD_RESET_TIMEOUT from then.
The default token generator and the form's templates are used (the view sets no other token generator).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .kinds import EmailNotWanted, OutboxEmail, RenderedEmail
from .services import email_spec_enqueue


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, queuing the reset mail as a render spec instead of sending it rendered."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        email_spec_enqueue(
            kind=OutboxEmail.PASSWORD_RESET,
            to=to_email,
            spec={
                "user_id": context["user"].pk,
                "domain": context["domain"],
                "site_name": context["site_name"],
                "protocol": context["protocol"],
                "subject_template": subject_template_name,
                "email_template": email_template_name,
                "html_email_template": html_email_template_name,
                "from_email": from_email or "",
            },
            related=context["user"],
        )


def password_reset_render(spec: dict[str, Any]) -> RenderedEmail:
    """The reset mail, with a reset token made now (registered for kind `password_reset` in OutboxConfig.ready)."""
    user = get_user_model()._default_manager.get(pk=spec["user_id"])
    address = getattr(user, user.get_email_field_name(), "")
    if not (user.is_active and user.has_usable_password() and address):
        raise EmailNotWanted("the account can no longer reset its password")
    context = {
        "email": address,
        "domain": spec["domain"],
        "site_name": spec["site_name"],
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": spec["protocol"],
    }
    html_template = spec.get("html_email_template")
    return RenderedEmail(
        to=address,
        subject="".join(render_to_string(spec["subject_template"], context).splitlines()),
        text=render_to_string(spec["email_template"], context),
        html=render_to_string(html_template, context) if html_template else "",
        from_email=spec["from_email"],
    )
