"""Settings shared by every run mode; values come from the environment (django-environ). Django's own here; each
concern's in a module of its own, star-imported below (they share the one `env` of helpdesk.settings.environment).

DATABASE_URL     default sqlite:///var/db.sqlite3 (WAL, IMMEDIATE transactions, busy timeout)
REDIS_URL        optional: the Celery broker; without it Celery uses a filesystem broker under var/celery/
REDIS_CACHE_URL  the cache; default: REDIS_URL's server, next database (without either: local memory)
"""

from datetime import timedelta

from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured

from .api_schema import SPECTACULAR_SETTINGS  # noqa: F401 - a setting
from .cache import *  # noqa: F403
from .celery import *  # noqa: F403
from .celery import beat_schedule
from .environment import BASE_DIR, VAR_DIR, env
from .inbound import *  # noqa: F403
from .outbox import *  # noqa: F403
from .sentiment import *  # noqa: F403
from .surveys import *  # noqa: F403
from .tickets import *  # noqa: F403
from .webhooks import *  # noqa: F403

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
    "sentiment",
    "customers",
    "macros",
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
CELERY_TIMEZONE = TIME_ZONE

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
