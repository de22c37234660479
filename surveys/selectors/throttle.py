"""One throttle for every survey a customer can get: when a survey email may go to a customer, given the others
(the table in the README, "One throttle for every survey"). Each survey keeps its own rules too (the CSAT policy's
throttle days, one re-survey per follow-up, one NPS survey per interval); this decides only how the surveys wait for
each other."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import Count, Max, Q

from ..models import NpsSurvey, Resurvey, SurveyInvitation

RESURVEY_QUIET = timedelta(days=2)  # a re-survey never goes within 2 days after another survey email to the customer


class SurveyKind(StrEnum):
    CSAT = "csat"  # the CSAT/CES survey of a closed ticket
    RESURVEY = "resurvey"  # "Did we make this right?" after a resolved follow-up
    NPS = "nps"  # the relationship survey of a customer with recent activity


# The rows of each kind's emails: every one has the customer, the statuses queued/sent and sent_at.
_EMAILS: dict[SurveyKind, type[SurveyInvitation] | type[Resurvey] | type[NpsSurvey]] = {
    SurveyKind.CSAT: SurveyInvitation,
    SurveyKind.RESURVEY: Resurvey,
    SurveyKind.NPS: NpsSurvey,
}


def _quiet(kind: SurveyKind) -> tuple[timedelta, tuple[SurveyKind, ...]]:
    """How long the survey waits after which other surveys' emails."""
    if kind == SurveyKind.RESURVEY:
        return RESURVEY_QUIET, (SurveyKind.CSAT, SurveyKind.RESURVEY, SurveyKind.NPS)
    return timedelta(days=settings.NPS_QUIET_DAYS_AFTER_SURVEY), (SurveyKind.CSAT, SurveyKind.RESURVEY)


def _last_survey_email(
    *, customer_id: int, kinds: tuple[SurveyKind, ...], since: datetime, now: datetime
) -> datetime | None:
    """The newest email of these surveys to the customer since `since` (one waiting in the outbox counts as sent
    now); one query per kind."""
    newest = []
    for kind in kinds:
        model = _EMAILS[kind]
        row = model.objects.filter(customer_id=customer_id).aggregate(
            queued=Count("pk", filter=Q(status=model.Status.QUEUED)), at=Max("sent_at", filter=Q(sent_at__gt=since))
        )
        if row["queued"]:
            return now
        newest.append(row["at"])
    return max((at for at in newest if at is not None), default=None)


def survey_wait_until(*, customer_id: int, kind: SurveyKind, now: datetime) -> datetime | None:
    """None: the survey may go now; else the time it waits until (it is never dropped for another survey).

    - CSAT/CES: always goes when its own policy allows (a due re-survey or NPS survey never holds it back).
    - re-survey: exempt from the CSAT throttle, but not within RESURVEY_QUIET after any other survey email (NPS too).
    - NPS: not within NPS_QUIET_DAYS_AFTER_SURVEY after a CSAT or re-survey email (its own interval spaces the NPS
      surveys themselves).
    """
    if kind == SurveyKind.CSAT:
        return None
    quiet, kinds = _quiet(kind)
    last = _last_survey_email(customer_id=customer_id, kinds=kinds, since=now - quiet, now=now)
    return last + quiet if last is not None else None
