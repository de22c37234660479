"""Settings shared by every run mode; values come from the environment (django-environ).

DATABASE_URL  default sqlite:///var/db.sqlite3 (WAL, IMMEDIATE transactions, busy timeout)
REDIS_URL     optional: Celery broker and cache; without it Celery uses a filesystem broker under var/celery/
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

from .api_schema import SPECTACULAR_SETTINGS  # noqa: F401 - a setting

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

_DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 - public on purpose: production refuses it
SECRET_KEY = env("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "helpdesk.admin_site.HelpdeskAdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_htmx",
    "django_ratelimit",
    "axes",
    "csp",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "common",
    "outbox",
    "tickets",
    "webhooks",
    "surveys",
    "inbound",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers locked-out logins
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # select_for_update() is a no-op on SQLite: IMMEDIATE transactions take the write lock up front instead,
    # WAL lets readers run beside the writer, and the timeout makes a second writer wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brute-force protection of every login (web form, admin, API token login): django-axes locks a username from one
# client IP after AXES_FAILURE_LIMIT failures for AXES_COOLOFF_TIME; a success resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "common.client_ip.client_ip"  # the same client IP as the rate limits (proxy-aware)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Content-Security-Policy (django-csp): scripts only from this site (no inline script anywhere: htmx, the survey
# page's script, the API docs' initialiser and django-celery-beat's admin form script are static files), no plugins,
# no framing. Inline style attributes stay allowed for the Django admin and the API docs (Swagger UI / Redoc), which
# set them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],
        "worker-src": [csp.SELF, "blob:"],  # Redoc renders in a blob: worker
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded and received files (email attachments, large raw emails) go through STORAGES["default"]: local files under
# MEDIA_ROOT here, never served as static files (tickets.views serves attachments to those who can see the ticket).
# For an S3-compatible store, install django-storages and set STORAGES["default"] to storages.backends.s3.S3Storage.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Short socket timeouts: an unreachable Redis costs a request at most this long before the rate limits fail open
    # (common/fail_open.py), instead of hanging it. Nothing else in a request needs the cache: sessions are in the
    # database, CSRF in a cookie, django-axes in the database (its default handler).
    _cache_timeout = env.float("REDIS_CACHE_TIMEOUT_SECONDS", default=0.25)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": _cache_timeout, "socket_timeout": _cache_timeout},
        }
    }
    # django-ratelimit 4.1 lists only django-redis as "supported"; Django's own RedisCache is shared and its incr()
    # is Redis INCRBY (atomic), which is all the rate limiter needs.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    # One process's memory: fine for `make run` and tests, but rate limits are then per process, so
    # django-ratelimit's "shared cache" check is silenced here only (production sets REDIS_URL).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# The client IP of the rate limits, django-axes and the API throttles (common/client_ip.py): how many proxies of our
# own stand in front of the app server; the client is the Nth X-Forwarded-For entry from the right (0: REMOTE_ADDR,
# the header is ignored). Production requires it to be set explicitly.
_proxy_count = env.str("CLIENT_IP_PROXY_COUNT", default="0").strip()
if not (_proxy_count.isascii() and _proxy_count.isdigit()):
    raise ImproperlyConfigured("CLIENT_IP_PROXY_COUNT is the number of proxies in front of the app server: 0 or more.")
CLIENT_IP_PROXY_COUNT = int(_proxy_count)
RATELIMIT_IP_META_KEY = "common.client_ip.client_ip"
# Rate limits (common/ratelimit.py; they fail open when the cache fails): the public pages per client IP, password
# reset requests per client IP and per address asked for.
PUBLIC_RATE_LIMIT = env("PUBLIC_RATE_LIMIT", default="60/m")
PASSWORD_RESET_RATE_LIMIT = env("PASSWORD_RESET_RATE_LIMIT", default="10/h")
PASSWORD_RESET_EMAIL_RATE_LIMIT = env("PASSWORD_RESET_EMAIL_RATE_LIMIT", default="3/h")

# Dev mailbox (outbox.devmail): where the dev delivery backend writes each email as an .eml file.
DEV_MAIL_DIR = env.path("DEV_MAIL_DIR", default=VAR_DIR / "mail")

# Absolute links in emails (survey, unsubscribe, conversation) start with this.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Surveys: the unsubscribe links of a survey email work this many days from the email (at least 60, whatever the
# survey's own expiry).
SURVEY_UNSUBSCRIBE_LINK_DAYS = env.int("SURVEY_UNSUBSCRIBE_LINK_DAYS", default=90)
# Surveys: several different scores within this many seconds are a link scanner, not a person.
SURVEY_BURST_SECONDS = env.int("SURVEY_BURST_SECONDS", default=10)
SURVEY_BURST_DISTINCT_SCORES = 3
# Feedback figures (CSAT %, CES, response rate) show "not enough responses" below this many responses.
FEEDBACK_MIN_SAMPLE = env.int("FEEDBACK_MIN_SAMPLE", default=10)
# Privacy: customers whose tickets were all closed longer ago than this many days are erased by beat (tickets.erasure:
# name, email and free text replaced, the tickets and figures kept). 0 keeps personal data until an admin erases it.
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=0)
# Recovery follow-ups: the owner is reminded this long before the due time (once); overdue ones escalate once.
FOLLOWUP_REMIND_BEFORE_MINUTES = env.int("FOLLOWUP_REMIND_BEFORE_MINUTES", default=120)
# SLA policies: how often beat records and mails the warnings and breaches of SLA targets (tickets.sla.alerts).
SLA_SWEEP_SECONDS = env.float("SLA_SWEEP_SECONDS", default=60.0)

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Support <support@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# All mail goes through the outbox (outbox/): Django's own mail is queued there too, and the outbox's sender
# delivers with OUTBOX_DELIVERY_BACKEND (SMTP from EMAIL_URL in production, var/mail/ in dev).
EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:  # e.g. smtp+tls://user:password@smtp.example.com:587
    _email = env.email_url("EMAIL_URL")
    OUTBOX_DELIVERY_BACKEND = _email.pop("EMAIL_BACKEND")
    vars().update(_email)
else:
    OUTBOX_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The outbox's retry rule (common.leased_jobs, README "How email works"): every claim is an attempt, at most
# OUTBOX_MAX_ATTEMPTS; SMTP 4xx to RCPT/DATA backs off (base, 2×base, … capped); transport trouble spends no attempt and
# opens the "smtp" circuit breaker for OUTBOX_BREAKER_BASE_SECONDS, doubled after each failed probe up to the max.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)  # each send starts with half of it left, at least
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_BREAKER_BASE_SECONDS = env.int("OUTBOX_BREAKER_BASE_SECONDS", default=30)
OUTBOX_BREAKER_MAX_SECONDS = env.int("OUTBOX_BREAKER_MAX_SECONDS", default=300)
# An email kind's maximum age is in its registration (outbox.kinds); OUTBOX_MAX_AGE_HOURS_<KIND> overrides it.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=20)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=15.0)
# /healthz answers 503 when beat or worker is silent longer than this, a due email waits longer than that, or SMTP has
# been unreachable (its circuit breaker open) longer than HEALTH_MAX_SMTP_DOWN_SECONDS.
HEALTH_MAX_SILENCE_SECONDS = env.int("HEALTH_MAX_SILENCE_SECONDS", default=120)
HEALTH_MAX_EMAIL_DELAY_SECONDS = env.int("HEALTH_MAX_EMAIL_DELAY_SECONDS", default=600)
HEALTH_MAX_SMTP_DOWN_SECONDS = env.int("HEALTH_MAX_SMTP_DOWN_SECONDS", default=300)
OUTBOX_MESSAGE_ID_DOMAIN = env("OUTBOX_MESSAGE_ID_DOMAIN", default="helpdesk.local")

# Email in (inbound/, README "How email comes in").
# The per-ticket reply address support+<ticket>.<mac>@…: an HMAC with this key of its own (not SECRET_KEY, so
# rotating one does not break the other). Production requires it.
_DEV_INBOUND_REPLY_KEY = "dev-only-inbound-reply-key"
INBOUND_REPLY_ADDRESS_KEY = env("INBOUND_REPLY_ADDRESS_KEY", default=_DEV_INBOUND_REPLY_KEY)
# IMAP passwords are stored encrypted with this Fernet key (44 url-safe base64 characters; make one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`). Production requires it.
_DEV_INBOUND_CREDENTIALS_KEY = "ZGV2LW9ubHktaW5ib3VuZC1jcmVkZW50aWFscy1rZXk="
INBOUND_CREDENTIALS_KEY = env("INBOUND_CREDENTIALS_KEY", default=_DEV_INBOUND_CREDENTIALS_KEY)
# The gateway (manage.py mail_gateway): where it listens, and the largest message it accepts (SIZE, 552 after DATA).
INBOUND_GATEWAY_HOST = env("INBOUND_GATEWAY_HOST", default="127.0.0.1")
INBOUND_GATEWAY_PORT = env.int("INBOUND_GATEWAY_PORT", default=2525)
INBOUND_MAX_MESSAGE_BYTES = env.int("INBOUND_MAX_MESSAGE_BYTES", default=30 * 1024 * 1024)
# Raw messages larger than this are kept in file storage (STORAGES["default"]) instead of the database row.
INBOUND_RAW_INLINE_MAX_BYTES = env.int("INBOUND_RAW_INLINE_MAX_BYTES", default=256 * 1024)
# Authentication-Results headers are believed only when added by these receiving hosts (authserv-id), e.g. the
# desk's own MTA: "mx.example.com". Empty: never believed (a subject tag alone is always held).
INBOUND_TRUSTED_AUTHSERV_IDS = env.list("INBOUND_TRUSTED_AUTHSERV_IDS", default=[])
# Acknowledgements of new tickets by email (Auto-Submitted: auto-replied): at most this many per sender per day.
INBOUND_ACKS_PER_SENDER_PER_DAY = env.int("INBOUND_ACKS_PER_SENDER_PER_DAY", default=3)
INBOUND_SWEEP_SECONDS = env.float("INBOUND_SWEEP_SECONDS", default=60.0)
INBOUND_IMAP_POLL_SECONDS = env.float("INBOUND_IMAP_POLL_SECONDS", default=60.0)

# Outgoing webhooks (webhooks/): one POST per try with this timeout; 5xx/429 are retried with backoff (base, 2×base, …
# capped), every claim an attempt, up to WEBHOOK_MAX_ATTEMPTS; connection errors, timeouts, DNS and TLS failures spend
# no attempt and open the endpoint's circuit breaker; a delivery not made within WEBHOOK_MAX_AGE_HOURS fails.
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3600)
WEBHOOK_BREAKER_BASE_SECONDS = env.int("WEBHOOK_BREAKER_BASE_SECONDS", default=60)
WEBHOOK_BREAKER_MAX_SECONDS = env.int("WEBHOOK_BREAKER_MAX_SECONDS", default=900)
WEBHOOK_MAX_AGE_HOURS = env.int("WEBHOOK_MAX_AGE_HOURS", default=168)
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=120)  # well above the timeout
WEBHOOK_SWEEP_SECONDS = env.float("WEBHOOK_SWEEP_SECONDS", default=15.0)

# Celery: Redis when REDIS_URL is set, else a filesystem broker under var/celery/ (no services needed for `make run`).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="helpdesk")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
else:
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "data_folder_processed": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
        # Polled, not pushed: a short interval and timer tick let a warm shutdown (Ctrl-C in `make run`) end well
        # within honcho's 5 s before it SIGKILLs (the worker's loop waits out its poll and the timer its tick).
        "polling_interval": 0.1,
    }
    CELERY_WORKER_TIMER_PRECISION = 0.1


def beat_schedule(installed_apps: list[str]) -> dict[str, dict]:
    """The periodic tasks of the installed apps only (a task `<app>.tasks.<name>` belongs to <app>): beat never sends
    a task no worker knows. A settings module that changes INSTALLED_APPS recomputes CELERY_BEAT_SCHEDULE with it."""
    every_task = {
        "sweep-outbox": {"task": "outbox.tasks.sweep_outbox", "schedule": OUTBOX_SWEEP_SECONDS},
        "sweep-webhooks": {"task": "webhooks.tasks.sweep_webhooks", "schedule": WEBHOOK_SWEEP_SECONDS},
        "close-stale-pending-tickets": {"task": "tickets.tasks.close_stale_pending_tickets", "schedule": 300.0},
        "sweep-sla-alerts": {"task": "tickets.tasks.sweep_sla_alerts", "schedule": SLA_SWEEP_SECONDS},
        "erase-personal-data": {"task": "tickets.tasks.erase_personal_data_past_retention", "schedule": 3600.0},
        "send-due-survey-invitations": {"task": "surveys.tasks.send_due_invitations", "schedule": 15.0},
        "settle-survey-responses": {"task": "surveys.tasks.settle_responses", "schedule": 60.0},
        "expire-and-remind-surveys": {"task": "surveys.tasks.expire_and_remind_invitations", "schedule": 600.0},
        "remind-and-escalate-followups": {"task": "surveys.tasks.remind_and_escalate_followups", "schedule": 300.0},
        "sweep-inbound": {"task": "inbound.tasks.sweep_inbound", "schedule": INBOUND_SWEEP_SECONDS},
        "poll-imap-mailboxes": {"task": "inbound.tasks.poll_imap_mailboxes", "schedule": INBOUND_IMAP_POLL_SECONDS},
    }
    return {name: entry for name, entry in every_task.items() if entry["task"].split(".")[0] in installed_apps}


CELERY_BEAT_SCHEDULE = beat_schedule(INSTALLED_APPS)

# REST API v1 (helpdesk/api_urls.py): knox tokens first, so an anonymous token client gets 401 + WWW-Authenticate.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.api.IsAuthenticatedUser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "common.api.CursorPagination",
    "PAGE_SIZE": 50,
    # DRF's per-user and anonymous throttles, failing open when the cache fails, per client IP as below.
    "DEFAULT_THROTTLE_CLASSES": ["common.api_throttling.UserRateThrottle", "common.api_throttling.AnonRateThrottle"],
    "NUM_PROXIES": CLIENT_IP_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "user": env("API_USER_RATE", default="600/minute"),
        "anon": env("API_ANON_RATE", default="30/minute"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# DomainError → 400 and Django's PermissionDenied → 403 keep their message (common.api_errors.ExceptionHandler).
DRF_STANDARDIZED_ERRORS = {"EXCEPTION_HANDLER_CLASS": "common.api_errors.ExceptionHandler"}
REST_KNOX = {"TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=10)), "AUTO_REFRESH": False}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # aiosmtpd (the mail gateway) logs every SMTP command at INFO: only its warnings.
    "loggers": {"mail.log": {"level": "WARNING"}},
}
