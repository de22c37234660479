from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction

from .services import heartbeat_record, outbox_claim_due, outbox_send


@shared_task
def sweep_outbox() -> int:
    """Beat, every few seconds: claim due emails (through the SMTP circuit breaker) and hand them to send tasks once
    the claim is committed."""
    heartbeat_record(name="worker")
    with transaction.atomic():
        token, ids = outbox_claim_due()
        size = settings.OUTBOX_BATCH_SIZE
        for chunk in (ids[i : i + size] for i in range(0, len(ids), size)):
            transaction.on_commit(partial(send_outgoing_emails.delay, chunk, token))
    return len(ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_outgoing_emails(email_ids: list[int], claim_token: str) -> int:
    # Retries live in the rows (attempts, next_attempt_at), not in Celery: see common.leased_jobs.
    return outbox_send(email_ids=email_ids, claim_token=claim_token)
