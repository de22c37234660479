"""Outcome callbacks: the app that queued an email learns what became of it, in the outbox's transaction that
records it. A kind registered with `on_outcome` (outbox.kinds) gets a list of `EmailOutcome` — sent (with the send
time), failed (refused for good, out of attempts, past its maximum age) or cancelled (the address bounces, the
renderer said EmailNotWanted, an admin cancelled it), with the reason as in the row's last error.

Not reported: a row cancelled by `outbox_cancel_related` (the caller decided it and gets the rows it cancelled), and
retries (a row that goes back to the queue has no outcome yet). A kind without a callback costs nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .kinds import EmailOutcome, email_kinds
from .models import OutgoingEmail


def outcome_record(
    email: OutgoingEmail, record: Callable[[], bool], *, status: str, reason: str = "", at: datetime | None = None
) -> bool:
    """Run `record` (the UPDATE that writes this row's outcome, True if it did) and, if its kind has a callback, tell
    it in the same transaction. Returns what `record` returned."""
    kind = email_kinds.get(email.kind)
    if kind is None or kind.on_outcome is None:
        return record()
    with transaction.atomic():
        if not record():
            return False
        outcome = EmailOutcome(
            email_id=email.pk, related_id=email.related_id, status=status, reason=reason, at=at or timezone.now()
        )
        kind.on_outcome([outcome])
    return True


def outcomes_report(*, email_ids: Collection[int], status: str, reason: str) -> None:
    """Tell the callbacks of their kinds the outcome just written to these rows (call it in that transaction)."""
    if not email_ids:
        return
    now = timezone.now()
    by_kind: dict[str, list[EmailOutcome]] = defaultdict(list)
    for pk, kind, related_id in OutgoingEmail.objects.filter(pk__in=list(email_ids)).values_list(
        "pk", "kind", "related_id"
    ):
        by_kind[kind].append(EmailOutcome(email_id=pk, related_id=related_id, status=status, reason=reason, at=now))
    for key, outcomes in by_kind.items():
        registered = email_kinds.get(key)
        if registered is not None and registered.on_outcome is not None:
            registered.on_outcome(outcomes)
