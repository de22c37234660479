"""The surveys app's part of erasing a customer's personal data (tickets.signals.customer_erased, sent inside the
erasure's transaction; tickets.erasure says what tickets erases).

The figures stay: every invitation with its status, dates, scores and answer copies, the ticket's rating, the
follow-ups with their status, dates and root cause, their events. Replaced by ERASED_TEXT where not empty: the
comment of the response and of each of its changes, the follow-ups' notes and outcomes and the agents' notes on
their events (contacted, resolved, unreachable), the comment in the survey.answered webhook payloads. Their survey
links are deleted and their surveys closed: scheduled ones suppressed ("erased"), emailed unanswered ones expired,
none answerable any more. The survey emails to them are cancelled if not sent yet and emptied, as are the follow-up
reminders and escalations about them (to agents, who keep their address). Their opt-out row is deleted: an erased
customer is never emailed again anyway. Their re-surveys and NPS surveys are deleted with their answers (their emails
emptied, their links revoked).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from common.erasure import ERASED_TEXT
from common.tokens import tokens_revoke
from outbox.erasure import emails_erase
from outbox.models import OutgoingEmail
from tickets.models import Customer
from webhooks.services import webhook_payloads_erase

from ..models import (
    NPS_LINK_PURPOSE,
    RESURVEY_LINK_PURPOSE,
    SURVEY_LINK_PURPOSE,
    FollowUp,
    FollowUpEvent,
    NpsSurvey,
    Resurvey,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
    SurveyResponseChange,
)
from .webhook_events import SurveyWebhookEvent

Status = SurveyInvitation.Status
# The follow-up events whose note is the agent's own text about the customer (others name agents only).
AGENT_NOTE_EVENTS = (FollowUpEvent.Kind.CONTACTED, FollowUpEvent.Kind.RESOLVED, FollowUpEvent.Kind.UNREACHABLE)


def _erase_text(rows: QuerySet[Any], *fields: str) -> None:
    for field in fields:
        rows.exclude(**{field: ""}).update(**{field: ERASED_TEXT})


def customer_survey_data_erase(*, customer: Customer, now: datetime) -> None:
    """Erase what surveys keeps of the customer (see the module); the caller holds the erasure's transaction."""
    # Locked in id order, as the senders lock them (surveys.services.sending).
    invitation_ids = list(
        SurveyInvitation.objects.select_for_update(of=("self",))
        .filter(customer=customer)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    invitations = SurveyInvitation.objects.filter(pk__in=invitation_ids)
    invitations.filter(status__in=[Status.SCHEDULED, Status.QUEUED]).update(
        status=Status.SUPPRESSED, suppression_reason=SurveyInvitation.SuppressionReason.ERASED
    )
    invitations.filter(status=Status.SENT).update(status=Status.EXPIRED)
    invitations.filter(expires_at__gt=now).update(expires_at=now)  # no answer is taken any more
    _erase_text(SurveyResponse.objects.filter(invitation_id__in=invitation_ids), "comment")
    _erase_text(SurveyResponseChange.objects.filter(response__invitation_id__in=invitation_ids), "comment")
    followup_ids = list(FollowUp.objects.filter(customer=customer).values_list("pk", flat=True))  # NPS ones too
    _erase_text(FollowUp.objects.filter(pk__in=followup_ids), "note", "outcome")
    _erase_text(FollowUpEvent.objects.filter(followup_id__in=followup_ids, kind__in=AGENT_NOTE_EVENTS), "note")
    webhook_payloads_erase(
        event=SurveyWebhookEvent.SURVEY_ANSWERED, key="invitation_id", values=invitation_ids, fields=["comment"]
    )
    SurveyOptOut.objects.filter(customer=customer).delete()
    tokens_revoke(purpose=SURVEY_LINK_PURPOSE, target_ids=invitation_ids)
    emails_erase(emails=_emails_of(SurveyInvitation, invitation_ids), to=customer.email)
    emails_erase(emails=_emails_of(FollowUp, followup_ids), to=None)
    resurvey_ids = list(Resurvey.objects.filter(customer=customer).values_list("pk", flat=True))
    emails_erase(emails=_emails_of(Resurvey, resurvey_ids), to=customer.email)
    tokens_revoke(purpose=RESURVEY_LINK_PURPOSE, target_ids=resurvey_ids)
    Resurvey.objects.filter(pk__in=resurvey_ids).delete()  # their answers go with them (the recovery rate too)
    nps_ids = list(NpsSurvey.objects.filter(customer=customer).values_list("pk", flat=True))
    emails_erase(emails=_emails_of(NpsSurvey, nps_ids), to=customer.email)
    tokens_revoke(purpose=NPS_LINK_PURPOSE, target_ids=nps_ids)
    NpsSurvey.objects.filter(pk__in=nps_ids).delete()  # the score and the "why?" go with them (the NPS figure too)


def _emails_of(
    model: type[SurveyInvitation] | type[FollowUp] | type[Resurvey] | type[NpsSurvey], ids: list[int]
) -> QuerySet[OutgoingEmail]:
    return OutgoingEmail.objects.filter(related_type=ContentType.objects.get_for_model(model), related_id__in=ids)
