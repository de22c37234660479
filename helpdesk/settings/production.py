"""Production: every secret and deployment fact comes from the environment; a missing one stops the start
(ImproperlyConfigured) instead of running with a default. The Docker image defaults to these settings."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import _DEV_SECRET_KEY, env
from .inbound import _DEV_INBOUND_CREDENTIALS_KEY, _DEV_INBOUND_REPLY_KEY

SECRET_KEY = env("DJANGO_SECRET_KEY")  # unset: ImproperlyConfigured
if SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is the development key: set a secret one.")
DEBUG = False
# Redis: the Celery broker and, in a database (or a server) apart, the cache shared by the rate limits. No default
# for the cache: a managed Redis may offer only database 0, where the cache's clear() or eviction would drop tasks.
if not REDIS_URL:  # noqa: F405
    raise ImproperlyConfigured("Set REDIS_URL: the Celery broker (a Redis URL) is required in production.")
REDIS_CACHE_URL = env("REDIS_CACHE_URL")  # unset: ImproperlyConfigured
if REDIS_CACHE_URL == REDIS_URL:  # noqa: F405
    raise ImproperlyConfigured(
        "REDIS_CACHE_URL must not be the broker's REDIS_URL: clearing the cache would drop tasks."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# No default: with a wrong proxy count every client shares one rate-limit bucket and one login lockout (the proxy's
# address), or a client picks its own IP. 0 = clients connect to the app server directly.
if env("CLIENT_IP_PROXY_COUNT", default=None) is None:
    raise ImproperlyConfigured(
        "Set CLIENT_IP_PROXY_COUNT: the number of proxies in front of the app server (0 = none), from which the client "
        "IP of rate limits and login lockouts is read (it replaces CLIENT_IP_HEADER)."
    )

# Email in: the reply-address HMAC key and the Fernet key of IMAP passwords, each a secret of its own.
INBOUND_REPLY_ADDRESS_KEY = env("INBOUND_REPLY_ADDRESS_KEY")
INBOUND_CREDENTIALS_KEY = env("INBOUND_CREDENTIALS_KEY")
if INBOUND_REPLY_ADDRESS_KEY == _DEV_INBOUND_REPLY_KEY or INBOUND_CREDENTIALS_KEY == _DEV_INBOUND_CREDENTIALS_KEY:
    raise ImproperlyConfigured("INBOUND_REPLY_ADDRESS_KEY and INBOUND_CREDENTIALS_KEY must be secrets of their own.")


SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
