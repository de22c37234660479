"""The test settings without the sentiment app (and customers, which imports it): the desk as it was before it
(sentiment/tests/test_without_sentiment.py runs `manage.py migrate` and the tests of the apps below it in a subprocess
with these, on a fresh SQLite file)."""

from helpdesk.settings.test import *  # noqa: F403
from helpdesk.settings.test import DATABASES, INSTALLED_APPS, beat_schedule

INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in {"sentiment", "customers"}]
CELERY_BEAT_SCHEDULE = beat_schedule(INSTALLED_APPS)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES = {"default": {**DATABASES["default"], "TEST": {"NAME": f"{DATABASES['default']['NAME']}.test"}}}
