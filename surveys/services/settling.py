"""Acting on a settled answer: a poor one opens the invitation's single recovery follow-up; a better one marks it
improved. An answer settles when a person confirms it (answers CES or comments: at once) or stays unchanged for the
policy's settle time (beat), so a link scanner's clicks never open a follow-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from tickets.calendar import add_business_seconds
from tickets.models import QueueMembership

from ..models import FollowUp, FollowUpEvent, SurveyInvitation, SurveyPolicy, SurveyResponse
from ..rules import answer_is_poor
from .policies import survey_policy_get_or_create
from .webhook_events import followup_created_emit

DEFAULT_SETTLE_MINUTES = SurveyPolicy._meta.get_field("settle_minutes").get_default()


def followup_owner_id(*, invitation: SurveyInvitation, policy: SurveyPolicy) -> int | None:
    """The snapshot agent (or the queue lead when the policy says so); no agent → the lead; no lead → unassigned."""
    lead_id = (
        QueueMembership.objects.filter(
            queue_id=invitation.queue_id, role=QueueMembership.Role.LEAD, user__is_active=True
        )
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )
    agent_active = invitation.agent is not None and invitation.agent.is_active
    if policy.followup_owner == SurveyPolicy.FollowUpOwner.AGENT and agent_active:
        return invitation.agent_id
    return lead_id or (invitation.agent_id if agent_active else None)


def response_act_on(
    *, response: SurveyResponse, invitation: SurveyInvitation, policy: SurveyPolicy, now: datetime
) -> FollowUp | None:
    """Act on the settled answer (the caller has set response.settled_at): open the follow-up of a poor answer once,
    or record that the rating improved. A link scanner's burst is never acted on."""
    if response.flagged_automated:
        return None
    followup = FollowUp.objects.filter(invitation=invitation).first()
    poor = answer_is_poor(csat=response.csat, ces=response.ces, policy=policy)
    if followup is None and poor:
        return _followup_create(response=response, invitation=invitation, policy=policy, now=now)
    if followup is not None and not followup.reason:  # one opened for another reason is not "improved" by a score
        improved_at = None if poor else (followup.rating_improved_at or now)
        if improved_at != followup.rating_improved_at:
            followup.rating_improved_at = improved_at
            followup.save(update_fields=["rating_improved_at"])
    return followup


def _followup_create(
    *, response: SurveyResponse, invitation: SurveyInvitation, policy: SurveyPolicy, now: datetime, reason: str = ""
) -> FollowUp:
    followup = FollowUp.objects.create(
        invitation=invitation,
        ticket_id=invitation.ticket_id,
        queue_id=invitation.queue_id,
        owner_id=followup_owner_id(invitation=invitation, policy=policy),
        due_at=add_business_seconds(now, policy.followup_due_business_hours * 3600, invitation.queue.business_calendar),
        created_at=now,
        reason=reason,
    )
    FollowUpEvent.objects.create(followup=followup, kind=FollowUpEvent.Kind.OPENED, note=reason, at=now)
    followup_created_emit(followup=followup, response=response)
    return followup


@transaction.atomic
def followup_open(*, response_id: int, reason: str, now: datetime | None = None) -> FollowUp | None:
    """Open the response's recovery follow-up for a reason other than a poor score (an app above surveys: a negative
    comment beside a good score), with the reason shown on it. At most one per invitation, whatever the reason and
    however often it is asked: None when it already has one, or the answer is a link scanner's."""
    now = now or timezone.now()
    invitation_id = SurveyResponse.objects.values_list("invitation_id", flat=True).get(pk=response_id)
    invitation = (  # the invitation first, then its response: response_submit's order, so the two never deadlock
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("agent", "queue__business_calendar")
        .get(pk=invitation_id)
    )
    response = SurveyResponse.objects.select_for_update().get(pk=response_id)
    if response.flagged_automated or FollowUp.objects.filter(invitation=invitation).exists():
        return None
    policy = survey_policy_get_or_create(queue_id=invitation.queue_id)
    return _followup_create(response=response, invitation=invitation, policy=policy, now=now, reason=reason[:200])


def responses_settle_due(*, now: datetime | None = None) -> int:
    """Beat: responses unchanged for their policy's settle time are acted on (once per change)."""
    now = now or timezone.now()
    shortest = SurveyPolicy.objects.aggregate(m=Min("settle_minutes"))["m"]
    candidates = SurveyResponse.objects.filter(
        settled_at__isnull=True,
        updated_at__lte=now - timedelta(minutes=shortest if shortest is not None else DEFAULT_SETTLE_MINUTES),
    )
    settled = 0
    for response_id, invitation_id in candidates.values_list("pk", "invitation_id"):
        with transaction.atomic():
            # The invitation first, then its response: response_submit's order, so the two never deadlock.
            invitation = (
                SurveyInvitation.objects.select_for_update(of=("self",))
                .select_related("agent", "queue__business_calendar")
                .get(pk=invitation_id)
            )
            response = SurveyResponse.objects.select_for_update().get(pk=response_id)
            response.invitation = invitation
            policy = survey_policy_get_or_create(queue_id=invitation.queue_id)
            if response.settled_at is None and response.updated_at <= now - timedelta(minutes=policy.settle_minutes):
                response.settled_at = now
                response.save(update_fields=["settled_at"])
                response_act_on(response=response, invitation=invitation, policy=policy, now=now)
                settled += 1
    return settled
