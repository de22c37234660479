"""Production settings refuse to start without what a deployment must decide (here: the proxy count)."""

import subprocess
import sys

import pytest
from django.conf import settings

DEPLOYMENT = {
    "DJANGO_SECRET_KEY": "a-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
    "DJANGO_ALLOWED_HOSTS": "helpdesk.example.com",
    "REDIS_URL": "redis://127.0.0.1:1/0",  # never connected to: the settings are only loaded
    "CLIENT_IP_PROXY_COUNT": "1",
}
PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.CLIENT_IP_PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'])"
)


def start(env: dict[str, str], code: str = PRINT_SETTINGS) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter with exactly `env` (plus PATH and the production settings unless env says)."""
    environment = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "helpdesk.settings.production", **env}
    command = [sys.executable, "-c", code]
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        command, env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )


def test_production_settings_start_with_every_required_variable():
    result = start(DEPLOYMENT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "1", "1"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CLIENT_IP_PROXY_COUNT", None, "Set CLIENT_IP_PROXY_COUNT"),
        ("CLIENT_IP_PROXY_COUNT", "", "CLIENT_IP_PROXY_COUNT is the number of proxies"),
        ("CLIENT_IP_PROXY_COUNT", "-1", "CLIENT_IP_PROXY_COUNT is the number of proxies"),
        ("CLIENT_IP_PROXY_COUNT", "one", "CLIENT_IP_PROXY_COUNT is the number of proxies"),
    ],
)
def test_production_settings_refuse_to_start_without_a_proxy_count(variable, value, message):
    env = {name: text for name, text in DEPLOYMENT.items() if name != variable}
    if value is not None:
        env[variable] = value

    result = start(env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
