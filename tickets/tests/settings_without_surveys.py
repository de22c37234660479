"""The test settings without the surveys app (and sentiment and demo, which import it): a plain ticket desk.

tickets/tests/test_without_surveys.py runs `manage.py migrate` and the tickets tests in a subprocess with these
settings, DATABASE_URL pointing at a fresh SQLite file.
"""

from helpdesk.settings.test import *  # noqa: F403
from helpdesk.settings.test import DATABASES, INSTALLED_APPS, beat_schedule

INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in {"surveys", "sentiment", "customers", "demo"}]
CELERY_BEAT_SCHEDULE = beat_schedule(INSTALLED_APPS)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The test database beside the database file (the caller's temp directory), never var/test.sqlite3. A copy:
    # the imported settings' dictionaries are left as they are.
    DATABASES = {"default": {**DATABASES["default"], "TEST": {"NAME": f"{DATABASES['default']['NAME']}.test"}}}
