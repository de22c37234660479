"""A customer's opt-out of surveys (the unsubscribe link and RFC 8058's one-click POST)."""

from __future__ import annotations

from django.db import transaction

from tickets.models import Customer

from ..models import SurveyInvitation, SurveyOptOut
from .sending import invitation_emails_withdraw

Status = SurveyInvitation.Status
OPTED_OUT = {"status": Status.SUPPRESSED, "suppression_reason": SurveyInvitation.SuppressionReason.OPTED_OUT}


@transaction.atomic
def customer_opt_out(*, customer_id: int) -> SurveyOptOut:
    """Stop surveys to this customer: scheduled invitations are suppressed, and so are those whose survey email still
    waits in the outbox (cancelled there, with any queued reminder); later closes are suppressed too. Opting out twice
    keeps the first date."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    opt_out, _ = SurveyOptOut.objects.get_or_create(customer=customer)
    SurveyInvitation.objects.filter(customer=customer, status=Status.SCHEDULED).update(**OPTED_OUT)
    emailed = SurveyInvitation.objects.filter(
        customer=customer, status__in=(Status.QUEUED, Status.SENT, Status.ANSWERED)
    )
    invitation_emails_withdraw(invitation_ids=list(emailed.values_list("pk", flat=True)), never_emailed=OPTED_OUT)
    return opt_out
