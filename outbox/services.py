"""Writes to the outbox: queue an email, claim due rows, send claimed rows, retry or fail them.

Delivery guarantees (see DESIGN.md "One outbox for all email"):
- A row is queued in the caller's transaction, so an email exists if and only if the change that caused it committed.
- The sweep claims due rows with a conditional UPDATE (status + time in the WHERE clause): only one sweep gets a row.
- The send step takes ownership of its claimed rows with a second conditional UPDATE that swaps the sweep's claim
  token for its own (one UPDATE for the batch, with a fresh lease), so the same task delivered twice, or two workers
  at once, send a row once. Before each send the row must still have half its lease left, else the claim is
  re-checked and the lease renewed by a conditional UPDATE; each row is marked sent on its own after its send.
- A worker that dies leaves the row `sending` with a lease; once the lease expires the sweep claims it again.
- Remaining duplicate window: a crash after the SMTP server accepted the message and before the row is marked sent
  (or a send that outlives its lease). The Message-ID is fixed when the row is queued, so receiving systems can
  de-duplicate such a resend.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Heartbeat, OutgoingEmail

logger = logging.getLogger(__name__)
Status = OutgoingEmail.Status


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2×base, 4×base … capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def email_enqueue(
    *,
    kind: OutgoingEmail.Kind,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    from_email: str = "",
    headers: dict[str, str] | None = None,
    related: models.Model | None = None,
    send_after: datetime | None = None,
) -> OutgoingEmail:
    """Queue one email. Call it inside the transaction of the change that causes the email."""
    email = email_build(
        kind=kind,
        to=to,
        subject=subject,
        text=text,
        html=html,
        from_email=from_email,
        headers=headers,
        related=related,
        send_after=send_after,
    )
    email.save(force_insert=True)
    return email


def email_enqueue_many(emails: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """Queue several emails made by email_build with one INSERT. Same rule: inside the causing transaction."""
    return OutgoingEmail.objects.bulk_create(emails)


def email_build(
    *,
    kind: OutgoingEmail.Kind,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    from_email: str = "",
    headers: dict[str, str] | None = None,
    related: models.Model | None = None,
    send_after: datetime | None = None,
) -> OutgoingEmail:
    """An unsaved outbox row, queued and due at `send_after` (now by default), with its Message-ID fixed."""
    return OutgoingEmail(
        kind=kind,
        to_email=to,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        subject=" ".join(subject.split()),  # no header injection through newlines
        body_text=text,
        body_html=html,
        headers=headers or {},
        message_id=make_msgid(domain=settings.OUTBOX_MESSAGE_ID_DOMAIN),
        next_attempt_at=send_after or timezone.now(),
        related_type=ContentType.objects.get_for_model(related) if related is not None else None,
        related_id=related.pk if related is not None else None,
    )


def _claimable(now: datetime) -> Q:
    return Q(status=Status.QUEUED, next_attempt_at__lte=now) | Q(status=Status.SENDING, lease_until__lt=now)


def outbox_claim_due(*, limit: int = 500, now: datetime | None = None) -> tuple[str, list[int]]:
    """Claim up to `limit` due rows (and rows whose lease expired) for one sweep. Returns (claim token, ids)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    candidates = list(
        OutgoingEmail.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return token, []
    # The WHERE clause is re-evaluated per row under its lock: a row another sweep claimed meanwhile is skipped.
    OutgoingEmail.objects.filter(_claimable(now), pk__in=candidates).update(
        status=Status.SENDING, claim_token=token, lease_until=now + lease()
    )
    claimed = OutgoingEmail.objects.filter(pk__in=candidates, claim_token=token)  # by primary key: no table scan
    return token, list(claimed.order_by("id").values_list("pk", flat=True))


def _take_ownership(*, email_ids: list[int], claim_token: str) -> list[OutgoingEmail]:
    """Swap the sweep's claim token for one of this send, with a fresh lease, on every row of the batch still under
    that claim (one conditional UPDATE), so no other execution sends them; return the rows now ours."""
    token = uuid.uuid4().hex
    OutgoingEmail.objects.filter(pk__in=email_ids, status=Status.SENDING, claim_token=claim_token).update(
        claim_token=token, lease_until=timezone.now() + lease()
    )
    return list(OutgoingEmail.objects.filter(pk__in=email_ids, claim_token=token).order_by("id"))


def _still_ours(email: OutgoingEmail) -> bool:
    """Re-check before each send: with at least half its lease left nobody else can claim the row during this send;
    with less, the claim is checked and the lease renewed by a conditional UPDATE. False: reclaimed meanwhile."""
    now = timezone.now()
    if email.lease_until is not None and email.lease_until - now >= lease() / 2:
        return True
    renewed = now + lease()
    taken = OutgoingEmail.objects.filter(pk=email.pk, status=Status.SENDING, claim_token=email.claim_token).update(
        lease_until=renewed
    )
    email.lease_until = renewed
    return taken == 1


def build_message(email: OutgoingEmail, connection: object = None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=[email.to_email],
        headers={**email.headers, "Message-ID": email.message_id},
        connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


@dataclass(frozen=True)
class SendFailure:
    permanent: bool
    error: str


def classify_failure(exc: Exception) -> SendFailure:
    """SMTP 5xx → permanent; 4xx, disconnects and network errors → temporary."""
    codes: list[int] = []
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
    elif isinstance(exc, smtplib.SMTPResponseException):
        codes = [exc.smtp_code]
    permanent = bool(codes) and all(500 <= code < 600 for code in codes)
    return SendFailure(permanent=permanent, error=f"{type(exc).__name__}: {exc}"[:2000])


def _record_failure(*, email_id: int, token: str, failure: SendFailure) -> None:
    email = OutgoingEmail.objects.get(pk=email_id)
    attempts = email.attempts + 1
    give_up = failure.permanent or attempts >= settings.OUTBOX_MAX_ATTEMPTS
    OutgoingEmail.objects.filter(pk=email_id, claim_token=token).update(
        status=Status.FAILED if give_up else Status.QUEUED,
        attempts=attempts,
        next_attempt_at=timezone.now() + retry_delay(attempts),
        lease_until=None,
        claim_token="",
        last_error=failure.error,
    )
    log = logger.error if give_up else logger.warning
    log("outbox email %s %s: %s", email_id, "failed" if give_up else "will be retried", failure.error)


def outbox_send(*, email_ids: list[int], claim_token: str) -> int:
    """Send the claimed rows over one SMTP connection, each marked sent (or its failure recorded) right after its
    SMTP transaction. Returns how many were sent by this call."""
    emails = _take_ownership(email_ids=email_ids, claim_token=claim_token)  # rows not returned: not ours any more
    connection = get_connection(backend=settings.OUTBOX_DELIVERY_BACKEND, fail_silently=False)
    sent = 0
    try:
        for email in emails:
            if not _still_ours(email):
                continue  # our lease ran out and the sweep claimed the row again
            try:
                connection.open()  # no-op while the connection is open
                connection.send_messages([build_message(email, connection)])
            except Exception as exc:  # any failure of this row is recorded on the row, never lost
                _record_failure(email_id=email.pk, token=email.claim_token, failure=classify_failure(exc))
                connection.close()  # the next row starts on a fresh connection
                continue
            OutgoingEmail.objects.filter(pk=email.pk, claim_token=email.claim_token).update(
                status=Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, lease_until=None, last_error=""
            )
            sent += 1
    finally:
        connection.close()
    return sent


def heartbeat_record(*, name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


@transaction.atomic
def outbox_retry(*, email_id: int) -> bool:
    """Admin action: put a failed or cancelled row back in the queue, due now, with a fresh attempt count."""
    return bool(
        OutgoingEmail.objects.filter(pk=email_id, status__in=[Status.FAILED, Status.CANCELLED]).update(
            status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
    )


@transaction.atomic
def outbox_cancel(*, email_id: int) -> bool:
    """Cancel a row that has not been sent. A row being sent right now cannot be cancelled."""
    return bool(
        OutgoingEmail.objects.filter(pk=email_id, status__in=[Status.QUEUED, Status.FAILED]).update(
            status=Status.CANCELLED, lease_until=None, claim_token=""
        )
    )
