"""Production settings refuse to start without what a deployment must decide (the secret key, the hosts, Redis for
the broker and for the cache, the proxy count, the email-in keys), and
the Docker image starts with them by default: run bare, it refuses instead of serving with DEBUG or a known key.

Docker itself is not run here: the image's environment is read from the Dockerfile and given to a subprocess."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

DEPLOYMENT = {
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings.production",
    "DJANGO_SECRET_KEY": "a-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
    "DJANGO_ALLOWED_HOSTS": "helpdesk.example.com",
    "REDIS_URL": "redis://127.0.0.1:1/0",  # never connected to: the settings are only loaded
    "REDIS_CACHE_URL": "redis://127.0.0.1:1/1",
    "CLIENT_IP_PROXY_COUNT": "1",
    "INBOUND_REPLY_ADDRESS_KEY": "a-test-reply-address-key",
    "INBOUND_CREDENTIALS_KEY": "dGVzdC1jcmVkZW50aWFscy1rZXktMDEyMzQ1Njc4OTA=",
}
PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.CLIENT_IP_PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'], s.CELERY_BROKER_URL, "
    "s.CACHES['default']['LOCATION'])"
)


def start(env: dict[str, str], code: str = PRINT_SETTINGS) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter with exactly `env` (and a PATH)."""
    environment = {"PATH": "/usr/bin:/bin", **env}
    command = [sys.executable, "-c", code]
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        command, env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )


def test_production_settings_start_with_every_required_variable():
    result = start(DEPLOYMENT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "1", "1", "redis://127.0.0.1:1/0", "redis://127.0.0.1:1/1"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_SECRET_KEY", None, "Set the DJANGO_SECRET_KEY environment variable"),
        ("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me", "DJANGO_SECRET_KEY is the development key"),
        ("DJANGO_ALLOWED_HOSTS", None, "Set the DJANGO_ALLOWED_HOSTS environment variable"),
        ("REDIS_URL", None, "Set REDIS_URL"),
        ("REDIS_CACHE_URL", None, "Set the REDIS_CACHE_URL environment variable"),
        ("REDIS_CACHE_URL", "redis://127.0.0.1:1/0", "REDIS_CACHE_URL must not be the broker's REDIS_URL"),
        ("CLIENT_IP_PROXY_COUNT", None, "Set CLIENT_IP_PROXY_COUNT"),
        ("CLIENT_IP_PROXY_COUNT", "", "CLIENT_IP_PROXY_COUNT is the number of proxies"),
        ("CLIENT_IP_PROXY_COUNT", "-1", "CLIENT_IP_PROXY_COUNT is the number of proxies"),
        ("CLIENT_IP_PROXY_COUNT", "one", "CLIENT_IP_PROXY_COUNT is the number of proxies"),
        ("INBOUND_REPLY_ADDRESS_KEY", None, "Set the INBOUND_REPLY_ADDRESS_KEY environment variable"),
        ("INBOUND_REPLY_ADDRESS_KEY", "dev-only-inbound-reply-key", "must be secrets of their own"),
        ("INBOUND_CREDENTIALS_KEY", None, "Set the INBOUND_CREDENTIALS_KEY environment variable"),
        ("INBOUND_CREDENTIALS_KEY", "ZGV2LW9ubHktaW5ib3VuZC1jcmVkZW50aWFscy1rZXk=", "must be secrets of their own"),
    ],
)
def test_production_settings_refuse_to_start_without_each_required_setting(variable, value, message):
    env = {name: text for name, text in DEPLOYMENT.items() if name != variable}
    if value is not None:
        env[variable] = value

    result = start(env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def dockerfile_env() -> dict[str, str]:
    """The ENV lines of the Dockerfile (KEY=value pairs)."""
    text = (Path(settings.BASE_DIR) / "Dockerfile").read_text()
    pairs = [pair for line in re.findall(r"^ENV (.+)$", text, flags=re.MULTILINE) for pair in line.split()]
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_docker_image_defaults_to_production_settings_and_refuses_to_start_without_a_secret_key():
    env = dockerfile_env()

    assert env.get("DJANGO_SETTINGS_MODULE") == "helpdesk.settings.production"
    assert not {"DJANGO_SECRET_KEY", "DJANGO_DEBUG"} & env.keys()
    result = start(env, code="import helpdesk.wsgi")  # what the image's gunicorn does first
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set the DJANGO_SECRET_KEY environment variable" in result.stderr


def test_the_docker_image_starts_gunicorn_on_the_wsgi_application():
    text = (Path(settings.BASE_DIR) / "Dockerfile").read_text()

    command = re.search(r"^CMD (.+)$", text, flags=re.MULTILINE)

    assert command and '"gunicorn", "helpdesk.wsgi:application"' in command.group(1)
