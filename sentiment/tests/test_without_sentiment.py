"""The desk without the sentiment app: nothing below it imports, names or renders it, so a site without it
migrates, serves its pages and passes the tests of the pages sentiment adds to (a subprocess on a fresh SQLite file,
without REDIS_URL)."""

import importlib
import os
import subprocess
import sys

import pytest
from django.conf import settings

SETTINGS = "sentiment.tests.settings_without_sentiment"
SUBPROCESS_ENV = "HELPDESK_WITHOUT_SENTIMENT_SUBPROCESS"
# The pages sentiment extends (list, ticket page, feedback pages, team dashboard, seed_demo) and the registries.
TESTS = [
    "tickets/tests/test_views.py",
    "tickets/tests/test_extension_points.py",
    "surveys/tests/test_agent_views.py",
    "surveys/tests/test_team_panels.py",
    "demo/tests/test_seed_demo.py",
    "helpdesk/tests/test_registries.py",
]


def run(command: list[str], *, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *command], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=600
    )


def test_the_settings_leave_out_sentiment_and_its_periodic_tasks():
    without = importlib.import_module(SETTINGS)

    assert "sentiment" not in without.INSTALLED_APPS and "surveys" in without.INSTALLED_APPS
    tasks = {entry["task"] for entry in without.CELERY_BEAT_SCHEDULE.values()}
    assert "surveys.tasks.send_due_invitations" in tasks
    assert not [task for task in tasks if task.startswith("sentiment.")]


@pytest.mark.skipif(SUBPROCESS_ENV in os.environ, reason="already the run without sentiment")
def test_the_desk_migrates_and_passes_without_sentiment(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "TEST_DB_NAME", "REDIS_URL"}}
    env |= {"DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}"}
    env[SUBPROCESS_ENV] = "1"

    migrated = run(["manage.py", "migrate", "--noinput"], env=env)
    assert migrated.returncode == 0, f"migrate without sentiment failed:\n{migrated.stdout}\n{migrated.stderr}"
    assert "Applying surveys." in migrated.stdout and "Applying sentiment." not in migrated.stdout
    checked = run(["manage.py", "check"], env=env)
    assert checked.returncode == 0, checked.stderr

    tested = run(["-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider", f"--ds={SETTINGS}"], env=env)
    assert tested.returncode == 0, f"the tests failed without sentiment:\n{tested.stdout}\n{tested.stderr}"
    assert " passed" in tested.stdout and " failed" not in tested.stdout
