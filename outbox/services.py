"""Writes to the outbox: queue an email, and the send step of the leased-job mechanism for emails.

The claim, lease, retry and cancel rules, and the guarantees they give, are those of every leased job: see
`common.leased_jobs` (settings OUTBOX_LEASE_SECONDS, OUTBOX_RETRY_BASE_SECONDS, OUTBOX_RETRY_MAX_SECONDS,
OUTBOX_MAX_ATTEMPTS; the maximum age of each kind, outbox.kinds) and `common.breakers` (the "smtp" breaker,
OUTBOX_BREAKER_BASE_SECONDS, OUTBOX_BREAKER_MAX_SECONDS). What is the outbox's own:
- A row is queued in the caller's transaction, so an email exists if and only if the change that caused it committed.
  It expires (fails unsent) at its due time plus the maximum age of its kind.
- A send task takes its batch of claimed rows at once and sends them over one SMTP connection, each marked sent (or
  its failure recorded) right after its own SMTP transaction.
- How SMTP failures sort (`classify_failure`): a refusal of the recipient or the message (RCPT, DATA) is about this
  email: 5xx → failed, 4xx → retried after the backoff, and the connection carries on with the next row. Anything
  before the recipient is named (connect, greeting, EHLO, STARTTLS, AUTH, MAIL FROM), any 421, a network error or
  timeout is transport trouble: the row and the rest of the batch go back to the queue with no attempt spent and the
  "smtp" breaker opens. Any other error (one of ours, building this message) is temporary for this email.
- The Message-ID is fixed when the row is queued, so receiving systems can de-duplicate a resend from the one
  duplicate window (a crash after the SMTP server accepted the message and before the row is marked sent).
- An email with customer links is queued as a render spec (`email_spec_enqueue`) and rendered by its app's renderer
  in the send step, right before its SMTP transaction: its tokens are minted then, so no stored row ever holds a
  link (see outbox.kinds). The rendered subject, sender and recipient are written to the row with `sent`; the
  bodies never are. A renderer's EmailNotWanted cancels the row instead.
- A row with `secret_body` (Django's own mail, queued by outbox.backends) is sent as stored, and its body and
  headers are erased once it is sent, failed or cancelled; it cannot be retried.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from common.breakers import Breaker
from common.leased_jobs import JobQueue

from .kinds import EmailNotWanted, email_kind_max_age, email_kinds
from .models import Heartbeat, OutgoingEmail, Suppression
from .outcomes import outcome_record, outcomes_report
from .rendering import build_message

Status = OutgoingEmail.Status


def _given_up(email_ids: list[int], error: str) -> None:
    outcomes_report(email_ids=email_ids, status=Status.FAILED, reason=error)


email_jobs = JobQueue(
    OutgoingEmail,
    done=Status.SENT,
    settings_prefix="OUTBOX",
    kind_field="kind",
    max_age_of=email_kind_max_age,
    on_given_up=_given_up,
)
smtp_breaker = Breaker("smtp", settings_prefix="OUTBOX")
logger = logging.getLogger(__name__)


def email_enqueue(
    *,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    from_email: str = "",
    headers: dict[str, str] | None = None,
    related: models.Model | None = None,
    send_after: datetime | None = None,
    secret_body: bool = False,
) -> OutgoingEmail:
    """Queue one rendered email. Call it inside the transaction of the change that causes the email. An email with
    customer links is queued with email_spec_enqueue instead; `secret_body` marks a body that may hold a credential
    (hidden, erased once sent, failed or cancelled)."""
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
    email.secret_body = secret_body
    email.save(force_insert=True)
    return email


def email_spec_enqueue(*, kind: str, to: str, spec: dict[str, Any], related: models.Model) -> OutgoingEmail:
    """Queue one email rendered when it is sent by the renderer registered for `kind`, which gets `spec` (ids,
    never a credential); due now. Same rule: inside the transaction of the change that causes the email."""
    email = email_spec_build(kind=kind, to=to, spec=spec, related=related)
    email.save(force_insert=True)
    return email


def email_enqueue_many(emails: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """Queue several emails made by email_build or email_spec_build with one INSERT. Same rule: inside the causing
    transaction."""
    return OutgoingEmail.objects.bulk_create(emails)


def email_build(
    *,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    from_email: str = "",
    headers: dict[str, str] | None = None,
    related: models.Model | None = None,
    send_after: datetime | None = None,
) -> OutgoingEmail:
    """An unsaved outbox row, queued and due at `send_after` (now by default), with its Message-ID fixed and its
    expiry set (the due time plus the maximum age of its kind)."""
    email_kinds.require(kind)
    due = send_after or timezone.now()
    return OutgoingEmail(
        kind=kind,
        to_email=to,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        subject=" ".join(subject.split()),  # no header injection through newlines
        body_text=text,
        body_html=html,
        headers=headers or {},
        message_id=make_msgid(domain=settings.OUTBOX_MESSAGE_ID_DOMAIN),
        next_attempt_at=due,
        expires_at=email_jobs.expires_at(kind=kind, due=due),
        related_type=ContentType.objects.get_for_model(related) if related is not None else None,
        related_id=related.pk if related is not None else None,
    )


def email_spec_build(
    *,
    kind: str,
    to: str,
    spec: dict[str, Any],
    related: models.Model | None = None,
    send_after: datetime | None = None,
) -> OutgoingEmail:
    """An unsaved outbox row holding a render spec: the recipient (for the admin), the related object, the ids its
    renderer needs and the Message-ID; subject, sender and bodies come from the renderer when it is sent."""
    if email_kinds.require(kind).render is None:
        raise ValueError(f"Emails of kind {kind!r} have no renderer: queue them rendered (email_build).")
    due = send_after or timezone.now()
    return OutgoingEmail(
        kind=kind,
        to_email=to,
        render_spec=spec,
        message_id=make_msgid(domain=settings.OUTBOX_MESSAGE_ID_DOMAIN),
        next_attempt_at=due,
        expires_at=email_jobs.expires_at(kind=kind, due=due),
        related_type=ContentType.objects.get_for_model(related) if related is not None else None,
        related_id=related.pk if related is not None else None,
    )


def _sent_fields(email: OutgoingEmail, message: EmailMultiAlternatives) -> dict[str, Any]:
    """What is written to a row with `sent`: a render spec's subject, sender and recipient as sent (no body); a
    secret body erased."""
    if email.render_spec is not None:
        return {"subject": message.subject[:998], "from_email": message.from_email[:254], "to_email": message.to[0]}
    if email.secret_body:
        return {"body_text": "", "body_html": "", "headers": {}}
    return {}


def _secret_body_erase(*, email_ids: Collection[int]) -> None:
    """Erase the body of secret rows that will not be sent (failed or cancelled)."""
    OutgoingEmail.objects.filter(
        pk__in=email_ids, secret_body=True, status__in=[Status.FAILED, Status.CANCELLED]
    ).update(body_text="", body_html="", headers={})


@dataclass(frozen=True)
class SendFailure:
    permanent: bool
    error: str
    transport: bool = False  # the server could not be reached or refused us before the recipient was named


def classify_failure(exc: Exception, *, connecting: bool = False) -> SendFailure:
    """Sort one email's failure (`connecting`: raised while opening the connection). A refusal of the recipient or
    the message (RCPT, DATA): all 5xx → permanent, else temporary. Transport trouble: anything while connecting
    (refused, timeout, TLS, greeting, AUTH), a 421 at any step, and every other SMTP or network error (EHLO and MAIL
    FROM refusals, disconnects, timeouts). Anything else is an error of ours with this message: temporary."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
    elif isinstance(exc, smtplib.SMTPDataError):
        codes = [exc.smtp_code]
    else:
        return SendFailure(permanent=False, error=error, transport=connecting or isinstance(exc, OSError))
    if 421 in codes:  # "closing the channel": the server, not this email
        return SendFailure(permanent=False, error=error, transport=True)
    return SendFailure(permanent=bool(codes) and all(500 <= code < 600 for code in codes), error=error)


