"""A real Celery worker process consumes tasks over Redis and writes to the shared test database."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tickets import services
from tickets.models import CloseReason, Status, Ticket
from tickets.tasks import close_stale_pending_tickets

pytestmark = pytest.mark.integration


def wait_for(predicate, *, timeout: float = 30.0, worker=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("timed out" + (f"; worker log:\n{worker.output()}" if worker else ""))
        time.sleep(0.2)


def test_worker_consumes_a_task_over_redis_and_closes_stale_tickets(celery_worker_process, queue, customer):
    # given a ticket pending for longer than the queue's limit
    ticket = services.ticket_create(queue=queue, customer=customer, subject="Hello", body="Hi", by=None)
    services.ticket_set_status(ticket_id=ticket.pk, status=Status.PENDING, by=None)
    Ticket.objects.filter(pk=ticket.pk).update(status_changed_at=timezone.now() - timedelta(days=8))

    # when the task goes through the broker to the worker process
    close_stale_pending_tickets.delay()

    # then the worker closed it in the shared database
    wait_for(lambda: Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED, worker=celery_worker_process)
    assert Ticket.objects.get(pk=ticket.pk).close_reason == CloseReason.NO_RESPONSE
    assert "close_stale_pending_tickets" in celery_worker_process.output()
