"""The outbox's part of erasing a person's data (tickets.erasure starts it; each app passes the emails of its own
objects): the emails are cancelled if not sent yet, and their personal text is replaced."""

from __future__ import annotations

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Replace

from common.erasure import ERASED_TEXT

from .models import OutgoingEmail
from .services import outbox_cancel


def emails_erase(*, emails: QuerySet[OutgoingEmail], to: str | None) -> int:
    """Cancel the rows not sent yet (queued or failed: outbox_cancel; a row being sent at this moment is left to its
    worker) and replace the subject and bodies of every row by ERASED_TEXT and drop its headers (links, unsubscribe
    URLs). `to`, for mail to the erased person, replaces the recipient, also inside the last SMTP error; mail to an
    agent about them (None) keeps the agent's address. Returns how many rows were erased."""
    ids = list(emails.order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        outbox_cancel(email_id=pk)
    fields: dict[str, object] = {"subject": ERASED_TEXT, "body_text": ERASED_TEXT, "body_html": "", "headers": {}}
    if to is not None:
        # Both see the row's old address (SQL evaluates every SET expression on the row as it was).
        old_address = F("to_email")  # any expression works; the stub of Replace asks for a Value
        fields |= {"to_email": to, "last_error": Replace(F("last_error"), old_address, Value(to))}  # type: ignore[arg-type]
    return OutgoingEmail.objects.filter(pk__in=ids).update(**fields)
