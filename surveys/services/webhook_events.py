"""The surveys app's outgoing webhook events (webhooks/): payloads built here, queued in the caller's transaction.

`survey.answered` is emitted on every submission, so a changed answer emits again with the same `invitation_id`
(and a new delivery id): receivers keep the latest by `updated_at`. `followup.created` is emitted once per
follow-up: of a ticket's rating, or of a customer's NPS answer (no ticket).
"""

from __future__ import annotations

from enum import StrEnum

from tickets.models import format_reference
from webhooks.services import webhook_event_emit

from ..models import FollowUp, NpsSurvey, SurveyInvitation, SurveyResponse


class SurveyWebhookEvent(StrEnum):
    """surveys' webhook events (registered in SurveysConfig.ready)."""

    SURVEY_ANSWERED = "survey.answered"
    FOLLOWUP_CREATED = "followup.created"


def survey_answered_emit(*, invitation: SurveyInvitation, response: SurveyResponse) -> int:
    return webhook_event_emit(
        event=SurveyWebhookEvent.SURVEY_ANSWERED,
        payload={
            "invitation_id": invitation.pk,
            "round": invitation.round,
            "ticket_id": invitation.ticket_id,
            "ticket_reference": format_reference(invitation.ticket_id),
            "queue_id": invitation.queue_id,
            "agent_id": invitation.agent_id,
            "csat": response.csat,
            "ces": response.ces,
            "comment": response.comment,
            "answered_at": response.answered_at.isoformat(),
            "updated_at": response.updated_at.isoformat(),
            "submitted_via": response.submitted_via,
            "flagged_automated": response.flagged_automated,
        },
    )


def followup_created_emit(
    *, followup: FollowUp, response: SurveyResponse | None = None, nps: NpsSurvey | None = None
) -> int:
    """A rating's follow-up carries its ticket and scores; an NPS answer's has no ticket (ticket_id, invitation_id
    and ticket_reference null) and carries the NPS survey and score."""
    return webhook_event_emit(
        event=SurveyWebhookEvent.FOLLOWUP_CREATED,
        payload={
            "followup_id": followup.pk,
            "invitation_id": followup.invitation_id,
            "ticket_id": followup.ticket_id,
            "ticket_reference": format_reference(followup.ticket_id) if followup.ticket_id else None,
            "customer_id": followup.customer_id,
            "nps_survey_id": nps.pk if nps else None,
            "queue_id": followup.queue_id,
            "owner_id": followup.owner_id,
            "status": followup.status,
            "due_at": followup.due_at.isoformat(),
            "created_at": followup.created_at.isoformat(),
            "csat": response.csat if response else None,
            "ces": response.ces if response else None,
            "nps_score": nps.score if nps else None,  # not the reason: it may be sentiment's, which is internal
        },
    )