def _failure_record(email: OutgoingEmail, failure: SendFailure) -> None:
    """Record a failure of this email (not of the transport) on its row; a secret body is erased once it failed."""
    failed = outcome_record(
        email,
        lambda: email_jobs.fail(email, error=failure.error, permanent=failure.permanent) == Status.FAILED,
        status=Status.FAILED,
        reason=failure.error,
    )
    if failed:
        _secret_body_erase(email_ids=[email.pk])


def _abandon(email: OutgoingEmail, reason: str) -> None:
    """The send step cancels this row (its address bounces, or its renderer said EmailNotWanted)."""
    outcome_record(email, lambda: email_jobs.abandon(email, reason=reason), status=Status.CANCELLED, reason=reason)
    _secret_body_erase(email_ids=[email.pk])


def _send_one(connection: BaseEmailBackend, message: EmailMultiAlternatives) -> SendFailure | None:
    """One SMTP transaction for `message` over `connection`, opened if need be. A refusal of this email leaves the
    connection open for the next row (smtplib has reset the transaction); transport trouble closes it. A connection
    kept from the rows before that turns out dead is opened afresh once before it counts as transport trouble."""
    while True:
        try:
            kept = connection.open() is False  # Django's SMTP backend: False = already open
        except Exception as exc:  # every failure is sorted and recorded on the row
            return classify_failure(exc, connecting=True)
        try:
            connection.send_messages([message])
        except Exception as exc:
            failure = classify_failure(exc)
        else:
            return None
        if not failure.transport:
            return failure
        connection.close()
        if not kept:
            return failure


def outbox_claim_due(*, now: datetime | None = None) -> tuple[str, list[int]]:
    """The sweep's claim, through the "smtp" breaker: every due row while it is closed, none while it is open, one
    (the probe) once it half-opens. Rows past their expiry or attempts are failed in any case. Rows of a kind no app
    registers (its app was removed) are never claimed: they stay queued (a warning names them) until their app is
    back, or fail as expired once past their expiry."""
    now = now or timezone.now()
    registered = email_kinds.keys()
    orphans = OutgoingEmail.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now).exclude(kind__in=registered)
    unknown = sorted(orphans.order_by().values_list("kind", flat=True).distinct())
    if unknown:
        logger.warning("Due emails of unregistered kinds left queued, not claimed: %s", ", ".join(unknown))
    return email_jobs.claim_through(smtp_breaker, now=now, where=Q(kind__in=registered))


