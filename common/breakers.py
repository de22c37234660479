"""Circuit breakers: one row per transport that leased jobs go through (`CircuitBreaker`), so that while the far side
cannot be reached nothing is claimed and no attempt is spent.

    closed ──(transport trouble)──▶ open until retry_at ──(retry_at passed: a sweep takes the probe)──▶ half-open
    half-open ──(the probe meets transport trouble)──▶ open again, for twice as long (capped)
    any state ──(a send reaches the far side: delivered, or refused by it)──▶ closed

- Transport trouble is what says nothing about the job itself: the server or host cannot be reached, does not
  greet, refuses the login or the TLS handshake (each app's send step decides which failures these are).
- Open: a sweep claims nothing through it. Rows it fails for age or attempts are still failed (`JobQueue.give_up`).
- Half-open: the first sweep at or after `retry_at` takes the probe with a conditional UPDATE (of two sweeps one
  wins), moving `retry_at` one lease ahead, and claims one row under the probe's token. Should the probe be lost
  (a dead worker), another is let through once that lease has passed.
- Backoff: `<prefix>_BREAKER_BASE_SECONDS` after the first trip, doubled after each failed probe, capped at
  `<prefix>_BREAKER_MAX_SECONDS`. A trip reported by a send that is not the probe (a batch claimed before the
  breaker opened) changes no timing: one outage counts once per probe.
- A send checks `blocks` before it starts: rows claimed before the breaker opened are put back untried.

This module imports only Django, the standard library and common's models.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import CircuitBreaker

logger = logging.getLogger(__name__)


class GateState(Enum):
    CLOSED = "closed"  # claim as usual
    OPEN = "open"  # claim nothing
    PROBE = "probe"  # claim one row, with the probe's token


@dataclass(frozen=True)
class Gate:
    state: GateState
    token: str = ""  # PROBE: the claim token the probe's row is claimed with


@dataclass(frozen=True)
class Breaker:
    """The circuit breaker of one transport, named `name`; settings `<settings_prefix>_BREAKER_BASE_SECONDS`,
    `_BREAKER_MAX_SECONDS`, and `_LEASE_SECONDS` (how long a probe may take), read at each call."""

    name: str
    settings_prefix: str

    def _seconds(self, name: str) -> int:
        return getattr(settings, f"{self.settings_prefix}_{name}")

    @property
    def _row(self) -> QuerySet[CircuitBreaker]:
        return CircuitBreaker.objects.filter(name=self.name)

    def delay(self, failures: int) -> timedelta:
        """How long it stays open after its n-th trip in a row: base, 2×base, 4×base … capped."""
        seconds = self._seconds("BREAKER_BASE_SECONDS") * 2 ** max(failures - 1, 0)
        return timedelta(seconds=min(seconds, self._seconds("BREAKER_MAX_SECONDS")))

    @classmethod
    def tripped(cls, *, prefix: str) -> list[CircuitBreaker]:
        """The breakers not closed whose name starts with `prefix`."""
        return list(CircuitBreaker.objects.filter(name__startswith=prefix, failures__gt=0).order_by("name"))

    def state(self) -> CircuitBreaker | None:
        """The row while the breaker is open or half-open; None while closed."""
        return self._row.filter(failures__gt=0).first()

    # --- the sweep ----------------------------------------------------------------------------------------------------

    def gate(self, *, now: datetime | None = None, row: CircuitBreaker | None = None) -> Gate:
        """What a sweep may claim through this breaker now (`row`: its state, when the caller has read it)."""
        now = now or timezone.now()
        row = row if row is not None else self._row.first()
        if row is None or not row.failures:
            return Gate(GateState.CLOSED)
        if row.retry_at is not None and row.retry_at > now:
            return Gate(GateState.OPEN)
        token = uuid.uuid4().hex
        probe_until = now + timedelta(seconds=self._seconds("LEASE_SECONDS"))
        taken = self._row.filter(failures=row.failures, retry_at=row.retry_at).update(
            retry_at=probe_until, probe_token=token
        )
        return Gate(GateState.PROBE, token) if taken else Gate(GateState.OPEN)

    def probe_unused(self, *, token: str) -> None:
        """The sweep that took the probe found nothing to claim: the next sweep may take it."""
        self._row.filter(probe_token=token).update(retry_at=timezone.now(), probe_token="")

    # --- the send -----------------------------------------------------------------------------------------------------

    def blocks(self, *, claim_token: str) -> bool:
        """Before a send: True while the breaker is not closed, unless this send is its probe."""
        return self._row.filter(failures__gt=0).exclude(probe_token=claim_token).exists()

    def trip(self, *, error: str, claim_token: str, now: datetime | None = None) -> None:
        """A send claimed under `claim_token` met transport trouble: a closed breaker opens; a failed probe opens
        it again for longer; any other send only leaves its error."""
        now = now or timezone.now()
        error = error[:2000]
        self._ensure_row()
        if self._row.filter(failures=0).update(
            failures=1, opened_at=now, retry_at=now + self.delay(1), probe_token="", last_error=error
        ):
            logger.warning("%s unreachable, no claims for %s: %s", self.name, self.delay(1), error)
            return
        failures = self._row.filter(probe_token=claim_token).exclude(probe_token="").values_list("failures", flat=True)
        probe_failures = failures.first()
        if probe_failures is not None and self._row.filter(probe_token=claim_token, failures=probe_failures).update(
            failures=probe_failures + 1,
            retry_at=now + self.delay(probe_failures + 1),
            probe_token="",
            last_error=error,
        ):
            logger.warning(
                "%s still unreachable, next probe in %s: %s", self.name, self.delay(probe_failures + 1), error
            )
            return
        self._row.filter(failures__gt=0).update(last_error=error)

    def close(self) -> bool:
        """A send reached the far side: the breaker closes (one conditional UPDATE; nothing to write when closed)."""
        closed = bool(
            self._row.filter(failures__gt=0).update(
                failures=0, opened_at=None, retry_at=None, probe_token="", last_error=""
            )
        )
        if closed:
            logger.info("%s reachable again", self.name)
        return closed

    def _ensure_row(self) -> None:
        if not self._row.exists():
            try:
                with transaction.atomic():
                    CircuitBreaker.objects.create(name=self.name)
            except IntegrityError:
                pass  # another send created it meanwhile
