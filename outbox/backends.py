"""EMAIL_BACKEND that queues Django's own mail (password reset, error mails) in the outbox, so it is sent,
retried and monitored like every other email."""

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from .models import OutgoingEmail
from .services import email_enqueue


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with transaction.atomic():
            for message in email_messages:
                if message.attachments:
                    raise ValueError("The outbox does not store attachments; refusing to drop them silently.")
                html = next(
                    (
                        str(content)
                        for content, mimetype in getattr(message, "alternatives", [])
                        if mimetype == "text/html"
                    ),
                    "",
                )
                for recipient in message.recipients():
                    email_enqueue(
                        kind=OutgoingEmail.Kind.SYSTEM,
                        to=recipient,
                        subject=str(message.subject),
                        text=str(message.body),
                        html=html,
                        from_email=message.from_email,
                        headers={str(k): str(v) for k, v in message.extra_headers.items()},
                    )
        return len(email_messages)
