import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from .imap import imap_mailbox_poll
from .models import ImapMailbox, InboundEmail
from .routing import inbound_route
from .store import route_later

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=1)  # a row still received this long after it was stored lost its routing task
SWEEP_BATCH = 500


@shared_task(acks_late=True, reject_on_worker_lost=True)
def route_inbound_email(email_id: int) -> str:
    """Route one stored email; a duplicate delivery of the task finds it routed and changes nothing."""
    return inbound_route(email_id=email_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def route_inbound_emails(email_ids: list[int]) -> list[str]:
    """Route a batch the gateway stored in one transaction, each email in its own transaction: one that raises is
    logged and left received (the beat sweep sends it again) and does not stop the others."""
    statuses = []
    for email_id in email_ids:
        try:
            statuses.append(inbound_route(email_id=email_id))
        except Exception:
            logger.exception("inbound email %s: routing raised (left for the sweep)", email_id)
            statuses.append("error")
    return statuses


@shared_task
def sweep_inbound() -> int:
    """Beat: send the routing task again for emails stored but not routed (the broker may have dropped it)."""
    cutoff = timezone.now() - SWEEP_AFTER
    ids = list(
        InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for email_id in ids:
        route_later(email_id)
    return len(ids)


@shared_task
def poll_imap_mailboxes() -> int:
    """Beat: a poll task for each enabled IMAP mailbox (one each, so a slow server holds up no other mailbox)."""
    idle = Q(polling_until__isnull=True) | Q(polling_until__lt=timezone.now())
    ids = list(ImapMailbox.objects.filter(idle, enabled=True).values_list("pk", flat=True))
    for mailbox_id in ids:
        poll_imap_mailbox.delay(mailbox_id)
    return len(ids)


@shared_task
def poll_imap_mailbox(mailbox_id: int) -> str:
    """Poll one mailbox; a second task for it while one is at work finds the lease held and does nothing."""
    return imap_mailbox_poll(mailbox_id=mailbox_id)
