from .base import *  # noqa: F403
from .base import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The outbox delivers into django.core.mail.outbox (pytest's `mailoutbox`); tests of the SMTP path set it back.
# A worker subprocess in an integration test can be pointed at the dev mailbox or an SMTP sink through env.
if not EMAIL_URL:  # noqa: F405
    OUTBOX_DELIVERY_BACKEND = env("OUTBOX_DELIVERY_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405 - never the dev files
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405

# TEST_DB_NAME lets several checkouts or runs on one machine use separate test databases.
_test_db_name = env("TEST_DB_NAME", default="")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not :memory:, so concurrency tests see real SQLite locking (WAL + busy timeout) as in `make run`.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"{_test_db_name or 'test'}.sqlite3")}  # noqa: F405
elif _test_db_name:
    DATABASES["default"]["TEST"] = {"NAME": _test_db_name}  # noqa: F405
