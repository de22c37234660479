"""Health of the mail pipeline: what /healthz and the admin status page show."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from common.clock import duration_text, seconds_since

from .kinds import email_kinds
from .models import Heartbeat, OutgoingEmail
from .services import smtp_breaker

Status = OutgoingEmail.Status


@dataclass(frozen=True)
class OutboxHealth:
    ok: bool
    problems: list[str]
    queued: int
    failed: int
    stuck: int  # "sending" with an expired lease: a worker died mid-send; the sweep will reclaim them
    oldest_due_unsent_seconds: int | None
    beat_seconds_ago: int | None
    worker_seconds_ago: int | None
    smtp_unreachable_since: datetime | None  # the "smtp" circuit breaker is open (or half-open) since then
    warnings: list[str]  # shown, but not (yet) a reason for 503

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class SmtpOutage:
    since: datetime
    next_probe_at: datetime | None
    last_error: str


def smtp_outage() -> SmtpOutage | None:
    """The SMTP outage in progress (the "smtp" circuit breaker not closed), or None."""
    row = smtp_breaker.state()
    return None if row is None or row.opened_at is None else SmtpOutage(row.opened_at, row.retry_at, row.last_error)


def outbox_health(*, now: datetime | None = None) -> OutboxHealth:
    now = now or timezone.now()
    counts = OutgoingEmail.objects.aggregate(
        queued=Count("pk", filter=Q(status=Status.QUEUED)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        stuck=Count("pk", filter=Q(status=Status.SENDING, lease_until__lt=now)),
        oldest_due=Min(
            "next_attempt_at", filter=Q(status__in=[Status.QUEUED, Status.SENDING], next_attempt_at__lte=now)
        ),
    )
    beats = dict(Heartbeat.objects.values_list("name", "at"))
    oldest = seconds_since(counts["oldest_due"], now)
    beat, worker = seconds_since(beats.get("beat"), now), seconds_since(beats.get("worker"), now)
    limit = settings.HEALTH_MAX_SILENCE_SECONDS
    problems = []
    if beat is None or beat > limit:
        problems.append("beat is not running (no heartbeat)" if beat is None else f"beat silent for {beat} s")
    if worker is None or worker > limit:
        problems.append("worker is not running (no heartbeat)" if worker is None else f"worker silent for {worker} s")
    if oldest is not None and oldest > settings.HEALTH_MAX_EMAIL_DELAY_SECONDS:
        problems.append(f"the oldest due email has waited {oldest} s")
    if counts["stuck"]:
        problems.append(f"{counts['stuck']} email(s) stuck in sending past their lease")
    warnings: list[str] = []
    outage = smtp_outage()
    if outage is not None:
        down = seconds_since(outage.since, now) or 0
        text = f"SMTP unreachable since {timezone.localtime(outage.since):%Y-%m-%d %H:%M:%S %Z} ({duration_text(down)})"
        (problems if down > settings.HEALTH_MAX_SMTP_DOWN_SECONDS else warnings).append(text)
    return OutboxHealth(
        ok=not problems,
        problems=problems,
        queued=counts["queued"],
        failed=counts["failed"],
        stuck=counts["stuck"],
        oldest_due_unsent_seconds=oldest,
        beat_seconds_ago=beat,
        worker_seconds_ago=worker,
        smtp_unreachable_since=outage.since if outage is not None else None,
        warnings=warnings,
    )


def failed_emails_recent(*, limit: int = 20) -> list[OutgoingEmail]:
    since = timezone.now() - timedelta(days=7)
    return list(
        OutgoingEmail.objects.filter(status=Status.FAILED, created_at__gte=since).order_by("-created_at")[:limit]
    )


@dataclass(frozen=True)
class KindCounts:
    key: str
    label: str  # "unknown email kind (x)" for a kind no app registers any more
    registered: bool
    queued: int
    failed: int


def email_kind_counts() -> list[KindCounts]:
    """Every registered email kind, and any unregistered kind still in unsent rows, with its queued and failed rows."""
    rows = (
        OutgoingEmail.objects.filter(status__in=[Status.QUEUED, Status.FAILED])
        .order_by()
        .values("kind")
        .annotate(
            queued=Count("pk", filter=Q(status=Status.QUEUED)), failed=Count("pk", filter=Q(status=Status.FAILED))
        )
    )
    counts = {row["kind"]: row for row in rows}
    keys = [kind.key for kind in email_kinds] + sorted(set(counts) - set(email_kinds.keys()))
    return [
        KindCounts(
            key=key,
            label=email_kinds.label(key),
            registered=key in email_kinds,
            queued=counts.get(key, {}).get("queued", 0),
            failed=counts.get(key, {}).get("failed", 0),
        )
        for key in keys
    ]
