"""Webhooks: queued in the caller's transaction, claimed once, POSTed signed, retried on 5xx, failed on other 4xx."""

import hashlib
import hmac
import json
import socket
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from webhooks import services
from webhooks.events import webhook_events
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tasks import send_webhook, sweep_webhooks
from webhooks.tests.receiver import run_receiver

Status = WebhookDelivery.Status
pytestmark = pytest.mark.django_db
PAYLOAD = {"invitation_id": 7, "csat": 1, "answered_at": "2026-01-05T10:00:00+00:00"}


def emit(event: str = "survey.answered", payload: dict | None = None) -> int:
    return services.webhook_event_emit(event=event, payload=payload or PAYLOAD)


def claim_and_send() -> list[str | None]:
    token, ids = services.delivery_jobs.claim_due()
    return [services.delivery_send(delivery_id=pk, claim_token=token) for pk in ids]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- emitting ---


def test_a_delivery_exists_only_if_the_change_that_emitted_it_commits(endpoint):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert emit() == 1
        raise RuntimeError("the change failed")

    assert WebhookDelivery.objects.count() == 0


def test_emit_queues_one_delivery_per_subscribed_endpoint_with_a_json_safe_payload(endpoint, receiver):
    other = WebhookEndpoint.objects.create(name="BI", url="https://bi.example.org/in", events=["survey.answered"])
    at = timezone.now()

    assert emit(payload={"answered_at": at, "csat": 2}) == 2

    deliveries = WebhookDelivery.objects.order_by("endpoint_id")
    assert [d.endpoint_id for d in deliveries] == [endpoint.pk, other.pk]
    assert all(d.status == Status.QUEUED and d.event == "survey.answered" for d in deliveries)
    assert deliveries[0].payload == {"answered_at": at.isoformat(), "csat": 2}
    assert deliveries[0].event_id != deliveries[1].event_id
    assert receiver.requests == []  # nothing is POSTed by the emitting code


def test_no_subscribed_endpoint_no_row(receiver):
    WebhookEndpoint.objects.create(name="Only follow-ups", url=receiver.url, events=["followup.created"])

    assert emit("survey.answered") == 0

    assert WebhookDelivery.objects.count() == 0


def test_an_inactive_endpoint_gets_nothing(receiver):
    WebhookEndpoint.objects.create(name="Off", url=receiver.url, events=list(webhook_events.keys()), active=False)

    assert emit() == 0
    claim_and_send()

    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_an_endpoint_deactivated_after_the_event_gets_nothing_and_the_row_says_why(endpoint, receiver):
    emit()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)

    assert claim_and_send() == [Status.FAILED]

    assert receiver.requests == []
    assert "deactivated" in WebhookDelivery.objects.get().last_error


def test_an_unknown_event_is_refused(endpoint):
    with pytest.raises(ValueError, match="not a registered webhook event"):
        emit("ticket.exploded")
    assert WebhookDelivery.objects.count() == 0


# --- endpoints ---


def test_an_endpoint_gets_a_random_secret_and_only_http_or_https_urls_pass_validation():
    first = WebhookEndpoint.objects.create(name="A", url="https://a.example.org/", events=["survey.answered"])
    second = WebhookEndpoint.objects.create(name="B", url="http://b.example.org/", events=["survey.answered"])
    assert len(first.secret) >= 43 and first.secret != second.secret
    first.full_clean()

    for url in ("ftp://a.example.org/in", "file:///etc/passwd", "javascript:alert(1)", "not a url"):
        with pytest.raises(ValidationError) as error:
            WebhookEndpoint(name="X", url=url, events=["survey.answered"]).full_clean()
        assert "url" in error.value.message_dict, url
    with pytest.raises(ValidationError) as error:
        WebhookEndpoint(name="X", url="https://x.example.org/", events=["ticket.exploded"]).full_clean()
    assert "events" in error.value.message_dict


# --- sending ---


