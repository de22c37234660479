"""A real worker process on Redis + Postgres delivers a webhook to a real HTTP server, once."""

import pytest

from conftest import wait_until
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import delivery_jobs, webhook_event_emit
from webhooks.tasks import send_webhook, sweep_webhooks

pytestmark = pytest.mark.integration


def test_the_sweep_hands_a_delivery_to_a_worker_that_posts_it_once(celery_worker_process, receiver):
    # given an endpoint, a 503 on the first try, and an event committed by the desk
    receiver.statuses = [503]
    WebhookEndpoint.objects.create(name="CRM", url=receiver.url, events=["followup.created"])
    assert webhook_event_emit(event="followup.created", payload={"followup_id": 1}) == 1
    delivery = WebhookDelivery.objects.get()

    # when beat's sweep runs, the worker POSTs it; the 503 puts it back in the queue with a backoff
    assert sweep_webhooks() == 1
    wait_until(lambda: WebhookDelivery.objects.get().response_status == 503, timeout=30, what="the first attempt")
    first = WebhookDelivery.objects.get()
    assert (first.status, first.attempts) == (WebhookDelivery.Status.QUEUED, 1)

    # then, once due again, the next sweep delivers it
    WebhookDelivery.objects.update(next_attempt_at=delivery.created_at)
    token, ids = delivery_jobs.claim_due()
    send_webhook.delay(ids[0], token)
    wait_until(lambda: WebhookDelivery.objects.get().status == "delivered", timeout=30, what="the delivery")

    # and the same task redelivered by the broker POSTs nothing more
    send_webhook.delay(ids[0], token)
    wait_until(lambda: celery_worker_process.output().count("succeeded") == 3, timeout=30, what="the redelivery")
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["X-Helpdesk-Delivery"] == str(delivery.event_id)
    assert WebhookDelivery.objects.get().attempts == 2
