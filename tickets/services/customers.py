"""Correcting a customer's address: a lead of the ticket's queue (or an admin) fixes a typo or an address that
bounces. The old address stays in the ticket's history (a customer_email event), and the customer gets the ticket's
conversation link again at the new address (its confirmation email: links are minted when an email is sent)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction

from common.errors import DomainError

from ..models import Customer, QueueMembership, TicketEvent
from ..notifications import request_confirmation_enqueue
from .core import ticket_lock


@transaction.atomic
def customer_email_correct(*, ticket_id: int, email: str, by: User) -> Customer:
    ticket = ticket_lock(ticket_id)
    is_lead = QueueMembership.objects.filter(
        queue_id=ticket.queue_id, user_id=by.pk, role=QueueMembership.Role.LEAD
    ).exists()
    if not (by.is_active and (by.is_superuser or is_lead)):
        raise PermissionDenied("Only a lead of the ticket's queue can correct the customer's address.")
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError("Enter a valid email address.") from None
    customer = Customer.objects.select_for_update().get(pk=ticket.customer_id)
    if customer.erased_at is not None:
        raise DomainError("This customer's personal data was erased.")
    old = customer.email
    if old.lower() == email.lower():
        raise DomainError("That is the customer's address already.")
    if Customer.objects.filter(email__iexact=email).exclude(pk=customer.pk).exists():
        raise DomainError("Another customer has this address: their tickets stay theirs (no merge).")
    customer.email = email
    customer.save(update_fields=["email"])
    TicketEvent.objects.create(
        ticket=ticket, actor=by, kind=TicketEvent.Kind.CUSTOMER_EMAIL, old_value=old[:200], new_value=email[:200]
    )
    ticket.customer = customer
    request_confirmation_enqueue(ticket=ticket)  # the conversation link, at the new address
    return customer
