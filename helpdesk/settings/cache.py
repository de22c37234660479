"""Redis, imported by helpdesk.settings.base: REDIS_URL is the Celery broker (helpdesk.settings.celery), REDIS_CACHE_URL
the cache, in a database apart, so that clearing the cache (or an eviction policy) never drops a queued task."""

from urllib.parse import urlsplit, urlunsplit

from .environment import env

REDIS_URL = env("REDIS_URL", default="")


def next_database(url: str) -> str:
    """The same Redis server as `url`, the next database number: redis://h:p/0 → redis://h:p/1 (no number: 0)."""
    parts = urlsplit(url)
    number = parts.path.strip("/") or "0"
    return urlunsplit(parts._replace(path=f"/{int(number) + 1}"))


# Defaults to the broker's server, next database (`make run`, tests); production requires it (a managed Redis may
# offer only database 0: then a second Redis, or a prefix-free server of its own, for the cache).
REDIS_CACHE_URL = env("REDIS_CACHE_URL", default=next_database(REDIS_URL) if REDIS_URL else "")
if REDIS_CACHE_URL:
    # Short socket timeouts: an unreachable Redis costs a request at most this long before the rate limits fail open
    # (common/fail_open.py), instead of hanging it. Nothing else in a request needs the cache: sessions are in the
    # database, CSRF in a cookie, django-axes in the database (its default handler).
    _cache_timeout = env.float("REDIS_CACHE_TIMEOUT_SECONDS", default=0.25)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": _cache_timeout, "socket_timeout": _cache_timeout},
        }
    }
    # django-ratelimit 4.1 lists only django-redis as "supported"; Django's own RedisCache is shared and its incr()
    # is Redis INCRBY (atomic), which is all the rate limiter needs.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    # One process's memory: fine for `make run` and tests, but rate limits are then per process, so
    # django-ratelimit's "shared cache" check is silenced here only (production sets REDIS_CACHE_URL).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
