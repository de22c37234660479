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

from ..models import FollowUp, FollowUpEvent, NpsSurvey, SurveyInvitation, SurveyPolicy, SurveyResponse
from ..rules import answer_is_poor
from .policies import survey_policy_get_or_create
from .webhook_events import followup_created_emit

DEFAULT_SETTLE_MINUTES = SurveyPolicy._meta.get_field("settle_minutes").get_default()


def _queue_lead_id(queue_id: int) -> int | None:
    """The queue's first active lead, if it has one."""
    return (
        QueueMembership.objects.filter(queue_id=queue_id, role=QueueMembership.Role.LEAD, user__is_active=True)
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )


def followup_owner_id(*, invitation: SurveyInvitation, policy: SurveyPolicy) -> int | None:
    """The snapshot agent (or the queue lead when the policy says so); no agent → the lead; no lead → unassigned."""
    lead_id = _queue_lead_id(invitation.queue_id)
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
    followup = _followup_save(
        FollowUp(
            invitation=invitation,
            ticket_id=invitation.ticket_id,
            customer_id=invitation.customer_id,
            queue=invitation.queue,
            owner_id=followup_owner_id(invitation=invitation, policy=policy),
            reason=reason,
        ),
        policy=policy,
        now=now,
    )
    followup_created_emit(followup=followup, response=response)
    return followup


def _followup_save(followup: FollowUp, *, policy: SurveyPolicy, now: datetime) -> FollowUp:
    """Store a new follow-up, due the policy's business hours from now, with its "opened" event."""
    followup.created_at = now
    followup.due_at = add_business_seconds(
        now, policy.followup_due_business_hours * 3600, followup.queue.business_calendar
    )
    followup.save(force_insert=True)
    FollowUpEvent.objects.create(followup=followup, kind=FollowUpEvent.Kind.OPENED, note=followup.reason, at=now)
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


@transaction.atomic
def nps_followup_open(*, nps_id: int, reason: str = "", now: datetime | None = None) -> FollowUp | None:
    """Open the NPS answer's follow-up, owned by its queue's lead (no active lead: unassigned, the team's): a
    detractor's when the answer settles (reason blank), or a passive's whose reason reads negative (an app above
    surveys, giving the reason). At most one per answer; None when it has one, or the answer is not counted (a link
    scanner's, or none)."""
    now = now or timezone.now()
    nps = NpsSurvey.objects.select_for_update(of=("self",)).select_related("queue__business_calendar").get(pk=nps_id)
    if not nps.counts or FollowUp.objects.filter(nps_survey=nps).exists():
        return None
    followup = _followup_save(
        FollowUp(
            nps_survey=nps,
            customer_id=nps.customer_id,
            queue=nps.queue,
            owner_id=_queue_lead_id(nps.queue_id),
            reason=reason[:200],
        ),
        policy=survey_policy_get_or_create(queue_id=nps.queue_id),
        now=now,
    )
    followup_created_emit(followup=followup, nps=nps)
    return followup


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
