"""The NPS relationship survey: beat schedules one for each customer with recent activity (NpsPolicy: enough tickets
closed within its activity days, the latest not in an excluded queue, none in the interval), then queues its email
inside the policy's send window and never within NPS_QUIET_DAYS_AFTER_SURVEY of another survey email (it waits, see
surveys.selectors.throttle). Same rules as the re-survey: a token link valid until it expires, a GET that records
nothing, a link scanner's burst of scores not counted, opt-out and suppression, the outbox saying whether it was
emailed. A detractor's answer (0–6) opens a follow-up owned by the queue's lead once it settles — at once when the
customer submits the page, else unchanged for the queue policy's settle time — as a poor rating does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from common.errors import DomainError
from outbox.kinds import EmailOutcome
from outbox.models import OutgoingEmail, Suppression
from outbox.services import email_spec_enqueue
from tickets.models import Customer, Ticket
from tickets.models import Status as TicketStatus

from ..models import NPS_SCORES, NpsPolicy, NpsSurvey, SurveyEmail, SurveyPolicy, SurveyResponse
from ..selectors.nps import nps_policy_current
from ..selectors.throttle import SurveyKind, survey_wait_until
from .policies import survey_policy_get_or_create
from .resurveys import CLICKS_KEPT, clicks_are_burst, customer_suppression_reason
from .settling import DEFAULT_SETTLE_MINUTES, nps_followup_open

Status = NpsSurvey.Status


def _eligible(policy: NpsPolicy, now: datetime, limit: int) -> list[tuple[int, int]]:
    """(customer, queue of their latest closed ticket) of up to `limit` customers to ask: one query."""
    closed = Ticket.objects.filter(customer_id=OuterRef("pk"), status=TicketStatus.CLOSED).order_by()
    recent = closed.filter(closed_at__gte=now - timedelta(days=policy.activity_days))
    rows = (
        Customer.objects.filter(erased_at__isnull=True, survey_opt_out__isnull=True)
        .exclude(email="")
        .annotate(
            recent_closed=Subquery(recent.values("customer_id").annotate(n=Count("pk")).values("n")[:1]),
            latest_queue=Subquery(closed.order_by("-closed_at", "-pk").values("queue_id")[:1]),
        )
        .filter(recent_closed__gte=policy.min_closed_tickets)
        .exclude(latest_queue__in=policy.excluded_queues.values("pk"))
        .exclude(Exists(_asked_since(now - timedelta(days=policy.interval_days)).filter(customer_id=OuterRef("pk"))))
        .exclude(Exists(Suppression.objects.filter(email__iexact=OuterRef("email"))))
        .order_by("pk")
        .values_list("pk", "latest_queue")
    )
    return list(rows[:limit])


def _asked_since(since: datetime) -> QuerySet[NpsSurvey]:
    return NpsSurvey.objects.filter(created_at__gt=since)


@transaction.atomic
def nps_schedule_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: schedule an NPS survey (due now; the send step applies the window and the throttle) for up to `limit`
    eligible customers. The customers are locked and the interval checked again, so two beats at once ask once."""
    now = now or timezone.now()
    policy = nps_policy_current()
    if policy is None or not policy.enabled:
        return 0
    found = dict(_eligible(policy, now, limit))
    if not found:
        return 0
    list(Customer.objects.select_for_update().filter(pk__in=found).order_by("pk").values_list("pk", flat=True))
    asked = set(
        _asked_since(now - timedelta(days=policy.interval_days))
        .filter(customer_id__in=found)
        .values_list("customer_id", flat=True)
    )
    rows = [
        NpsSurvey(customer_id=customer_id, queue_id=queue_id, send_after=now, created_at=now)
        for customer_id, queue_id in found.items()
        if customer_id not in asked
    ]
    NpsSurvey.objects.bulk_create(rows)
    return len(rows)


def _window_opens(policy: NpsPolicy, now: datetime) -> datetime | None:
    """None inside the send window (settings.TIME_ZONE); else when it next opens."""
    zone = timezone.get_default_timezone()
    local = timezone.localtime(now, zone)
    if policy.send_window_start_hour <= local.hour < policy.send_window_end_hour:
        return None
    day = local.date() if local.hour < policy.send_window_start_hour else local.date() + timedelta(days=1)
    return datetime.combine(day, time(policy.send_window_start_hour), tzinfo=zone)