def test_the_post_is_signed_with_the_endpoint_secret_over_timestamp_and_exact_body(endpoint, receiver):
    emit()
    delivery = WebhookDelivery.objects.get()

    assert claim_and_send() == [Status.DELIVERED]

    [request] = receiver.requests
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Helpdesk-Event"] == "survey.answered"
    assert headers["X-Helpdesk-Delivery"] == str(delivery.event_id)
    timestamp = headers["X-Helpdesk-Timestamp"]
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    expected = hmac.new(endpoint.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Helpdesk-Signature"], f"sha256={expected}")
    wrong = hmac.new(b"another secret", f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert headers["X-Helpdesk-Signature"] != f"sha256={wrong}"
    body = json.loads(request.body)
    assert body == {
        "id": str(delivery.event_id),
        "event": "survey.answered",
        "created_at": delivery.created_at.isoformat(),
        "data": PAYLOAD,
    }
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (Status.DELIVERED, 1, 200)
    assert delivery.delivered_at is not None and delivery.lease_until is None


def test_500_then_200_is_retried_with_backoff_then_delivered(endpoint, receiver):
    receiver.statuses = [500]
    emit()

    assert claim_and_send() == [Status.QUEUED]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (Status.QUEUED, 1, 500)
    assert "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=55)
    assert services.delivery_jobs.claim_due()[1] == []  # not due before the backoff

    with time_machine.travel(timezone.now() + services.delivery_jobs.retry_delay(1) + timedelta(seconds=1)):
        assert claim_and_send() == [Status.DELIVERED]

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.last_error) == (
        Status.DELIVERED,
        2,
        200,
        "",
    )
    first, second = receiver.requests
    assert first.body == second.body  # the same event, the same bytes
    assert first.headers["X-Helpdesk-Delivery"] == second.headers["X-Helpdesk-Delivery"]


def test_backoff_doubles_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 60, 3600

    assert [services.delivery_jobs.retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 8)] == [
        60,
        120,
        240,
        3600,
        3600,
    ]


def test_429_is_retried(endpoint, receiver):
    receiver.statuses = [429]
    emit()

    assert claim_and_send() == [Status.QUEUED]
    assert WebhookDelivery.objects.get().response_status == 429


def test_410_fails_at_once_and_is_not_retried(endpoint, receiver):
    receiver.statuses = [410]
    emit()

    assert claim_and_send() == [Status.FAILED]

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (Status.FAILED, 1, 410)
    assert delivery.last_error == "HTTP 410 Gone: gone"
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert services.delivery_jobs.claim_due()[1] == []
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed_and_fails(endpoint, receiver):
    receiver.statuses = [302]
    emit()

    assert claim_and_send() == [Status.FAILED]
    assert len(receiver.requests) == 1  # urllib would have turned the POST into a GET: no second request
    assert WebhookDelivery.objects.get().response_status == 302


