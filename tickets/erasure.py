"""Erasing a customer's personal data: an admin's action (CustomerAdmin) or the retention beat. Services like those of
tickets.services: keyword-only, atomic, row-locked.

The tickets stay, and every figure with them (statuses, events, metrics, counts; other apps' figures too); what
identifies the person, or is free text by or about them, is replaced:
- the customer: the name emptied, the email replaced by a placeholder unique per customer (`erased_email`), erased_at
  set; such a customer gets no new ticket, message or email;
- each of their tickets: the subject, and the body of every message on it — the customer's own, and the agents'
  replies and internal notes too, which greet, quote and discuss the person (the rows stay: author, kind, time);
- the emails to them about their tickets (confirmations, reply notifications): cancelled if not sent yet, subject,
  bodies and headers replaced, the recipient replaced by the placeholder;
- the addresses copied on their tickets (TicketCC) are deleted, and the events that name them emptied;
- their conversation links are deleted (the old link answers the invalid-link page), and the admin's history shows
  ERASED_TEXT instead of the customer's or the tickets' names.
Each ticket gets an "erased" TicketEvent. Then `tickets.signals.customer_erased` is sent in the same transaction, for
other apps to erase their own data of the customer (surveys: comments, follow-up notes, opt-out, survey links).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from common.erasure import ERASED_TEXT
from common.errors import DomainError
from common.tokens import tokens_revoke
from outbox.erasure import emails_erase
from outbox.models import OutgoingEmail

from .models import CONVERSATION_LINK_PURPOSE, OPEN_STATUSES, Customer, Message, Ticket, TicketCC, TicketEvent
from .signals import customer_erased


def erased_email(customer_id: int) -> str:
    """The placeholder address of an erased customer: unique per customer, never deliverable (.invalid, RFC 2606)."""
    return f"erased-{customer_id}@erased.invalid"


def _related(model: type[Ticket] | type[Message], ids: list[int]) -> Q:
    return Q(related_type=ContentType.objects.get_for_model(model), related_id__in=ids)


@transaction.atomic
def customer_erase(*, customer_id: int, by: User | None, inactive_since: datetime | None = None) -> bool:
    """Erase the customer's personal data (see the module). Admins only (`by`; None is the system). Refused
    (DomainError) while one of their tickets is open. With `inactive_since` (the retention beat) only a customer
    with no ticket open or closed after it is erased. False, and nothing changed, when there is nothing to do."""
    if by is not None and not by.is_superuser:
        raise PermissionDenied("Only admins can erase a customer's personal data.")
    # The tickets, then the customer: the close hook's order (it locks the ticket, then the customer). NO KEY: rows
    # referring to the tickets (ratings, follow-ups) may still be written meanwhile.
    list(Ticket.objects.select_for_update(no_key=True).filter(customer_id=customer_id).order_by("pk").values("pk"))
    customer = Customer.objects.select_for_update().get(pk=customer_id)  # and no new ticket of theirs meanwhile
    if customer.erased_at is not None:
        return False
    tickets = Ticket.objects.filter(customer_id=customer_id)  # read again: a ticket created meanwhile is seen
    if inactive_since is not None and (
        tickets.filter(Q(status__in=OPEN_STATUSES) | Q(closed_at__gt=inactive_since)).exists()
    ):
        return False
    open_references = [ticket.reference for ticket in tickets.filter(status__in=OPEN_STATUSES).order_by("pk")]
    if open_references:
        raise DomainError(f"Close the customer's open tickets first: {', '.join(open_references)}.")

    now = timezone.now()
    ticket_ids = list(tickets.order_by("pk").values_list("pk", flat=True))
    messages = Message.objects.filter(ticket_id__in=ticket_ids)
    message_ids = list(messages.values_list("pk", flat=True))
    messages.update(body=ERASED_TEXT)
    tickets.update(subject=ERASED_TEXT)
    TicketCC.objects.filter(ticket_id__in=ticket_ids).delete()
    TicketEvent.objects.filter(
        ticket_id__in=ticket_ids, kind__in=[TicketEvent.Kind.CC_ADDED, TicketEvent.Kind.CC_REMOVED]
    ).update(old_value="", new_value="")
    TicketEvent.objects.bulk_create(
        [TicketEvent(ticket_id=pk, actor=by, kind=TicketEvent.Kind.ERASED, at=now) for pk in ticket_ids]
    )
    customer.email, customer.name, customer.erased_at = erased_email(customer.pk), "", now
    customer.save(update_fields=["email", "name", "erased_at"])
    tokens_revoke(purpose=CONVERSATION_LINK_PURPOSE, target_ids=ticket_ids)
    emails = OutgoingEmail.objects.filter(_related(Ticket, ticket_ids) | _related(Message, message_ids))
    emails_erase(emails=emails, to=customer.email)
    LogEntry.objects.filter(
        Q(content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk))
        | Q(content_type=ContentType.objects.get_for_model(Ticket), object_id__in=[str(pk) for pk in ticket_ids])
    ).update(object_repr=ERASED_TEXT)
    customer_erased.send(sender=Customer, customer=customer, ticket_ids=ticket_ids, now=now)
    return True


def customers_erase_past_retention(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: erase the customers whose tickets were all closed more than PERSONAL_DATA_RETENTION_DAYS ago (and who
    are at least that old), `limit` per run, each in its own transaction. 0 days (the default) keeps data forever.
    Returns how many were erased."""
    days = settings.PERSONAL_DATA_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    active = Ticket.objects.filter(customer_id=OuterRef("pk")).filter(
        Q(status__in=OPEN_STATUSES) | Q(closed_at__gt=cutoff)
    )
    due = Customer.objects.filter(erased_at__isnull=True, created_at__lte=cutoff).exclude(Exists(active))
    return sum(
        customer_erase(customer_id=pk, by=None, inactive_since=cutoff)
        for pk in due.order_by("pk").values_list("pk", flat=True)[:limit]
    )
