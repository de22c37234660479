"""A customer's opt-out of surveys (the unsubscribe link and RFC 8058's one-click POST)."""

from __future__ import annotations

from django.db import transaction

from tickets.models import Customer

from ..models import SurveyInvitation, SurveyOptOut


@transaction.atomic
def customer_opt_out(*, customer_id: int) -> SurveyOptOut:
    """Stop surveys to this customer: scheduled invitations are suppressed, later closes are suppressed too.
    Opting out twice keeps the first date."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    opt_out, created = SurveyOptOut.objects.get_or_create(customer=customer)
    if created:
        SurveyInvitation.objects.filter(customer=customer, status=SurveyInvitation.Status.SCHEDULED).update(
            status=SurveyInvitation.Status.SUPPRESSED, suppression_reason=SurveyInvitation.SuppressionReason.OPTED_OUT
        )
    return opt_out
