"""Re-surveys: when a follow-up is resolved, the customer is asked once "Did we make this right?" (1–5) — if the
queue's survey policy says so — RESURVEY_DELAY_HOURS later, and never within RESURVEY_QUIET_DAYS of another survey
email to them (it waits, see surveys.selectors.throttle). Same rules as the CSAT survey: a token link valid until it
expires, a GET that records nothing, a link scanner's burst of scores not counted, opt-out and suppression, and the
outbox saying whether it was emailed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError
from outbox.kinds import EmailOutcome
from outbox.models import OutgoingEmail, Suppression
from outbox.services import email_spec_enqueue

from ..models import FollowUp, Resurvey, SurveyEmail, SurveyOptOut
from ..selectors.throttle import SurveyKind, survey_wait_until
from .policies import survey_policy_get_or_create

Status = Resurvey.Status
CLICKS_KEPT = 5


def customer_suppression_reason(customer_id: int, email: str, erased: bool) -> str:
    """Why no survey email may go to the customer ('': none); the re-survey's and the NPS survey's rule."""
    if erased:
        return "the customer's data was erased"
    if not email:
        return "the customer has no email address"
    if SurveyOptOut.objects.filter(customer_id=customer_id).exists():
        return "the customer opted out of surveys"
    if Suppression.objects.filter(email__iexact=email).exists():
        return "the customer's address bounces"
    return ""


def resurvey_schedule(*, followup: FollowUp, now: datetime) -> Resurvey | None:
    """Called in the transaction that resolves the follow-up: its one re-survey, scheduled or suppressed with the
    reason; None when the policy asks for none (or it has one already). A follow-up of an NPS answer gets none: the
    re-survey asks about a request, and the customer's next NPS survey measures the relationship again."""
    if followup.ticket_id is None or Resurvey.objects.filter(followup=followup).exists():
        return None
    policy = survey_policy_get_or_create(queue_id=followup.queue_id)
    if not (policy.enabled and policy.resurvey):
        return None
    customer = followup.customer
    reason = customer_suppression_reason(customer.pk, customer.email, customer.erased_at is not None)
    return Resurvey.objects.create(
        followup=followup,
        customer=customer,
        queue_id=followup.queue_id,
        agent_id=followup.owner_id,
        root_cause=followup.root_cause,
        status=Status.SUPPRESSED if reason else Status.SCHEDULED,
        reason=reason,
        send_after=now + timedelta(hours=settings.RESURVEY_DELAY_HOURS),
        created_at=now,
    )


def resurveys_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: due re-surveys are queued for email, or wait (the throttle), or are suppressed (opted out, bouncing
    since they were scheduled). Returns how many were queued."""
    now = now or timezone.now()
    due = list(
        Resurvey.objects.filter(status=Status.SCHEDULED, send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for resurvey_id in due:
        with transaction.atomic():
            resurvey = Resurvey.objects.select_for_update(of=("self",)).select_related("customer").get(pk=resurvey_id)
            if resurvey.status != Status.SCHEDULED:
                continue
            customer = resurvey.customer
            reason = customer_suppression_reason(customer.pk, customer.email, customer.erased_at is not None)
            if reason:
                resurvey.status, resurvey.reason = Status.SUPPRESSED, reason
                resurvey.save(update_fields=["status", "reason"])
                continue
            wait = survey_wait_until(customer_id=customer.pk, kind=SurveyKind.RESURVEY, now=now)
            if wait is not None:
                resurvey.send_after = wait
                resurvey.save(update_fields=["send_after"])
                continue
            policy = survey_policy_get_or_create(queue_id=resurvey.queue_id)
            resurvey.status, resurvey.expires_at = Status.QUEUED, now + timedelta(days=policy.expiry_days)
            resurvey.save(update_fields=["status", "expires_at"])
            email_spec_enqueue(
                kind=SurveyEmail.RESURVEY, to=customer.email, spec={"resurvey_id": resurvey.pk}, related=resurvey
            )
            queued += 1
    return queued


def resurvey_email_outcomes(outcomes: Sequence[EmailOutcome]) -> None:
    """The outbox's word on re-survey emails: sent → sent at the send time (an answer given meanwhile stays);
    failed or cancelled → not emailed, with the reason."""
    for outcome in outcomes:
        if outcome.related_id is None:
            continue
        rows = Resurvey.objects.filter(pk=outcome.related_id)
        if outcome.status == OutgoingEmail.Status.SENT:
            rows.filter(status=Status.QUEUED).update(status=Status.SENT, sent_at=outcome.at)
            rows.filter(status=Status.ANSWERED, sent_at__isnull=True).update(sent_at=outcome.at)
        else:
            rows.filter(status=Status.QUEUED).update(status=Status.NOT_EMAILED, reason=outcome.reason[:300])


def clicks_are_burst(clicks: list[list[object]], now: datetime) -> bool:
    """Several different scores among the recent clicks ([score, ISO time]): a link scanner clicking every link."""
    window = now - timedelta(seconds=settings.SURVEY_BURST_SECONDS)
    recent = {score for score, at in clicks if datetime.fromisoformat(str(at)) >= window}
    return len(recent) >= settings.SURVEY_BURST_DISTINCT_SCORES


@transaction.atomic
def resurvey_answer(*, resurvey_id: int, score: int) -> Resurvey:
    """Record (or change) the answer. Several different scores within seconds are a link scanner clicking every link:
    the answer is kept but flagged, and not counted."""
    if score not in range(1, 6):
        raise DomainError("Choose a score from 1 to 5.")
    resurvey = Resurvey.objects.select_for_update().get(pk=resurvey_id)
    if not resurvey.is_open_for_answers:
        raise DomainError("This survey is closed.")
    now = timezone.now()
    resurvey.clicks = [*resurvey.clicks, [score, now.isoformat()]][-CLICKS_KEPT:]
    resurvey.score, resurvey.answered_at, resurvey.status = score, now, Status.ANSWERED
    resurvey.flagged_automated = clicks_are_burst(resurvey.clicks, now)
    resurvey.save(update_fields=["clicks", "score", "answered_at", "status", "flagged_automated"])
    return resurvey


def resurveys_expire(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return Resurvey.objects.filter(status=Status.SENT, expires_at__lte=now).update(status=Status.EXPIRED)
