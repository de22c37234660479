"""One throttle for every survey a customer can get: when a survey email may go to a customer, given the others
(the table in the README, "One throttle for every survey"). Each survey keeps its own rules too (the CSAT policy's
throttle days, one re-survey per follow-up); this decides only how the surveys wait for each other."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Max

from ..models import Resurvey, SurveyInvitation

RESURVEY_QUIET = timedelta(days=2)  # a re-survey never goes within 2 days after another survey email to the customer


class SurveyKind(StrEnum):
    CSAT = "csat"  # the CSAT/CES survey of a closed ticket
    RESURVEY = "resurvey"  # "Did we make this right?" after a resolved follow-up


def _last_survey_email(*, customer_id: int, since: datetime, now: datetime) -> datetime | None:
    """The newest survey email to the customer since `since` (CSAT surveys and re-surveys; one waiting in the outbox
    counts as sent now)."""
    if SurveyInvitation.objects.filter(customer_id=customer_id, status=SurveyInvitation.Status.QUEUED).exists():
        return now
    if Resurvey.objects.filter(customer_id=customer_id, status=Resurvey.Status.QUEUED).exists():
        return now
    newest = [
        SurveyInvitation.objects.filter(customer_id=customer_id, sent_at__gt=since).aggregate(at=Max("sent_at"))["at"],
        Resurvey.objects.filter(customer_id=customer_id, sent_at__gt=since).aggregate(at=Max("sent_at"))["at"],
    ]
    return max((at for at in newest if at is not None), default=None)


def survey_wait_until(*, customer_id: int, kind: SurveyKind, now: datetime) -> datetime | None:
    """None: the survey may go now; else the time it waits until (it is never dropped for another survey).

    - CSAT/CES: always goes when its own policy allows (a due re-survey never holds it back).
    - re-survey: exempt from the CSAT throttle, but not within RESURVEY_QUIET after any other survey email.
    """
    if kind == SurveyKind.CSAT:
        return None
    last = _last_survey_email(customer_id=customer_id, since=now - RESURVEY_QUIET, now=now)
    return last + RESURVEY_QUIET if last is not None else None
