from celery import shared_task

from .erasure import customers_erase_past_retention
from .services import tickets_close_stale_pending
from .sla.alerts import sla_alerts_sweep


@shared_task
def close_stale_pending_tickets() -> int:
    """Beat: close tickets left pending longer than their queue's limit (reason: no response)."""
    return len(tickets_close_stale_pending())


@shared_task
def erase_personal_data_past_retention() -> int:
    """Beat: erase the customers whose tickets were all closed longer ago than PERSONAL_DATA_RETENTION_DAYS."""
    return customers_erase_past_retention()


@shared_task
def sweep_sla_alerts() -> int:
    """Beat: record and mail each SLA warning and breach once (tickets.sla.alerts)."""
    return sla_alerts_sweep()
