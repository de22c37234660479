"""Circuit breakers (common.breakers) and the claims made through them (JobQueue.claim_through)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from common.breakers import Breaker, GateState
from common.leased_jobs import JobStatus
from common.models import CircuitBreaker
from outbox.models import OutgoingEmail
from outbox.services import email_jobs

pytestmark = pytest.mark.django_db
breaker = Breaker("smtp", settings_prefix="OUTBOX")


@pytest.fixture(autouse=True)
def _backoff(settings):
    settings.OUTBOX_BREAKER_BASE_SECONDS, settings.OUTBOX_BREAKER_MAX_SECONDS = 30, 100
    settings.OUTBOX_LEASE_SECONDS = 300


def make_email(**fields) -> OutgoingEmail:
    return OutgoingEmail.objects.create(to_email="ada@example.org", subject="Hi", body_text="Hello", **fields)


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_a_breaker_never_tripped_is_closed_and_lets_every_claim_through():
    emails = [make_email(), make_email()]

    assert breaker.gate().state is GateState.CLOSED
    assert breaker.state() is None
    assert email_jobs.claim_through(breaker)[1] == [e.pk for e in emails]
    assert not breaker.blocks(claim_token="any")


def test_a_trip_opens_it_and_while_open_nothing_is_claimed_but_expired_rows_still_fail():
    start = timezone.now()
    waiting = make_email()
    expired = make_email(expires_at=start + timedelta(seconds=10))

    with at(start):
        breaker.trip(error="ConnectionRefusedError", claim_token="t1")
    with at(start + timedelta(seconds=20)):
        assert breaker.gate().state is GateState.OPEN
        assert email_jobs.claim_through(breaker)[1] == []

    row = breaker.state()
    assert (row.failures, row.opened_at, row.retry_at, row.last_error) == (
        1,
        start,
        start + timedelta(seconds=30),
        "ConnectionRefusedError",
    )
    assert OutgoingEmail.objects.get(pk=waiting.pk).status == JobStatus.QUEUED
    assert OutgoingEmail.objects.get(pk=expired.pk).status == JobStatus.FAILED
    assert breaker.blocks(claim_token="t1")


def test_half_open_lets_one_probe_through_and_a_failed_probe_doubles_the_wait_up_to_the_cap():
    start = timezone.now()
    emails = [make_email(), make_email()]
    with at(start):
        breaker.trip(error="535", claim_token="t1")

    waits = []
    moment = start + timedelta(seconds=30)
    for _ in range(3):
        with at(moment):
            token, ids = email_jobs.claim_through(breaker)
            assert len(ids) == 1  # the probe
            assert email_jobs.claim_through(breaker)[1] == []  # a second sweep meanwhile gets nothing
            assert not breaker.blocks(claim_token=token) and breaker.blocks(claim_token="another")
            [probe] = email_jobs.take(ids=ids, claim_token=token)
            breaker.trip(error="535", claim_token=token)
            email_jobs.release([probe], error="535")
            retry_at = breaker.state().retry_at
            waits.append((retry_at - moment).total_seconds())
            moment = retry_at

    assert waits == [60, 100, 100]  # 30 → 60 → 120, capped at 100
    assert breaker.state().opened_at == start  # since when, across the failed probes
    assert [OutgoingEmail.objects.get(pk=e.pk).attempts for e in emails] == [0, 0]


def test_a_trip_reported_by_a_send_that_is_not_the_probe_changes_no_timing():
    start = timezone.now()
    with at(start):
        breaker.trip(error="timed out", claim_token="batch-1")
        breaker.trip(error="refused", claim_token="batch-2")  # a batch claimed before the breaker opened

    row = breaker.state()
    assert (row.failures, row.retry_at, row.last_error) == (1, start + timedelta(seconds=30), "refused")


def test_the_first_success_closes_it():
    make_email()
    breaker.trip(error="refused", claim_token="t1")

    assert breaker.close()
    assert not breaker.close()  # nothing to write when closed

    assert breaker.state() is None
    assert CircuitBreaker.objects.get(name="smtp").failures == 0
    assert len(email_jobs.claim_through(breaker)[1]) == 1


def test_a_probe_with_nothing_to_claim_or_lost_with_its_worker_lets_another_through():
    start = timezone.now()
    with at(start):
        breaker.trip(error="refused", claim_token="t1")

    with at(start + timedelta(seconds=30)):
        assert email_jobs.claim_through(breaker)[1] == []  # the queue is empty: the probe is given back
        email = make_email()
        assert email_jobs.claim_through(breaker)[1] == [email.pk]  # its worker dies: no outcome
    with at(start + timedelta(seconds=30 + 299)):
        assert email_jobs.claim_through(breaker)[1] == []
    with at(start + timedelta(seconds=30 + 301)):  # the probe's lease ran out: another probe, the same row
        assert email_jobs.claim_through(breaker)[1] == [email.pk]
    assert OutgoingEmail.objects.get(pk=email.pk).attempts == 2
