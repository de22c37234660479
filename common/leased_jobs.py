"""Leased jobs: rows that a Celery worker delivers somewhere (an email over SMTP, a webhook POST), one job per row.

An app owns its rows and what "send" means; this module owns the life of a row and every write to its status, claim
token and lease:

    queued ──(sweep claims)──▶ sending ──▶ done (the model's own state: `sent`, `delivered`)
                                   ├─────▶ queued again, due after a backoff (temporary failure)
                                   ├─────▶ failed (permanent failure, or the last allowed attempt)
                                   └─────▶ cancelled (the send step found the job no longer wanted)
    failed | cancelled ──(admin retry)──▶ queued now, attempts 0
    queued | failed ──(admin cancel)──▶ cancelled (a row being sent cannot be cancelled)

Guarantees:
- Claim by conditional UPDATE with a token. The sweep (a beat task) reads due candidates, then claims them with one
  `UPDATE … SET status='sending', claim_token=<random token>, lease_until=now+lease WHERE id IN (…) AND
  ((status='queued' AND next_attempt_at<=now) OR (status='sending' AND lease_until<now))`; its rows are those that
  now carry its token. The same SQL on SQLite and Postgres, no SELECT FOR UPDATE.
- One winner per row. The database re-evaluates the WHERE clause on each row under the row's write lock, so of two
  sweeps racing for a row only one changes it; the other's UPDATE skips it.
- Ownership swap. The send step takes its rows by swapping the sweep's token for one of its own, with a fresh lease
  (one conditional UPDATE for a whole batch). A send task delivered twice by the broker, or run by two workers at
  once, finds the sweep's token gone the second time: it gets no rows and sends nothing.
- Lease renewal. Before each send, a row with less than half its lease left has its claim re-checked and its lease
  renewed by a conditional UPDATE (`still_ours`); a row claimed again meanwhile is skipped.
- A dead worker's row is reclaimed. A worker that dies mid-send leaves its row `sending`; once `lease_until` has
  passed, the next sweep claims it again under a new token, so whatever the old holder writes later matches nothing.
- Outcomes are written under the token: `complete` and `fail` change a row only while it is `sending` under this
  send's token.
- Retries live in the row (attempts, next_attempt_at), never in Celery's autoretry: a temporary failure puts the row
  back in `queued`, due after an exponential backoff (base, 2×base, 4×base … capped); a permanent failure or the last
  allowed attempt ends in `failed`. A lost broker message or a dead worker is recovered by the next sweep.
- The one duplicate window: a crash (or a send that outlives its lease) after the remote side accepted the job and
  before the row is marked done. The row is then sent again, so each app gives its job an id that stays the same on
  every attempt for the receiver to de-duplicate on (an email's Message-ID, a webhook's X-Helpdesk-Delivery).

A model takes part by subclassing `LeasedJob`, listing its states in a `Status` enum (the `JobStatus` values plus its
own done state) and naming its indexes with `job_indexes`; its app drives it through a `JobQueue`.

This module imports only Django and the standard library: every app may import it, it imports no app.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)
ERROR_CHARS = 2000


class JobStatus(models.TextChoices):
    """The states every leased job has. A model's `Status` lists them too (a Django enum cannot be extended) and adds
    its own done state."""

    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class JobStatusField(models.CharField):
    """`status` of a leased job, with the choices of the concrete model's `Status` enum (checked to hold every
    JobStatus value). Migrations see a plain CharField with those choices."""

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        if not cls._meta.abstract:
            status: type[models.TextChoices] | None = getattr(cls, "Status", None)
            missing = set(JobStatus.values) - set(status.values if status else [])
            if status is None or missing:
                raise ImproperlyConfigured(
                    f"{cls.__name__}.Status must list the leased-job states {sorted(JobStatus.values)} "
                    f"(missing {sorted(missing)}) plus its done state."
                )
            self.choices = status.choices
        super().contribute_to_class(cls, name, private_only)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class LeasedJob(models.Model):
    """The fields of a leased job. Subclasses define `Status` (see JobStatus) and use `job_indexes` in their Meta."""

    Status: ClassVar[type[models.TextChoices]]

    status = JobStatusField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        abstract = True


def job_indexes(prefix: str) -> list[models.Index]:
    """The indexes the sweep reads through: due queued rows, and sending rows by lease (`<prefix>_due`, `_lease`)."""
    return [
        models.Index(fields=["status", "next_attempt_at"], name=f"{prefix}_due"),
        models.Index(fields=["status", "lease_until"], name=f"{prefix}_lease"),
    ]


Job = TypeVar("Job", bound=LeasedJob)


@dataclass(frozen=True)
class JobQueue(Generic[Job]):
    """The leased-job mechanism for one model. `done` is the model's done state; the lease, backoff and attempts
    come from the settings `<settings_prefix>_LEASE_SECONDS`, `_RETRY_BASE_SECONDS`, `_RETRY_MAX_SECONDS` and
    `_MAX_ATTEMPTS`, read at each call."""

    model: type[Job]
    done: str
    settings_prefix: str

    def __post_init__(self) -> None:
        if self.done not in self.model.Status.values:
            raise ImproperlyConfigured(f"{self.done!r} is not a state of {self.model.__name__}.Status")

    def _setting(self, name: str) -> int:
        return getattr(settings, f"{self.settings_prefix}_{name}")

    @property
    def _rows(self) -> QuerySet[Job]:
        return self.model._default_manager.all()

    def lease(self) -> timedelta:
        return timedelta(seconds=self._setting("LEASE_SECONDS"))

    def retry_delay(self, attempts: int) -> timedelta:
        """Backoff after the n-th failed attempt: base, 2×base, 4×base … capped."""
        seconds = self._setting("RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self._setting("RETRY_MAX_SECONDS")))

    # --- the sweep (beat) -------------------------------------------------------------------------------------------

    @staticmethod
    def _claimable(now: datetime) -> Q:
        return Q(status=JobStatus.QUEUED, next_attempt_at__lte=now) | Q(status=JobStatus.SENDING, lease_until__lt=now)

    def claim_due(self, *, limit: int = 500, now: datetime | None = None) -> tuple[str, list[int]]:
        """Claim up to `limit` due rows (and rows whose lease expired) for one sweep. Returns (claim token, ids)."""
        now = now or timezone.now()
        token = uuid.uuid4().hex
        candidates = list(
            self._rows.filter(self._claimable(now))
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return token, []
        # The WHERE clause is re-evaluated per row under its lock: a row another sweep claimed meanwhile is skipped.
        self._rows.filter(self._claimable(now), pk__in=candidates).update(
            status=JobStatus.SENDING, claim_token=token, lease_until=now + self.lease()
        )
        claimed = self._rows.filter(pk__in=candidates, claim_token=token)  # by primary key: no table scan
        return token, list(claimed.order_by("id").values_list("pk", flat=True))

    # --- the send (worker) ------------------------------------------------------------------------------------------

    def take(self, *, ids: list[int], claim_token: str) -> QuerySet[Job]:
        """Swap the sweep's claim token for one of this send, with a fresh lease, on every row of `ids` still under
        that claim (one conditional UPDATE). Returns the rows now this send's, by id; none: a task delivered again,
        or a claim that expired and was taken by a later sweep."""
        token = uuid.uuid4().hex
        self._rows.filter(pk__in=ids, status=JobStatus.SENDING, claim_token=claim_token).update(
            claim_token=token, lease_until=timezone.now() + self.lease()
        )
        return self._rows.filter(pk__in=ids, claim_token=token).order_by("id")

    def still_ours(self, job: Job) -> bool:
        """Call before each send. With at least half its lease left nobody can claim the row during this send; with
        less, the claim is re-checked and the lease renewed (a conditional UPDATE). False: claimed again meanwhile."""
        now = timezone.now()
        if job.lease_until is not None and job.lease_until - now >= self.lease() / 2:
            return True
        renewed = now + self.lease()
        taken = self._ours(job).update(lease_until=renewed)
        job.lease_until = renewed
        return taken == 1

    def complete(self, job: Job, **fields: Any) -> bool:
        """The send succeeded: mark the row done (with `fields`, e.g. sent_at) if it is still this send's."""
        return self._record(
            job, "done", logging.DEBUG, status=self.done, attempts=job.attempts + 1, last_error="", **fields
        )

    def fail(self, job: Job, *, error: str, permanent: bool, **fields: Any) -> str | None:
        """The send failed: a temporary failure puts the row back in the queue, due after the backoff, unless it was
        the last allowed attempt; that or a permanent failure ends in `failed`. Returns the new status, or None when
        the row is no longer this send's (nothing written)."""
        attempts = job.attempts + 1
        give_up = permanent or attempts >= self._setting("MAX_ATTEMPTS")
        status = JobStatus.FAILED if give_up else JobStatus.QUEUED
        recorded = self._record(
            job,
            f"{'failed' if give_up else 'will be retried'}: {error}",
            logging.ERROR if give_up else logging.WARNING,
            status=status,
            attempts=attempts,
            next_attempt_at=timezone.now() + self.retry_delay(attempts),
            last_error=error[:ERROR_CHARS],
            **fields,
        )
        return status if recorded else None

    def abandon(self, job: Job, *, reason: str) -> bool:
        """The send step found the job no longer wanted (what it was for was cancelled meanwhile): `cancelled`, with
        the reason as its last error, if the row is still this send's. Not an attempt."""
        return self._record(
            job, f"cancelled: {reason}", logging.INFO, status=JobStatus.CANCELLED, last_error=reason[:ERROR_CHARS]
        )

    def _ours(self, job: Job) -> QuerySet[Job]:
        return self._rows.filter(pk=job.pk, status=JobStatus.SENDING, claim_token=job.claim_token)

    def _record(self, job: Job, outcome: str, level: int, /, **fields: Any) -> bool:
        """Write the outcome of a send under its claim token, releasing the lease; log it at `level`."""
        recorded = self._ours(job).update(lease_until=None, claim_token="", **fields) == 1
        name = self.model._meta.verbose_name
        if recorded:
            logger.log(level, "%s %s %s", name, job.pk, outcome)
        else:  # the lease ran out and a later sweep claimed the row: it is sent again (the duplicate window)
            logger.warning("%s %s: claimed again meanwhile, outcome not recorded (%s)", name, job.pk, outcome)
        return recorded

    # --- admin ------------------------------------------------------------------------------------------------------

    @transaction.atomic
    def retry(self, *, pk: int, **fields: Any) -> bool:
        """Put a failed or cancelled row back in the queue, due now, with a fresh attempt count (and `fields`)."""
        return bool(
            self._rows.filter(pk=pk, status__in=[JobStatus.FAILED, JobStatus.CANCELLED]).update(
                status=JobStatus.QUEUED, attempts=0, next_attempt_at=timezone.now(), last_error="", **fields
            )
        )

    @transaction.atomic
    def cancel(self, *, pk: int) -> bool:
        """Cancel a queued or failed row. A row being sent right now cannot be cancelled."""
        return bool(
            self._rows.filter(pk=pk, status__in=[JobStatus.QUEUED, JobStatus.FAILED]).update(
                status=JobStatus.CANCELLED, lease_until=None, claim_token=""
            )
        )
