from functools import partial

from celery import shared_task
from django.db import transaction

from .services import deliveries_claim_due, delivery_send


@shared_task
def sweep_webhooks() -> int:
    """Beat, every few seconds: claim due deliveries (through each endpoint's circuit breaker) and hand each to a
    send task once the claim is committed."""
    with transaction.atomic():
        claims = deliveries_claim_due()
        for token, ids in claims:
            for delivery_id in ids:
                transaction.on_commit(partial(send_webhook.delay, delivery_id, token))
    return sum(len(ids) for _, ids in claims)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_webhook(delivery_id: int, claim_token: str) -> str | None:
    # Retries live in the row (attempts, next_attempt_at), not in Celery: see common.leased_jobs.
    return delivery_send(delivery_id=delivery_id, claim_token=claim_token)
