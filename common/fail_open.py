"""Rate limits fail open: an unreachable cache (Redis in production) never turns a page into a 500.

Every rate limit of the desk (the public pages, the password reset, the API throttles) counts in the shared cache.
When the cache fails (Redis stopped, restarting, unreachable), `limiter_run` lets the request through instead, and
in each process:

- the first failure logs one warning with the error and opens a breaker: for RETRY_SECONDS the limiters do not
  touch the cache at all (no socket timeout per request) and let every request through, counted;
- the next request after that tries the cache again: if it still fails the breaker opens again (no new log line);
  if it answers, one line logs how many requests went through unlimited, and the limits apply again.

The count lives in this process's memory: it needs neither Redis nor the database, costs nothing on the degraded
path, and is per process (each gunicorn worker has its own; the log lines carry each process's totals).
/healthz shows it with `cache_report`, next to a ping of the cache made at that moment, which is what tells the
operator whether the cache answers now.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_SECONDS = 5.0  # after a cache error, the limiters leave the cache alone this long (per process)
CACHE_ALIAS = "default"  # the cache django-ratelimit (RATELIMIT_USE_CACHE) and DRF's throttles use


@dataclass
class _Outage:
    since: datetime | None = None  # start of the current failure burst; None while the cache answers
    retry_at: float = 0.0  # monotonic time until which the limiters skip the cache
    burst_requests: int = 0  # requests let through unlimited in the current burst
    requests: int = 0  # ... since this process started
    last_at: datetime | None = None


_lock = threading.Lock()
_outage = _Outage()
monotonic: Callable[[], float] = time.monotonic  # a test may replace it to move past the breaker


def limiter_run(check: Callable[[], T], *, fail_open: T) -> T:
    """`check()` (a rate-limit check that reads and writes the cache), or `fail_open` when the cache fails or is
    known to be failing. A configuration error is not a cache error: it is raised."""
    if _skip():
        return fail_open
    try:
        result = check()
    except ImproperlyConfigured:
        raise
    except Exception as error:  # redis' ConnectionError / TimeoutError / ResponseError, OSError, whatever the backend
        _failed(error)
        return fail_open
    if _outage.since is not None:
        _recovered()
    return result


def _count_locked(now: datetime) -> None:
    _outage.burst_requests += 1
    _outage.requests += 1
    _outage.last_at = now


def _skip() -> bool:
    with _lock:
        if monotonic() >= _outage.retry_at:
            return False
        _count_locked(timezone.now())
        return True


def _failed(error: Exception) -> None:
    now = timezone.now()
    with _lock:
        starts = _outage.since is None
        if starts:
            _outage.since, _outage.burst_requests = now, 0
        _count_locked(now)
        _outage.retry_at = monotonic() + RETRY_SECONDS
    if starts:
        log.warning(
            "Rate-limit cache unreachable (%s: %s): rate limits fail open, requests go through unlimited; "
            "the cache is tried again every %s s (process %s)",
            type(error).__name__,
            error,
            RETRY_SECONDS,
            os.getpid(),
        )


def _recovered() -> None:
    with _lock:
        since, requests = _outage.since, _outage.burst_requests
        if since is None:
            return
        _outage.since, _outage.burst_requests = None, 0
    log.warning(
        "Rate-limit cache answers again: %d request(s) went through without rate limits since %s (process %s)",
        requests,
        since.isoformat(),
        os.getpid(),
    )


def cache_ping() -> str:
    """ "ok" or "unreachable" for a shared cache (one round trip, bounded by its socket timeouts); "local" for a
    process-memory cache (no REDIS_URL: rate limits are per process, nothing to reach)."""
    cache = caches[CACHE_ALIAS]
    if isinstance(cache, LocMemCache | DummyCache):
        return "local"
    try:
        cache.get("common:healthz:ping")
    except Exception:
        return "unreachable"
    return "ok"


def cache_report() -> dict[str, object]:
    """For /healthz: the cache pinged now, and the requests this process let through while the cache failed."""
    with _lock:
        fail_open = {
            "requests": _outage.requests,
            "failing_since": _outage.since.isoformat() if _outage.since else None,
            "last_at": _outage.last_at.isoformat() if _outage.last_at else None,
            "process": os.getpid(),
        }
    return {"cache": cache_ping(), "rate_limit_fail_open": fail_open}


def outage_reset() -> None:
    """Forget this process's failure state (tests that point the cache somewhere dead clean up with it)."""
    global _outage
    with _lock:
        _outage = _Outage()
