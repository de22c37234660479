from celery import shared_task

from .services import tickets_close_stale_pending


@shared_task
def close_stale_pending_tickets() -> int:
    """Beat: close tickets left pending longer than their queue's limit (reason: no response)."""
    return len(tickets_close_stale_pending())
