"""Dev mailbox (DEBUG only): the outbox's delivery step writes each email to var/mail/*.eml instead of SMTP,
and /dev/mail/ lists and shows them, so a person running `make run` can read and click what the desk sent."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from collections.abc import Sequence
from email.message import EmailMessage as ParsedEmail
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

NAME_PATTERN = re.compile(r"^[0-9T]+-[0-9a-f]{8}\.eml$")


def mail_dir() -> Path:
    return Path(settings.DEV_MAIL_DIR)


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = mail_dir()
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
            (folder / name).write_bytes(message.message().as_bytes(linesep="\n"))
        return len(email_messages)


def read_mail(name: str) -> ParsedEmail:
    if not NAME_PATTERN.match(name) or not (mail_dir() / name).is_file():
        raise Http404("No such email")
    parsed = email.message_from_bytes((mail_dir() / name).read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, ParsedEmail)  # noqa: S101 - always true with policy.default
    return parsed


def body_of(message: ParsedEmail, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return str(part.get_content()) if part is not None and part.get_content_subtype() == subtype else ""


def require_debug() -> None:
    """The dev mailbox's pages (and inbound's "write as a customer") exist only with DEBUG: 404 otherwise."""
    if not settings.DEBUG:
        raise Http404


def mailbox(request: HttpRequest) -> HttpResponse:
    require_debug()
    names = sorted((p.name for p in mail_dir().glob("*.eml")), reverse=True) if mail_dir().is_dir() else []
    page = Paginator(names, 50).get_page(request.GET.get("page"))
    rows = []
    for name in page:
        message = read_mail(name)
        rows.append({"name": name, "to": message["To"], "subject": message["Subject"], "date": message["Date"]})
    return render(request, "devmail/list.html", {"rows": rows, "page": page})


def mail_detail(request: HttpRequest, name: str) -> HttpResponse:
    require_debug()
    message = read_mail(name)
    headers = [(key, str(value)) for key, value in message.items()]
    context = {"name": name, "headers": headers, "text": body_of(message, "plain"), "html": body_of(message, "html")}
    return render(request, "devmail/detail.html", context)
