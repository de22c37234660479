"""Building test emails."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid


def email_bytes(
    *,
    sender: str = "Jo Customer <jo@customer.example>",
    to: str = "queue-0@support.example.com",
    subject: str = "Printer on fire",
    body: str = "Help, my printer is on fire.",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="customer.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()
