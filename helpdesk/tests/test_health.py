"""/healthz and the admin status page: a dead beat or worker, or mail not flowing, is visible."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingEmail
from outbox.services import email_enqueue, heartbeat_record, smtp_breaker

pytestmark = pytest.mark.django_db


def test_healthz_is_503_with_reasons_when_beat_and_worker_never_ran(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["beat_seconds_ago"] is None and body["worker_seconds_ago"] is None
    assert any("beat" in problem for problem in body["problems"])


def test_healthz_is_200_when_heartbeats_are_fresh_and_no_mail_waits(client):
    heartbeat_record(name="beat")
    heartbeat_record(name="worker")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_healthz_reports_the_oldest_due_email_and_stuck_and_failed_counts(client):
    heartbeat_record(name="beat")
    heartbeat_record(name="worker")
    waiting = email_enqueue(kind="system", to="a@example.org", subject="A", text="A")
    stuck = email_enqueue(kind="system", to="b@example.org", subject="B", text="B")
    failed = email_enqueue(kind="system", to="c@example.org", subject="C", text="C")
    OutgoingEmail.objects.filter(pk=stuck.pk).update(
        status=OutgoingEmail.Status.SENDING, lease_until=timezone.now() - timedelta(minutes=1)
    )
    OutgoingEmail.objects.filter(pk=failed.pk).update(status=OutgoingEmail.Status.FAILED)

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        heartbeat_record(name="beat")
        heartbeat_record(name="worker")
        body = client.get("/healthz").json()

    assert body["stuck"] == 1 and body["failed"] == 1 and body["queued"] == 1
    assert body["oldest_due_unsent_seconds"] >= 59
    assert body["ok"] is False  # the stuck row
    assert waiting.pk


def test_status_page_is_for_superusers_only(client, agent, admin_user):
    assert client.get(reverse("admin-status")).status_code == 302  # to the admin login
    client.force_login(agent)
    assert client.get(reverse("admin-status")).status_code == 302
    User.objects.filter(pk=agent.pk).update(is_staff=True)  # the staff flag alone opens nothing
    assert client.get(reverse("admin-status")).status_code == 302

    client.force_login(admin_user)
    response = client.get(reverse("admin-status"))

    assert response.status_code == 200
    assert "Last worker heartbeat" in response.content.decode()


def test_an_smtp_outage_is_reported_since_when_and_fails_the_check_after_the_configured_time(
    client, admin_user, settings
):
    settings.HEALTH_MAX_SMTP_DOWN_SECONDS = 300
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        smtp_breaker.trip(
            error="SMTPAuthenticationError: (535, b'5.7.8 Authentication credentials invalid')", claim_token="t"
        )
    since = f"SMTP unreachable since {timezone.localtime(start):%Y-%m-%d %H:%M:%S %Z}"

    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        heartbeat_record(name="beat")
        heartbeat_record(name="worker")
        response = client.get("/healthz")
        assert response.status_code == 200  # shown, not yet a failure
        assert response.json()["warnings"] == [f"{since} (2 min)"]
        assert response.json()["smtp_unreachable_since"] == start.isoformat().replace("+00:00", "Z")

        client.force_login(admin_user)
        page = client.get(reverse("admin-status")).content.decode()
        assert since in page and "Authentication credentials invalid" in page

    with time_machine.travel(start + timedelta(minutes=5, seconds=1), tick=False):
        heartbeat_record(name="beat")
        heartbeat_record(name="worker")
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["problems"] == [f"{since} (5 min)"]

    smtp_breaker.close()  # the first email sent
    assert client.get("/healthz").json()["smtp_unreachable_since"] is None
