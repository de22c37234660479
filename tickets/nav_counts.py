"""The counts beside navigation links (NavEntry.count, e.g. "Held email 3"), which must never cost a page a query.

Each count is kept per user in the cache for NAV_COUNT_SECONDS. A page reads it from there (no query); when it is not
there (first page, or expired), the page renders the link with a placeholder that htmx fills from the count partial
(tickets.views.nav), which counts once and caches it: the page keeps its query budget either way, and a user causes
at most one count query per entry every NAV_COUNT_SECONDS. The count may be that old; the app whose action changes it
forgets the acting user's count (`nav_count_forget`), so they see their own change at once.

The cache failing (Redis down) never fails a page: the link is shown without a count, the partial counts without
the cache, and this process leaves the cache alone for RETRY_SECONDS after an error (no socket timeout per page).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.core.cache import cache

from common.users import UserLike

from .extensions import NavEntry, nav_entries_for

log = logging.getLogger(__name__)
T = TypeVar("T")

NAV_COUNT_SECONDS = 30
RETRY_SECONDS = 5.0
monotonic: Callable[[], float] = time.monotonic  # a test may replace it
_retry_at = 0.0


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str
    count: int | None = None  # cached: shown when > 0
    count_pending: bool = False  # counted but not cached: loaded from the count partial after the page


def _key(url_name: str, user: UserLike) -> str:
    return f"tickets:nav-count:{url_name}:{user.pk}"


def _cached(call: Callable[[], T], default: T) -> T:
    """call() against the cache, or `default` when it fails or failed less than RETRY_SECONDS ago (fail open)."""
    global _retry_at
    if monotonic() < _retry_at:
        return default
    try:
        return call()
    except Exception as error:  # redis' ConnectionError / TimeoutError, OSError, whatever the backend raises
        if not _retry_at:
            log.warning("Navigation counts: cache unreachable (%s: %s), shown without it", type(error).__name__, error)
        _retry_at = monotonic() + RETRY_SECONDS
        return default


def nav_links_for(user: UserLike) -> list[NavLink]:
    """The registered links this user may see, each with its cached count (never a query for a count)."""
    links = []
    for entry in nav_entries_for(user):
        if entry.count is None:
            links.append(NavLink(entry.label, entry.url_name))
            continue
        count = _cached(lambda entry=entry: cache.get(_key(entry.url_name, user)), None)  # type: ignore[misc]
        links.append(NavLink(entry.label, entry.url_name, count=count, count_pending=count is None))
    return links


def nav_count_fresh(entry: NavEntry, user: UserLike) -> int:
    """Count now (one query, the entry's) and keep it for NAV_COUNT_SECONDS."""
    count = entry.count(user) if entry.count is not None else 0
    _cached(lambda: cache.set(_key(entry.url_name, user), count, NAV_COUNT_SECONDS), None)
    return count


def nav_count_forget(url_name: str, user: UserLike) -> None:
    """The user changed what the entry counts: their next page counts again."""
    _cached(lambda: cache.delete(_key(url_name, user)), None)


def outage_reset() -> None:
    """Forget a cache failure (tests that point the cache somewhere dead clean up with it)."""
    global _retry_at
    _retry_at = 0.0
