"""The close and reopen hooks (tickets.signals, inside the ticket's transaction): schedule one invitation per close
round, or record why none is sent; withdraw the round's survey when the ticket is reopened."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from tickets.models import Customer, Ticket

from ..models import EMAILED_STATUSES, SurveyInvitation, SurveyOptOut, SurveyPolicy
from .policies import survey_policy_get_or_create
from .sending import invitation_emails_withdraw

Reason = SurveyInvitation.SuppressionReason


def _suppression_reason(*, ticket: Ticket, policy: SurveyPolicy, now: datetime) -> str:
    if not policy.enabled or not (policy.ask_csat or policy.ask_ces):
        return Reason.POLICY_OFF
    if ticket.close_reason not in policy.close_reasons:
        return Reason.CLOSE_REASON
    if ticket.customer.erased_at is not None:
        return Reason.ERASED
    if not ticket.customer.email:
        return Reason.NO_EMAIL
    if SurveyOptOut.objects.filter(customer_id=ticket.customer_id).exists():
        return Reason.OPTED_OUT
    if policy.throttle_days and (
        SurveyInvitation.objects.filter(
            customer_id=ticket.customer_id,
            status__in=(SurveyInvitation.Status.SCHEDULED, SurveyInvitation.Status.QUEUED, *EMAILED_STATUSES),
            closed_at__gte=now - timedelta(days=policy.throttle_days),
        ).exists()
    ):
        return Reason.THROTTLED
    return ""


def invitation_schedule_for_close(*, ticket: Ticket) -> SurveyInvitation:
    """Close hook: the next round's invitation, scheduled, or suppressed with its reason. Snapshots agent and queue.

    The customer's row is locked first, so two closes of one customer's tickets at once take turns: the second sees
    the first's invitation and is throttled (FOR NO KEY UPDATE: new tickets of the customer are not held up)."""
    Customer.objects.select_for_update(no_key=True).filter(pk=ticket.customer_id).values_list("pk").get()
    now = ticket.closed_at or timezone.now()
    policy = survey_policy_get_or_create(queue_id=ticket.queue_id)
    last_round = SurveyInvitation.objects.filter(ticket=ticket).aggregate(last=Max("round"))["last"] or 0
    reason = _suppression_reason(ticket=ticket, policy=policy, now=now)
    return SurveyInvitation.objects.create(
        ticket=ticket,
        round=last_round + 1,
        customer_id=ticket.customer_id,
        agent_id=ticket.assignee_id,
        queue_id=ticket.queue_id,
        status=SurveyInvitation.Status.SUPPRESSED if reason else SurveyInvitation.Status.SCHEDULED,
        suppression_reason=reason,
        closed_at=now,
        send_after=now + timedelta(minutes=policy.delay_minutes),
    )


def invitation_cancel_unsent(*, ticket: Ticket) -> int:
    """Reopen hook: a reopened ticket is not done, so its survey is withdrawn. An invitation not emailed yet —
    scheduled, or its email still waiting in the outbox — is cancelled (that email too: it never counts as sent).
    One already emailed is closed for answers (`reopened_at`): its page says the request was reopened, it records
    nothing more and gets no reminder; a queued reminder is cancelled. Returns how many invitations it withdrew."""
    Status = SurveyInvitation.Status
    scheduled = SurveyInvitation.objects.filter(ticket=ticket, status=Status.SCHEDULED).update(status=Status.CANCELLED)
    emailed = set(
        SurveyInvitation.objects.filter(
            ticket=ticket, status__in=(Status.QUEUED, Status.SENT, Status.ANSWERED), reopened_at__isnull=True
        ).values_list("pk", flat=True)
    )
    never = invitation_emails_withdraw(invitation_ids=emailed, never_emailed={"status": Status.CANCELLED})
    SurveyInvitation.objects.filter(pk__in=emailed - never).update(reopened_at=timezone.now())
    return scheduled + len(emailed)