def nps_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: due NPS surveys are queued for email, or are suppressed (opted out, bouncing, erased since), or wait
    (the throttle; outside the send window all of them wait for its start). NPS switched off: the scheduled ones are
    suppressed. Returns how many were queued."""
    now = now or timezone.now()
    policy = nps_policy_current()
    due = NpsSurvey.objects.filter(status=Status.SCHEDULED, send_after__lte=now)
    if policy is None or not policy.enabled:
        due.update(status=Status.SUPPRESSED, reason="the NPS survey was switched off")
        return 0
    opens = _window_opens(policy, now)
    if opens is not None:
        due.update(send_after=opens)
        return 0
    queued = 0
    for nps_id in list(due.order_by("send_after").values_list("pk", flat=True)[:limit]):
        queued += _send_one(nps_id=nps_id, policy=policy, now=now)
    return queued


@transaction.atomic
def _send_one(*, nps_id: int, policy: NpsPolicy, now: datetime) -> int:
    nps = NpsSurvey.objects.select_for_update(of=("self",)).select_related("customer").get(pk=nps_id)
    if nps.status != Status.SCHEDULED:
        return 0
    customer = nps.customer
    reason = customer_suppression_reason(customer.pk, customer.email, customer.erased_at is not None)
    if reason:
        nps.status, nps.reason = Status.SUPPRESSED, reason
        nps.save(update_fields=["status", "reason"])
        return 0
    wait = survey_wait_until(customer_id=customer.pk, kind=SurveyKind.NPS, now=now)
    if wait is not None:
        nps.send_after = wait
        nps.save(update_fields=["send_after"])
        return 0
    nps.status, nps.expires_at = Status.QUEUED, now + timedelta(days=policy.expiry_days)
    nps.save(update_fields=["status", "expires_at"])
    email_spec_enqueue(kind=SurveyEmail.NPS, to=customer.email, spec={"nps_id": nps.pk}, related=nps)
    return 1


def nps_email_outcomes(outcomes: Sequence[EmailOutcome]) -> None:
    """The outbox's word on NPS emails: sent → sent at the send time (an answer given meanwhile stays); failed or
    cancelled → not emailed, with the reason."""
    for outcome in outcomes:
        if outcome.related_id is None:
            continue
        rows = NpsSurvey.objects.filter(pk=outcome.related_id)
        if outcome.status == OutgoingEmail.Status.SENT:
            rows.filter(status=Status.QUEUED).update(status=Status.SENT, sent_at=outcome.at)
            rows.filter(status=Status.ANSWERED, sent_at__isnull=True).update(sent_at=outcome.at)
        else:
            rows.filter(status=Status.QUEUED).update(status=Status.NOT_EMAILED, reason=outcome.reason[:300])


@transaction.atomic
def nps_answer(*, nps_id: int, score: int, comment: str | None = None, via: SurveyResponse.Via) -> NpsSurvey:
    """Record (or change) the answer; a None comment keeps the one given before. Several different scores within
    seconds are a link scanner clicking every link (its script posts via=auto): kept, flagged, not counted. A
    person's own submission from the page (via=person) is theirs: it starts the clicks afresh."""
    if score not in NPS_SCORES:
        raise DomainError("Choose a score from 0 to 10.")
    nps = NpsSurvey.objects.select_for_update().get(pk=nps_id)
    if not nps.is_open_for_answers:
        raise DomainError("This survey is closed.")
    now = timezone.now()
    click = [score, now.isoformat()]
    nps.clicks = [click] if via == SurveyResponse.Via.PERSON else [*nps.clicks, click][-CLICKS_KEPT:]
    if score != nps.score:
        nps.settled_at = None  # a changed score is acted on again once it settles
    nps.score, nps.answered_at, nps.status = score, now, Status.ANSWERED
    if comment is not None:
        nps.comment = comment.strip()[:5000]
    nps.flagged_automated = clicks_are_burst(nps.clicks, now)
    nps.save(update_fields=["clicks", "score", "comment", "answered_at", "status", "flagged_automated", "settled_at"])
    if via == SurveyResponse.Via.PERSON and nps.settled_at is None:  # the customer's own submission confirms it
        _act_on(nps, now)
    return nps


def _act_on(nps: NpsSurvey, now: datetime) -> None:
    """The settled answer: a detractor's opens its follow-up (once; a link scanner's never)."""
    nps.settled_at = now
    nps.save(update_fields=["settled_at"])
    if nps.counts and nps.group == "detractor":
        nps_followup_open(nps_id=nps.pk, now=now)


def nps_answers_settle_due(*, now: datetime | None = None) -> int:
    """Beat: NPS answers unchanged for their queue's settle time are acted on (once per change)."""
    now = now or timezone.now()
    shortest = SurveyPolicy.objects.aggregate(m=Min("settle_minutes"))["m"]
    candidates = NpsSurvey.objects.filter(
        status=Status.ANSWERED,
        settled_at__isnull=True,
        answered_at__lte=now - timedelta(minutes=shortest if shortest is not None else DEFAULT_SETTLE_MINUTES),
    )
    settled = 0
    for nps_id in list(candidates.values_list("pk", flat=True)):
        with transaction.atomic():
            nps = NpsSurvey.objects.select_for_update().get(pk=nps_id)
            settle_minutes = survey_policy_get_or_create(queue_id=nps.queue_id).settle_minutes
            unchanged_since = now - timedelta(minutes=settle_minutes)
            if nps.settled_at is None and nps.answered_at is not None and nps.answered_at <= unchanged_since:
                _act_on(nps, now)
                settled += 1
    return settled


def nps_expire(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return NpsSurvey.objects.filter(status=Status.SENT, expires_at__lte=now).update(status=Status.EXPIRED)