def _suppressed(addresses: Iterable[str]) -> set[str]:
    """Which of these addresses (lower-cased) are on the suppression list: one query for a batch."""
    wanted = {address.lower() for address in addresses}
    if not wanted:
        return set()
    found = Suppression.objects.annotate(lower=Lower("email")).filter(lower__in=wanted)
    return set(found.values_list("lower", flat=True))


def outbox_send(*, email_ids: list[int], claim_token: str) -> int:
    """Send the claimed rows over one SMTP connection, each marked sent (or its failure recorded) right after its
    SMTP transaction. Transport trouble puts the row and the rest of the batch back in the queue, attempts not spent,
    and opens the "smtp" breaker; rows claimed before it opened are not tried while it is. Returns how many were
    sent by this call."""
    emails = list(email_jobs.take(ids=email_ids, claim_token=claim_token))  # rows not returned: not ours any more
    if emails and smtp_breaker.blocks(claim_token=claim_token):
        email_jobs.release(emails)
        return 0
    bouncing = _suppressed(email.to_email for email in emails)
    connection = get_connection(backend=settings.OUTBOX_DELIVERY_BACKEND, fail_silently=False)
    sent, reached = 0, False
    try:
        for index, email in enumerate(emails):
            if not email_jobs.still_ours(email):
                continue  # our lease ran out and the sweep claimed the row again
            if email.to_email.lower() in bouncing:
                _abandon(email, f"Not sent: {email.to_email} bounces (outbox suppression list)")
                continue
            try:
                message = build_message(email, connection)  # a render spec mints its links now
            except EmailNotWanted as reason:  # e.g. the survey was cancelled or the customer opted out meanwhile
                _abandon(email, f"Not sent: {reason}")
                continue
            except Exception as exc:  # rendering failed: an error of ours with this email, retried after the backoff
                _failure_record(email, classify_failure(exc))
                continue
            failure = _send_one(connection, message)
            if failure is not None and failure.transport:
                smtp_breaker.trip(error=failure.error, claim_token=claim_token)
                email_jobs.release([email], error=failure.error)
                email_jobs.release(emails[index + 1 :])
                break
            if not reached:  # the server answered for this email: SMTP works (one UPDATE per batch)
                smtp_breaker.close()
                reached = True
            if failure is not None:
                _failure_record(email, failure)
                continue
            now = timezone.now()
            done = lambda: email_jobs.complete(email, sent_at=now, **_sent_fields(email, message))  # noqa: E731, B023
            outcome_record(email, done, status=Status.SENT, at=now)
            sent += 1
    finally:
        connection.close()
    return sent


def suppression_add(*, email: str, reason: str, bounced_message_id: str = "") -> bool:
    """Stop all mail to an address that bounced (a failed DSN citing one of our emails). Returns whether it is new."""
    with transaction.atomic():
        if Suppression.objects.filter(email__iexact=email).exists():
            return False
        try:
            with transaction.atomic():
                Suppression.objects.create(email=email, reason=reason[:300], bounced_message_id=bounced_message_id)
        except IntegrityError:  # the same bounce handled twice at once
            return False
    return True


def heartbeat_record(*, name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


def outbox_retry(*, email_id: int) -> bool:
    """Admin action: put a failed or cancelled row back in the queue, due now, with a fresh attempt count. A render
    spec is rendered again when sent (fresh links); a secret body was erased, so such a row is refused."""
    if OutgoingEmail.objects.filter(pk=email_id, secret_body=True).exists():
        return False
    return email_jobs.retry(pk=email_id)


@transaction.atomic
def outbox_cancel(*, email_id: int) -> bool:
    """Cancel a queued or failed row. A row being sent right now cannot be cancelled."""
    cancelled = email_jobs.cancel(pk=email_id)
    _secret_body_erase(email_ids=[email_id])
    if cancelled:
        outcomes_report(email_ids=[email_id], status=Status.CANCELLED, reason="Cancelled by an admin")
    return cancelled


@transaction.atomic
def outbox_cancel_related(
    *, model: type[models.Model], ids: Collection[int], kinds: Collection[str] | None = None
) -> list[tuple[int, str]]:
    """Cancel the rows not sent yet (queued or failed) about these objects of `model` (of these kinds only, when
    given): what they were for has ended, e.g. the customer opted out. Call it in the transaction of that change.
    Returns (related id, kind) of each row cancelled. A row already being sent cannot be cancelled: its renderer
    checks again whether it is still wanted right before it is sent."""
    rows = OutgoingEmail.objects.filter(
        related_type=ContentType.objects.get_for_model(model),
        related_id__in=list(ids),
        status__in=[Status.QUEUED, Status.FAILED],
    )
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    return [
        (related_id, kind)
        for pk, related_id, kind in rows.values_list("pk", "related_id", "kind")
        if email_jobs.cancel(pk=pk) and related_id is not None
    ]
