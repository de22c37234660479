"""The ticket desk without the surveys app: tickets never imports, names or renders anything of it, so a site
without surveys (and demo, which imports it) migrates and passes every tickets test.

The run happens in a subprocess with tickets/tests/settings_without_surveys.py, on a fresh SQLite file in a
temporary directory (whatever backend this run is on), and without REDIS_URL: its cache is its own process's, so
rate-limit counters are not shared with this run.
"""

import importlib
import os
import subprocess
import sys

import pytest
from django.conf import settings

SETTINGS = "tickets.tests.settings_without_surveys"
SUBPROCESS_ENV = "HELPDESK_WITHOUT_SURVEYS_SUBPROCESS"  # set in the subprocess: it must not start another one


def run(command: list[str], *, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *command], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=600
    )


def test_the_settings_leave_out_surveys_and_its_periodic_tasks():
    without = importlib.import_module(SETTINGS)

    assert not {"surveys", "demo"} & set(without.INSTALLED_APPS)
    assert "tickets" in without.INSTALLED_APPS
    tasks = {entry["task"] for entry in without.CELERY_BEAT_SCHEDULE.values()}
    assert "tickets.tasks.close_stale_pending_tickets" in tasks
    assert not [task for task in tasks if task.startswith(("surveys.", "demo."))]  # beat sends no task no worker has


@pytest.mark.skipif(SUBPROCESS_ENV in os.environ, reason="already the run without surveys")
def test_tickets_migrate_and_pass_their_tests_without_surveys(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "TEST_DB_NAME", "REDIS_URL"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        SUBPROCESS_ENV: "1",
    }

    migrated = run(["manage.py", "migrate", "--noinput"], env=env)
    assert migrated.returncode == 0, f"migrate without surveys failed:\n{migrated.stdout}\n{migrated.stderr}"
    assert "Applying tickets.0008_survey_columns_moved_to_surveys... OK" in migrated.stdout
    assert "Applying surveys." not in migrated.stdout

    this_module = os.path.relpath(__file__, settings.BASE_DIR)
    tested = run(
        ["-m", "pytest", "tickets", "-q", "-p", "no:cacheprovider", f"--ds={SETTINGS}", f"--ignore={this_module}"],
        env=env,
    )
    assert tested.returncode == 0, f"the tickets tests failed without surveys:\n{tested.stdout}\n{tested.stderr}"
    assert " passed" in tested.stdout
    assert " failed" not in tested.stdout