def sweep_round(*, django_capture_on_commit_callbacks) -> int:
    """One round of beat's sweep_webhooks, and the send tasks it hands out run here as a worker runs them."""
    with (
        mock.patch.object(send_webhook, "delay", side_effect=send_webhook),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return sweep_webhooks()


def statuses(endpoint: WebhookEndpoint) -> list[tuple[str, int]]:
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id").values_list("status", "attempts"))


@pytest.mark.parametrize("trouble", ["connection refused", "timeout"])
def test_no_answer_opens_the_endpoints_breaker_spends_no_attempt_and_a_probe_closes_it(
    trouble, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_BREAKER_BASE_SECONDS, settings.WEBHOOK_BREAKER_MAX_SECONDS = 60, 900
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    if trouble == "connection refused":
        url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    else:
        url, receiver.delay_seconds = receiver.url, 1
    down = WebhookEndpoint.objects.create(name="Down", url=url, events=list(webhook_events.keys()))
    with run_receiver() as other:
        healthy = WebhookEndpoint.objects.create(name="Up", url=other.url, events=list(webhook_events.keys()))
        emit()
        emit()
        start = timezone.now()

        def sweep(seconds: float) -> int:
            with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
                return sweep_round(django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

        # the first round: the down endpoint's deliveries go back, no attempt spent; the other endpoint's are delivered
        assert sweep(0) == 4
        assert statuses(down) == [(Status.QUEUED, 0)] * 2
        assert statuses(healthy) == [(Status.DELIVERED, 1)] * 2
        assert ("ConnectionRefused" if trouble == "connection refused" else "timed out") in (
            WebhookDelivery.objects.filter(endpoint=down).order_by("id").first().last_error
        )
        breaker = services.endpoint_breaker(down.pk).state()
        assert (breaker.failures, breaker.retry_at) == (1, start + timedelta(seconds=60))

        # while open nothing of that endpoint is claimed; another endpoint's new event still goes out
        emit("followup.created")
        assert sweep(30) == 1
        assert statuses(healthy)[-1] == (Status.DELIVERED, 1)
        assert statuses(down)[-1] == (Status.QUEUED, 0)
        assert sweep(59) == 0

        # half-open: one probe, still no answer: open for twice as long
        assert sweep(60) == 1
        assert statuses(down) == [(Status.QUEUED, 0)] * 3
        assert services.endpoint_breaker(down.pk).state().retry_at == start + timedelta(seconds=180)

        # the receiver is back: the next probe is delivered and closes the breaker; the rest follows
        receiver.delay_seconds = 0
        WebhookEndpoint.objects.filter(pk=down.pk).update(url=receiver.url)
        assert sweep(179) == 0
        assert sweep(180) == 1
        assert services.endpoint_breaker(down.pk).state() is None
        assert sweep(181) == 2

    assert statuses(down) == [(Status.DELIVERED, 1)] * 3
    assert len({r.headers["X-Helpdesk-Delivery"] for r in receiver.requests}) == 3


def test_a_timeout_is_requeued(endpoint, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay_seconds = 1
    emit()

    assert claim_and_send() == [Status.QUEUED]

    assert "timed out" in WebhookDelivery.objects.get().last_error


def test_too_many_attempts_end_in_failed(endpoint, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [503, 503, 503, 200]
    emit()

    statuses = []
    for attempt in range(3):
        with time_machine.travel(timezone.now() + timedelta(hours=attempt + 1)):
            statuses += claim_and_send()

    assert statuses == [Status.QUEUED, Status.QUEUED, Status.FAILED]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.response_status) == (3, 503)
    assert len(receiver.requests) == 3


def test_the_send_task_delivered_twice_posts_once(endpoint, receiver):
    emit()
    token, [delivery_id] = services.delivery_jobs.claim_due()

    assert send_webhook(delivery_id, token) == Status.DELIVERED
    assert send_webhook(delivery_id, token) is None  # the broker redelivered the same message

    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().attempts == 1


def test_an_expired_lease_is_claimed_again_and_the_stale_claim_sends_nothing(endpoint, receiver):
    emit()
    old_token, ids = services.delivery_jobs.claim_due()  # the worker that got it died
    assert services.delivery_jobs.claim_due()[1] == []  # the lease holds

    with time_machine.travel(timezone.now() + services.delivery_jobs.lease() + timedelta(seconds=1)):
        new_token, again = services.delivery_jobs.claim_due()
        assert again == ids
        assert services.delivery_send(delivery_id=ids[0], claim_token=old_token) is None
        assert services.delivery_send(delivery_id=ids[0], claim_token=new_token) == Status.DELIVERED

    assert len(receiver.requests) == 1


def test_the_sweep_enqueues_one_send_per_delivery_once_the_claim_committed(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    emit()
    emit("followup.created")

    with (
        mock.patch.object(send_webhook, "delay", side_effect=lambda pk, token: send_webhook(pk, token)) as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        assert sweep_webhooks() == 2

    assert len(callbacks) == 2 and delay.call_count == 2
    assert sorted(r.headers["X-Helpdesk-Event"] for r in receiver.requests) == ["followup.created", "survey.answered"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert sweep_webhooks() == 0


# --- admin services ---


def test_cancel_takes_queued_or_failed_to_cancelled_and_retry_requeues_failed_or_cancelled(endpoint):
    emit()
    emit()
    failed, queued = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk=failed.pk).update(status=Status.FAILED, attempts=8, last_error="HTTP 410")

    assert services.webhook_delivery_retry(delivery_id=failed.pk)
    assert not services.webhook_delivery_retry(delivery_id=queued.pk)  # only failed or cancelled ones
    assert services.webhook_delivery_cancel(delivery_id=queued.pk)

    failed.refresh_from_db()
    queued.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.QUEUED, 0, "")
    assert queued.status == Status.CANCELLED
    assert services.delivery_jobs.claim_due()[1] == [failed.pk]  # a cancelled delivery is not sent
    assert services.webhook_delivery_retry(delivery_id=queued.pk)
    assert WebhookDelivery.objects.get(pk=queued.pk).status == Status.QUEUED
