"""Browser tests: pytest-playwright driving Debian's Chromium (/usr/bin/chromium) against `live_server`.

Never `playwright install`: nothing is downloaded at run time. `make test` installs Debian's chromium when missing.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; the ORM calls in these tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install -y chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    }


@pytest.fixture
def screenshot(page):
    """screenshot("name") saves var/screenshots/name.png (full page) for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page, live_server):
    """login(user, password) signs in through the real login form."""

    def sign_in(username: str, password: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")

    return sign_in


@pytest.fixture
def dev_desk(settings, tmp_path):
    """DEBUG pages (the dev mailbox) on, and the outbox delivering into a dev mailbox of this test."""
    settings.DEBUG = True
    settings.OUTBOX_DELIVERY_BACKEND = "outbox.devmail.MailboxBackend"
    settings.DEV_MAIL_DIR = tmp_path / "mail"
    settings.MEDIA_ROOT = tmp_path / "media"
