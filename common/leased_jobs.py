"""Leased jobs: rows that a Celery worker delivers somewhere (an email over SMTP, a webhook POST), one job per row.

An app owns its rows and what "send" means; this module owns the life of a row and every write to its status, claim
token, lease, attempts and expiry:

    queued ──(sweep claims: attempts + 1)──▶ sending ──▶ done (the model's own state: `sent`, `delivered`)
                                                ├─────▶ queued again, due after a backoff (temporary refusal)
                                                ├─────▶ queued again, attempt given back (transport trouble)
                                                ├─────▶ failed (permanent refusal, or the last allowed attempt)
                                                └─────▶ cancelled (the send step found the job no longer wanted)
    queued | sending past its lease ──(sweep)──▶ failed (past its expiry, or claimed N times without an outcome)
    failed | cancelled ──(admin retry)──▶ queued now, attempts 0, a fresh expiry
    queued | failed ──(admin cancel)──▶ cancelled (a row being sent cannot be cancelled)

The retry rule (the same for every app; each app's send step sorts its failures into these):
- A permanent refusal of this job by the far side (SMTP 5xx to RCPT or DATA; HTTP 4xx but 429) → `failed` at once.
- A temporary refusal of this job (SMTP 4xx to RCPT or DATA; HTTP 5xx or 429) → `queued`, due after an
  exponential backoff (base, 2×base, 4×base … capped).
- Transport trouble (the far side cannot be reached, or refuses us before the job is named: connection refused,
  timeout, TLS, greeting, login; see each app) → `release`: back to `queued` with its attempt given back, and the
  transport's circuit breaker (common.breakers) opens: while it is open nothing is claimed through it.
- Every claim is an attempt (`attempts` + 1 in the claiming UPDATE), so a job whose send kills the worker cannot be
  sent for ever: a row still `sending` past its lease after `<prefix>_MAX_ATTEMPTS` claims is failed by the sweep
  instead of claimed again, and a temporary refusal on the last allowed attempt is final.
- A row is never claimed after `expires_at` (set when queued: due time + the maximum age of its kind, given by the
  app's `max_age_of(kind)`, else the setting `<prefix>_MAX_AGE_HOURS`): the sweep fails it ("expired") instead of
  sending it late.

Guarantees:
- Claim by conditional UPDATE with a token. The sweep (a beat task) reads due candidates, then claims them with one
  `UPDATE … SET status='sending', claim_token=<random token>, lease_until=now+lease, attempts=attempts+1 WHERE id IN
  (…) AND ((status='queued' AND next_attempt_at<=now) OR (status='sending' AND lease_until<now))`; its rows are those
  that now carry its token. The same SQL on SQLite and Postgres, no SELECT FOR UPDATE.
- One winner per row. The database re-evaluates the WHERE clause on each row under the row's write lock, so of two
  sweeps racing for a row only one changes it; the other's UPDATE skips it.
- Ownership swap. The send step takes its rows by swapping the sweep's token for one of its own, with a fresh lease
  (one conditional UPDATE for a whole batch). A send task delivered twice by the broker, or run by two workers at
  once, finds the sweep's token gone the second time: it gets no rows and sends nothing.
- Lease renewal. Before each send, a row with less than half its lease left has its claim re-checked and its lease
  renewed by a conditional UPDATE (`still_ours`); a row claimed again meanwhile is skipped.
- A dead worker's row is reclaimed. A worker that dies mid-send leaves its row `sending`; once `lease_until` has
  passed, the next sweep claims it again under a new token (another attempt), so whatever the old holder writes
  later matches nothing.
- Outcomes are written under the token: `complete`, `fail` and `release` change a row only while it is `sending`
  under this send's token.
- Retries live in the row (attempts, next_attempt_at), never in Celery's autoretry. A lost broker message or a dead
  worker is recovered by the next sweep.
- The one duplicate window: a crash (or a send that outlives its lease) after the remote side accepted the job and
  before the row is marked done. The row is then sent again, so each app gives its job an id that stays the same on
  every attempt for the receiver to de-duplicate on (an email's Message-ID, a webhook's X-Helpdesk-Delivery).

A model takes part by subclassing `LeasedJob`, listing its states in a `Status` enum (the `JobStatus` values plus its
own done state) and naming its indexes with `job_indexes`; its app drives it through a `JobQueue`.

This module imports only Django, the standard library and common.breakers: every app may import it, it imports no app.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .breakers import Breaker, GateState

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
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Not sent by then: failed instead of sent late (the maximum age of its kind)."
    )

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
    """The leased-job mechanism for one model. `done` is the model's done state; the lease, backoff, attempts and
    maximum age come from the settings `<settings_prefix>_LEASE_SECONDS`, `_RETRY_BASE_SECONDS`,
    `_RETRY_MAX_SECONDS`, `_MAX_ATTEMPTS` and `_MAX_AGE_HOURS` (hours or None), read at each call; with
    `max_age_of`, the maximum age is that of the row's kind (the value of `kind_field`) instead."""

    model: type[Job]
    done: str
    settings_prefix: str
    kind_field: str = ""  # the field whose value max_age_of gets
    max_age_of: Callable[[str], timedelta | None] | None = None
    on_given_up: Callable[[list[int], str], None] | None = None  # told the ids the sweep failed, and why

    def __post_init__(self) -> None:
        if self.done not in self.model.Status.values:
            raise ImproperlyConfigured(f"{self.done!r} is not a state of {self.model.__name__}.Status")

    def _setting(self, name: str) -> Any:
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

    def max_age(self, kind: str = "") -> timedelta | None:
        """The maximum age of a row of `kind` (None: no limit)."""
        if self.max_age_of is not None:
            return self.max_age_of(kind)
        hours = self._setting("MAX_AGE_HOURS")
        return None if hours is None else timedelta(hours=hours)

    def expires_at(self, *, kind: str = "", due: datetime | None = None) -> datetime | None:
        """The `expires_at` of a row of `kind` queued now and due at `due` (now by default)."""
        age = self.max_age(kind)
        return None if age is None else (due or timezone.now()) + age

    # --- the sweep (beat) -------------------------------------------------------------------------------------------

    @staticmethod
    def _claimable(now: datetime) -> Q:
        return Q(status=JobStatus.QUEUED, next_attempt_at__lte=now) | Q(status=JobStatus.SENDING, lease_until__lt=now)

    def give_up(self, *, now: datetime | None = None) -> int:
        """Fail the rows a sweep would claim but may not: past their expiry, or still `sending` past the lease of
        their last allowed claim (each claim ended without an outcome: the worker died, or the send outlived its
        lease). Returns how many. claim_due calls it first."""
        now = now or timezone.now()
        max_attempts = self._setting("MAX_ATTEMPTS")
        claimable = self._rows.filter(self._claimable(now))
        expired = claimable.filter(expires_at__lt=now).order_by()
        kinds = list(expired.values_list(self.kind_field, flat=True).distinct()) if self.kind_field else [""]
        count = sum(
            self._fail_all(
                expired.filter(**{self.kind_field: kind}) if self.kind_field else expired, self._expired_error(kind)
            )
            for kind in kinds
        )
        count += self._fail_all(
            claimable.filter(status=JobStatus.SENDING, attempts__gte=max_attempts),
            f"No outcome after {max_attempts} attempts: each claim ended without one (the worker died, or the send "
            "outlived its lease).",
        )
        if count:
            logger.error("%s %s failed by the sweep (expired or out of attempts)", count, self.model._meta.verbose_name)
        return count

    def _fail_all(self, rows: QuerySet[Job], error: str) -> int:
        """Fail these rows with `error`; with `on_given_up`, it is told their ids in the same transaction (the rows
        locked first, so of two sweeps only one fails and reports a row)."""
        ended = {"status": JobStatus.FAILED, "lease_until": None, "claim_token": "", "last_error": error}
        if self.on_given_up is None:
            return rows.update(**ended)
        with transaction.atomic():
            ids = list(rows.select_for_update().values_list("pk", flat=True))
            count = self._rows.filter(pk__in=ids).update(**ended) if ids else 0
            if ids:
                self.on_given_up(ids, error)
        return count

    def _expired_error(self, kind: str) -> str:
        age = self.max_age(kind)
        limit = f"{kind}: " if kind else ""
        limit += f"{age.total_seconds() / 3600:g} h" if age is not None else "none now"
        return f"Expired: not sent within the maximum age of its kind ({limit}), so it is not sent late."

    def claim_due(
        self,
        *,
        limit: int = 500,
        now: datetime | None = None,
        where: Q | None = None,
        token: str | None = None,
    ) -> tuple[str, list[int]]:
        """Claim up to `limit` due rows (and rows whose lease expired), those matching `where` if given, for one
        sweep; each claim is an attempt. Rows past their expiry or attempts are failed first (`give_up`).
        Returns (claim token, ids)."""
        now = now or timezone.now()
        self.give_up(now=now)
        token = token or uuid.uuid4().hex
        claimable = self._claimable(now) & (where if where is not None else Q())
        candidates = list(
            self._rows.filter(claimable).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return token, []
        # The WHERE clause is re-evaluated per row under its lock: a row another sweep claimed meanwhile is skipped.
        self._rows.filter(claimable, pk__in=candidates).update(
            status=JobStatus.SENDING, claim_token=token, lease_until=now + self.lease(), attempts=F("attempts") + 1
        )
        claimed = self._rows.filter(pk__in=candidates, claim_token=token)  # by primary key: no table scan
        return token, list(claimed.order_by("id").values_list("pk", flat=True))

    def claim_through(
        self, breaker: Breaker, *, limit: int = 500, now: datetime | None = None, where: Q | None = None
    ) -> tuple[str, list[int]]:
        """claim_due behind the circuit breaker of the rows' transport: closed → as claim_due; open → nothing
        (give_up still runs); half-open → one row, the probe, under the probe's token."""
        now = now or timezone.now()
        gate = breaker.gate(now=now)
        if gate.state is GateState.CLOSED:
            return self.claim_due(limit=limit, now=now, where=where)
        if gate.state is GateState.OPEN:
            return self.claim_due(limit=0, now=now)
        token, ids = self.claim_due(limit=1, now=now, where=where, token=gate.token)
        if not ids:
            breaker.probe_unused(token=gate.token)
        return token, ids

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
        return self._record(job, "done", logging.DEBUG, status=self.done, last_error="", **fields)

    def fail(self, job: Job, *, error: str, permanent: bool, **fields: Any) -> str | None:
        """The far side refused the job: a temporary refusal puts the row back in the queue, due after the backoff,
        unless this was its last allowed attempt; that or a permanent refusal ends in `failed`. Returns the new
        status, or None when the row is no longer this send's (nothing written)."""
        give_up = permanent or job.attempts >= self._setting("MAX_ATTEMPTS")
        status = JobStatus.FAILED if give_up else JobStatus.QUEUED
        recorded = self._record(
            job,
            f"{'failed' if give_up else 'will be retried'}: {error}",
            logging.ERROR if give_up else logging.WARNING,
            status=status,
            next_attempt_at=timezone.now() + self.retry_delay(job.attempts),
            last_error=error[:ERROR_CHARS],
            **fields,
        )
        return status if recorded else None

    def release(self, jobs: list[Job], *, error: str = "") -> int:
        """Transport trouble: put this send's `jobs` back in the queue with their attempt given back. With `error`
        (the rows that met it) it is recorded and they are due now, behind the rows already due; without (rows not
        tried because the transport is down) they keep their place. Returns how many were still this send's."""
        fields: dict[str, Any] = {"last_error": error[:ERROR_CHARS], "next_attempt_at": timezone.now()} if error else {}
        released = self._rows.filter(
            pk__in=[job.pk for job in jobs],
            status=JobStatus.SENDING,
            claim_token__in={job.claim_token for job in jobs},
        ).update(status=JobStatus.QUEUED, attempts=F("attempts") - 1, lease_until=None, claim_token="", **fields)
        if released:
            name = self.model._meta.verbose_name_plural
            logger.info("%s %s back in the queue, attempt not spent: %s", released, name, error or "not tried")
        return released

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
        """Put a failed or cancelled row back in the queue, due now, with a fresh attempt count and expiry (and
        `fields`)."""
        kind = self._rows.filter(pk=pk).values_list(self.kind_field, flat=True).first() if self.kind_field else ""
        return bool(
            self._rows.filter(pk=pk, status__in=[JobStatus.FAILED, JobStatus.CANCELLED]).update(
                status=JobStatus.QUEUED,
                attempts=0,
                next_attempt_at=timezone.now(),
                expires_at=self.expires_at(kind=kind or ""),
                last_error="",
                **fields,
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
