"""A customer's answer: record it (every submission kept), keep its copies, and act on it once a person confirmed it.

An answer is copied to two places that pages read without joining the responses: the invitation's answer_* fields
(feedback figures) and the ticket's TicketRating (the ticket list). `answer_copies_write` is their one writer;
`rating_queue_follow` keeps the rating's copy of the ticket's queue when the ticket moves.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError
from tickets.models import Ticket

from ..models import SurveyInvitation, SurveyPolicy, SurveyResponse, SurveyResponseChange, TicketRating
from ..rules import invitation_answer_copy, ticket_rating_copy
from .policies import survey_policy_get_or_create
from .settling import response_act_on
from .webhook_events import survey_answered_emit


def answer_copies_write(*, invitation: SurveyInvitation, response: SurveyResponse, policy: SurveyPolicy) -> None:
    """Mark the invitation answered with the copy of its response, and set the ticket's latest rating: one UPDATE of
    the invitation, one upsert of the rating. The only code that writes either copy. The ticket's rating is its
    latest round's answer: an older round's answer, changed after a later round was answered, updates its own
    invitation's copy only."""
    invitation.status = SurveyInvitation.Status.ANSWERED
    copy = invitation_answer_copy(
        csat=response.csat, ces=response.ces, comment=response.comment, flagged=response.flagged_automated
    )
    for name, value in copy.items():
        setattr(invitation, name, value)
    invitation.save(update_fields=["status", *copy])
    later_round_answered = SurveyResponse.objects.filter(
        invitation__ticket_id=invitation.ticket_id, invitation__round__gt=invitation.round
    ).exists()
    if later_round_answered:
        return
    rating = ticket_rating_copy(csat=response.csat, ces=response.ces, flagged=response.flagged_automated, policy=policy)
    rating["queue_id"] = invitation.ticket.queue_id  # the ticket's queue now (the invitation's is a snapshot)
    rating["rated_at"] = response.updated_at
    TicketRating.objects.update_or_create(ticket_id=invitation.ticket_id, defaults=rating)


def rating_queue_follow(*, ticket: Ticket) -> None:
    """The ticket moved to another queue (tickets' ticket_moved, in its transaction): its rating follows, so the
    "Poor ratings" view of the new queue shows it and the old queue's no longer does. One UPDATE (none matched for
    the many tickets without a rating)."""
    TicketRating.objects.filter(ticket_id=ticket.pk).exclude(queue_id=ticket.queue_id).update(queue_id=ticket.queue_id)


def _validate_score(value: int | None, *, low: int, high: int, name: str) -> None:
    if value is not None and not low <= value <= high:
        raise DomainError(f"{name} must be between {low} and {high}.")


def _is_burst(response: SurveyResponse, now: datetime) -> bool:
    """Several different CSAT scores within a few seconds (this one included): a link scanner clicking every link."""
    window = now - timedelta(seconds=settings.SURVEY_BURST_SECONDS)
    recent = {response.csat} if response.csat is not None else set()
    if response.pk is not None:
        recent |= {csat for csat in response.changes.filter(at__gte=window).values_list("csat", flat=True) if csat}
    return len(recent) >= settings.SURVEY_BURST_DISTINCT_SCORES


@transaction.atomic
def response_submit(
    *,
    invitation_id: int,
    via: SurveyResponse.Via,
    csat: int | None = None,
    ces: int | None = None,
    comment: str | None = None,
) -> SurveyResponse:
    """Record or update the answer (a None field keeps its previous value). Every submission is kept as a change;
    the response and the invitation are each written once."""
    _validate_score(csat, low=1, high=5, name="CSAT")
    _validate_score(ces, low=1, high=7, name="CES")
    invitation = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("ticket", "agent", "queue__business_calendar")
        .get(pk=invitation_id)
    )
    if not invitation.is_open_for_answers:
        raise DomainError("This survey is closed.")
    now = timezone.now()
    response = SurveyResponse.objects.filter(invitation=invitation).first() or SurveyResponse(
        invitation=invitation, answered_at=now
    )
    if csat is not None:
        response.csat = csat
    if ces is not None:
        response.ces = ces
    if comment is not None:
        response.comment = comment.strip()[:5000]
    if response.csat is None and response.ces is None and not response.comment:
        raise DomainError("Choose a score.")
    response.flagged_automated = _is_burst(response, now)
    response.submitted_via, response.updated_at, response.settled_at = via, now, None
    if via == SurveyResponse.Via.PERSON and (ces is not None or (comment or "").strip()):
        response.confirmed_at = now
    act_now = response.confirmed_at == now and not response.flagged_automated  # the person's own action
    if act_now:
        response.settled_at = now
    response.save()
    SurveyResponseChange.objects.create(
        response=response, csat=response.csat, ces=response.ces, comment=response.comment, via=via, at=now
    )
    policy = survey_policy_get_or_create(queue_id=invitation.queue_id)
    answer_copies_write(invitation=invitation, response=response, policy=policy)
    survey_answered_emit(invitation=invitation, response=response)  # every submission, in this transaction
    if act_now:
        response_act_on(response=response, invitation=invitation, policy=policy, now=now)
    return response
