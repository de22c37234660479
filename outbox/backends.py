"""EMAIL_BACKEND that queues Django's own mail (error mails, a third-party app's mail) in the outbox, so it is sent,
retried and monitored like every other email.

The outbox cannot tell what such a mail carries (Django's password-reset form puts a reset link in it; the desk's
own reset form queues a render spec instead, see outbox.passwords), so every row queued here is marked
`secret_body`: kind `system`, its body never shown in the admin and erased once it is sent, failed or cancelled."""

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from .kinds import OutboxEmail
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
                        kind=OutboxEmail.SYSTEM,
                        to=recipient,
                        subject=str(message.subject),
                        text=str(message.body),
                        html=html,
                        from_email=message.from_email,
                        headers={str(k): str(v) for k, v in message.extra_headers.items()},
                        secret_body=True,
                    )
        return len(email_messages)
