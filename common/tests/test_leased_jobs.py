"""The leased-job mechanism, through both models that use it: outbox emails and webhook deliveries.

Each test runs once per model, with the JobQueue its app configured (its done state and its settings).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone

from common.leased_jobs import JobQueue, JobStatus, JobStatusField, LeasedJob
from conftest import run_at_once
from outbox.models import OutgoingEmail
from outbox.services import email_jobs
from webhooks.events import webhook_events
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import delivery_jobs


@dataclass
class Case:
    jobs: JobQueue
    make: Callable[[], LeasedJob]
    done_fields: Callable[[], dict[str, Any]]  # what the app writes with its done state

    @property
    def model(self) -> type[LeasedJob]:
        return self.jobs.model

    def row(self, job: LeasedJob) -> LeasedJob:
        return self.model.objects.get(pk=job.pk)

    def setting(self, settings, name: str, value: int) -> None:
        setattr(settings, f"{self.jobs.settings_prefix}_{name}", value)


def make_email() -> OutgoingEmail:
    return OutgoingEmail.objects.create(to_email="ada@example.org", subject="Hi", body_text="Hello")


def make_delivery() -> WebhookDelivery:
    endpoint, _ = WebhookEndpoint.objects.get_or_create(
        name="CRM", defaults={"url": "https://crm.example.org/in", "events": list(webhook_events.keys())}
    )
    return WebhookDelivery.objects.create(endpoint=endpoint, event="survey.answered", payload={"csat": 1})


CASES = {
    "outbox": Case(email_jobs, make_email, lambda: {"sent_at": timezone.now()}),
    "webhooks": Case(delivery_jobs, make_delivery, lambda: {"delivered_at": timezone.now(), "response_status": 200}),
}


@pytest.fixture(params=list(CASES))
def case(request) -> Case:
    return CASES[request.param]


def later(delta: timedelta):
    return time_machine.travel(timezone.now() + delta, tick=False)


def claim_and_take(case: Case) -> list[LeasedJob]:
    token, ids = case.jobs.claim_due()
    return list(case.jobs.take(ids=ids, claim_token=token))


# --- the models -------------------------------------------------------------------------------------------------------


def test_a_models_states_are_the_shared_ones_plus_its_done_state(case):
    assert set(case.model.Status.values) == {*JobStatus.values, case.jobs.done}
    field = case.model._meta.get_field("status")
    assert field.choices == case.model.Status.choices
    assert field.deconstruct()[1] == "django.db.models.CharField"  # migrations see a plain CharField


def test_a_status_enum_without_the_shared_states_or_a_foreign_done_state_is_refused():
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DONE = "done", "Done"

    class Model:  # what contribute_to_class reads of a concrete model, before it registers the field
        _meta = type("Meta", (), {"abstract": False})

    Model.Status = Status  # type: ignore[attr-defined]

    with pytest.raises(ImproperlyConfigured, match=re.escape("missing ['cancelled', 'failed', 'sending']")):
        JobStatusField(max_length=10).contribute_to_class(Model, "status")
    with pytest.raises(ImproperlyConfigured, match=re.escape("not a state of OutgoingEmail.Status")):
        JobQueue(OutgoingEmail, done="delivered", settings_prefix="OUTBOX")


# --- claiming ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sweep_claims_due_rows_once_and_leaves_future_ones(case):
    due, future = case.make(), case.make()
    case.model.objects.filter(pk=future.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))

    token, first = case.jobs.claim_due()
    _, second = case.jobs.claim_due()

    assert (first, second) == ([due.pk], [])
    claimed = case.row(due)
    assert (claimed.status, claimed.claim_token) == (JobStatus.SENDING, token)
    assert claimed.lease_until >= timezone.now() + case.jobs.lease() - timedelta(seconds=5)
    assert case.row(future).status == JobStatus.QUEUED


@pytest.mark.django_db
def test_a_sweep_claims_none_of_its_candidates_that_another_sweep_claimed_first(case):
    rows = [case.make() for _ in range(3)]
    other: list[tuple[str, list[int]]] = []

    def another_sweep_runs_first(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and not other:  # our sweep has read its candidates and is about to claim them
            other.append(("", []))
            other[0] = case.jobs.claim_due()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(another_sweep_runs_first):
        _, ids = case.jobs.claim_due()

    [(other_token, other_ids)] = other
    assert ids == []
    assert other_ids == [row.pk for row in rows]
    assert {case.row(row).claim_token for row in rows} == {other_token}


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_claim_each_row_once(case):
    rows = [case.make() for _ in range(30)]
    results: list[list[int]] = []

    def sweep():
        with transaction.atomic():
            results.append(case.jobs.claim_due()[1])

    run_at_once(sweep)

    claimed = results[0] + results[1]
    assert sorted(claimed) == sorted(row.pk for row in rows)  # every row claimed, none by both sweeps


@pytest.mark.django_db
def test_an_expired_lease_is_claimed_again_under_a_new_token(case):
    row = case.make()
    first_token, ids = case.jobs.claim_due()  # the worker that got it dies
    assert case.jobs.claim_due()[1] == []  # the lease holds

    with later(case.jobs.lease() + timedelta(seconds=1)):
        second_token, again = case.jobs.claim_due()

    assert again == ids == [row.pk]
    assert second_token != first_token
    assert case.row(row).claim_token == second_token


# --- sending ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_taking_ownership_swaps_the_token_once_so_a_second_take_gets_nothing(case):
    rows = [case.make(), case.make()]
    token, ids = case.jobs.claim_due()

    taken = list(case.jobs.take(ids=ids, claim_token=token))
    again = list(case.jobs.take(ids=ids, claim_token=token))  # the same task delivered again, or a second worker

    assert [job.pk for job in taken] == [row.pk for row in rows]
    assert len({job.claim_token for job in taken}) == 1 and taken[0].claim_token != token
    assert again == []
    assert list(case.jobs.take(ids=[rows[0].pk], claim_token=token)) == []  # one id works the same


@pytest.mark.django_db
def test_complete_marks_the_row_done_with_the_apps_fields(case):
    row = case.make()
    [job] = claim_and_take(case)
    fields = case.done_fields()

    assert case.jobs.complete(job, **fields)

    done = case.row(row)
    assert (done.status, done.attempts, done.lease_until, done.claim_token, done.last_error) == (
        case.jobs.done,
        1,
        None,
        "",
        "",
    )
    assert {name: getattr(done, name) for name in fields} == fields
    assert case.jobs.claim_due()[1] == []


@pytest.mark.django_db
def test_a_stale_token_can_neither_complete_nor_fail_a_row_claimed_again(case):
    row = case.make()
    [job] = claim_and_take(case)

    with later(case.jobs.lease() + timedelta(seconds=1)):  # this send outlived its lease
        new_token, _ = case.jobs.claim_due()
        assert not case.jobs.still_ours(job)
        assert not case.jobs.complete(job, **case.done_fields())
        assert case.jobs.fail(job, error="too late", permanent=True) is None

    stale = case.row(row)
    assert (stale.status, stale.claim_token, stale.last_error) == (JobStatus.SENDING, new_token, "")
    assert stale.attempts == 2  # each claim is an attempt


@pytest.mark.django_db
def test_still_ours_renews_a_lease_under_half_left(case):
    row = case.make()
    [job] = claim_and_take(case)
    assert case.jobs.still_ours(job)  # a fresh lease: nothing to write

    with later(case.jobs.lease() * 0.6):
        assert case.jobs.still_ours(job)
        assert case.row(row).lease_until >= timezone.now() + case.jobs.lease() * 0.99
        assert case.jobs.claim_due()[1] == []  # so no sweep can claim it during this send


@pytest.mark.django_db
def test_temporary_failures_back_off_exponentially_then_fail_after_max_attempts(case, settings):
    case.setting(settings, "MAX_ATTEMPTS", 3)
    case.setting(settings, "RETRY_BASE_SECONDS", 60)
    case.setting(settings, "RETRY_MAX_SECONDS", 3600)
    row = case.make()

    statuses = []
    for attempt, backoff in enumerate([60, 120, 240], start=1):
        with later(timedelta(days=attempt)):
            [job] = claim_and_take(case)
            statuses.append(case.jobs.fail(job, error=f"busy {attempt}", permanent=False))
            failed = case.row(row)
            assert failed.next_attempt_at == timezone.now() + timedelta(seconds=backoff)
            assert case.jobs.claim_due()[1] == []  # not due before its backoff

    assert statuses == [JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.FAILED]
    assert (failed.status, failed.attempts, failed.last_error, failed.claim_token, failed.lease_until) == (
        JobStatus.FAILED,
        3,
        "busy 3",
        "",
        None,
    )
    with later(timedelta(days=30)):
        assert case.jobs.claim_due()[1] == []


@pytest.mark.django_db
def test_a_permanent_failure_fails_at_once(case):
    row = case.make()
    [job] = claim_and_take(case)

    assert case.jobs.fail(job, error="no such recipient", permanent=True) == JobStatus.FAILED

    failed = case.row(row)
    assert (failed.status, failed.attempts, failed.last_error) == (JobStatus.FAILED, 1, "no such recipient")
    with later(timedelta(days=30)):
        assert case.jobs.claim_due()[1] == []


@pytest.mark.django_db
def test_each_claim_is_an_attempt_so_a_row_claimed_n_times_without_an_outcome_is_failed(case, settings):
    case.setting(settings, "MAX_ATTEMPTS", 3)
    row = case.make()
    step = case.jobs.lease() + timedelta(seconds=1)

    for claim in range(3):  # each send dies with its worker (e.g. killed mid-send): no outcome, the lease runs out
        with later(step * claim):
            assert case.jobs.claim_due()[1] == [row.pk]
            assert case.row(row).attempts == claim + 1
    with later(step * 3):
        assert case.jobs.claim_due()[1] == []

    failed = case.row(row)
    assert (failed.status, failed.attempts, failed.claim_token, failed.lease_until) == (JobStatus.FAILED, 3, "", None)
    assert failed.last_error.startswith("No outcome after 3 attempts: each claim ended without one")


@pytest.mark.django_db
def test_a_row_past_its_expiry_is_failed_by_the_sweep_instead_of_claimed(case):
    due, expired = case.make(), case.make()
    case.model.objects.filter(pk=expired.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    case.model.objects.filter(pk=due.pk).update(expires_at=timezone.now() + timedelta(hours=3))

    with later(timedelta(hours=2)):
        assert case.jobs.claim_due()[1] == [due.pk]

    gone = case.row(expired)
    assert (gone.status, gone.attempts) == (JobStatus.FAILED, 0)
    assert gone.last_error.startswith("Expired: not sent within the maximum age of its kind")


@pytest.mark.django_db
def test_release_puts_the_rows_back_with_their_attempt_given_back(case):
    met_it, not_tried = case.make(), case.make()
    jobs = claim_and_take(case)
    assert [job.attempts for job in jobs] == [1, 1]

    assert case.jobs.release(jobs[:1], error="ConnectionRefusedError") == 1
    assert case.jobs.release(jobs[1:]) == 1
    assert case.jobs.release(jobs) == 0  # no longer this send's

    first, second = case.row(met_it), case.row(not_tried)
    assert (first.status, first.attempts, first.last_error, first.claim_token) == (
        JobStatus.QUEUED,
        0,
        "ConnectionRefusedError",
        "",
    )
    assert (second.status, second.attempts, second.last_error, second.lease_until) == (JobStatus.QUEUED, 0, "", None)
    assert second.next_attempt_at <= first.next_attempt_at  # the row that met the trouble goes behind
    assert sorted(case.jobs.claim_due()[1]) == sorted([met_it.pk, not_tried.pk])


def test_backoff_doubles_and_is_capped(case, settings):
    case.setting(settings, "RETRY_BASE_SECONDS", 60)
    case.setting(settings, "RETRY_MAX_SECONDS", 600)

    assert [case.jobs.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 9)] == [60, 120, 240, 480, 600, 600]


# --- admin ------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "retried", "cancelled"),
    [
        (JobStatus.QUEUED, False, True),
        (JobStatus.SENDING, False, False),  # being sent right now: neither
        (JobStatus.FAILED, True, True),
        (JobStatus.CANCELLED, True, False),
        ("done", False, False),
    ],
)
def test_admin_retry_and_cancel_move_only_the_rows_they_may(case, status, retried, cancelled):
    status = case.jobs.done if status == "done" else status
    row = case.make()
    past = timezone.now() - timedelta(hours=1)
    before = {"status": status, "attempts": 8, "last_error": "550", "next_attempt_at": past, "claim_token": ""}
    case.model.objects.filter(pk=row.pk).update(**before)

    assert case.jobs.retry(pk=row.pk) is retried
    after = case.row(row)
    if retried:
        assert (after.status, after.attempts, after.last_error) == (JobStatus.QUEUED, 0, "")
        assert after.next_attempt_at > past
        case.model.objects.filter(pk=row.pk).update(**before)
    else:
        assert {name: getattr(after, name) for name in before} == before

    assert case.jobs.cancel(pk=row.pk) is cancelled
    after = case.row(row)
    if cancelled:
        assert (after.status, after.claim_token, after.lease_until) == (JobStatus.CANCELLED, "", None)
        assert case.jobs.claim_due()[1] == []
    else:
        assert after.status == status
