"""Every write of the customers app: the VIP flag, set and cleared from a ticket page, and its erasure."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from common.errors import DomainError
from tickets.models import Customer
from tickets.selectors import tickets_visible_to
from tickets.services import ticket_event_record

from .models import Vip

VIP_SET = "vip_set"
VIP_CLEARED = "vip_cleared"


@transaction.atomic
def customer_vip_set(*, ticket_id: int, vip: bool, by: User) -> bool:
    """Mark the customer of the ticket VIP (vip=True) or clear the flag, recording a ticket event on that ticket.
    The agent must see the ticket (else PermissionDenied). Idempotent: True if it changed, False if it already was so
    (then nothing is written). The customer row is locked, so two agents' clicks give one row and one event."""
    ticket = tickets_visible_to(by).filter(pk=ticket_id).first()
    if ticket is None:
        raise PermissionDenied("You cannot see this ticket.")
    customer = Customer.objects.select_for_update().get(pk=ticket.customer_id)
    if vip and customer.erased_at is not None:
        raise DomainError("An erased customer cannot be marked VIP.")
    if Vip.objects.filter(customer=customer).exists() == vip:
        return False
    if vip:
        Vip.objects.create(customer=customer, set_by=by)
    else:
        Vip.objects.filter(customer=customer).delete()
    ticket_event_record(ticket=ticket, kind=VIP_SET if vip else VIP_CLEARED, actor=by)
    return True


def customer_vip_erase(*, customer: Customer) -> None:
    """In the erasure's transaction (tickets.signals.customer_erased): the flag goes with the personal data."""
    Vip.objects.filter(customer=customer).delete()
