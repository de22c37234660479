"""Every write to tickets. Keyword-only, atomic, row-locked; each change records a TicketEvent.

`by` is the agent (or admin) acting; `None` means the system (a beat task) or, for messages, the customer.
Refusals raise DomainError (or PermissionDenied) before anything is written, so nothing changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError

from .calendar import CalendarSpec
from .metrics import metrics_compute
from .models import (
    OPEN_STATUSES,
    CloseReason,
    Customer,
    Message,
    Priority,
    Queue,
    Status,
    Ticket,
    TicketEvent,
)
from .notifications import reply_notification_enqueue, request_confirmation_enqueue
from .selectors import user_can_work_in_queue
from .signals import ticket_closed, ticket_reopened


def _ensure_can_work(*, by: User | None, queue_id: int) -> None:
    if by is not None and not user_can_work_in_queue(user=by, queue_id=queue_id):
        raise PermissionDenied("You are not a member of this ticket's queue.")


def _lock(ticket_id: int) -> Ticket:
    # Postgres: row lock. SQLite: no-op, but the IMMEDIATE transaction already holds the write lock.
    return Ticket.objects.select_for_update().get(pk=ticket_id)


def _record(*, ticket: Ticket, by: User | None, kind: str, old: str = "", new: str = "", at: datetime) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, actor=by, kind=kind, old_value=old, new_value=new, at=at)


def _set_status(*, ticket: Ticket, status: Status, by: User | None, now: datetime) -> None:
    _record(ticket=ticket, by=by, kind=TicketEvent.Kind.STATUS, old=ticket.status, new=status, at=now)
    ticket.status = status
    ticket.status_changed_at = ticket.updated_at = now


def _store_metrics(*, ticket: Ticket, now: datetime) -> None:
    calendar = ticket.queue.business_calendar
    for name, value in metrics_compute(
        created_at=ticket.created_at,
        closed_at=ticket.closed_at if ticket.is_closed else None,
        events=ticket.events.all(),
        now=now,
        calendar=CalendarSpec.from_calendar(calendar) if calendar else None,
    ).items():
        setattr(ticket, name, value)


def _username(user: User | None) -> str:
    return user.get_username() if user else ""


def customer_get_or_create(*, email: str, name: str = "") -> Customer:
    """The customer with this email (case-insensitive), created if new; a missing name is filled in."""
    email = email.strip()
    if not email:
        raise DomainError("A customer needs an email address.")
    with transaction.atomic():
        customer = Customer.objects.filter(email__iexact=email).first()
        if customer is None:
            return Customer.objects.create(email=email, name=name.strip())
        if name.strip() and not customer.name:
            customer.name = name.strip()
            customer.save(update_fields=["name"])
        return customer


@transaction.atomic
def ticket_create(
    *,
    queue: Queue,
    customer: Customer,
    subject: str,
    body: str,
    by: User | None,
    priority: Priority = Priority.NORMAL,
    assignee: User | None = None,
) -> Ticket:
    """A new ticket with the customer's first message. `by` is the agent entering it, None when the customer did."""
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise DomainError("A ticket needs a subject.")
    if not body:
        raise DomainError("A ticket needs a message.")
    _ensure_can_work(by=by, queue_id=queue.pk)
    if assignee is not None:
        _ensure_assignable(user=assignee, queue_id=queue.pk)
    now = timezone.now()
    ticket = Ticket.objects.create(
        subject=subject,
        queue=queue,
        customer=customer,
        priority=priority,
        assignee=assignee,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    _record(ticket=ticket, by=by, kind=TicketEvent.Kind.CREATED, new=ticket.reference, at=now)
    Message.objects.create(
        ticket=ticket, kind=Message.Kind.CUSTOMER_MESSAGE, author_customer=customer, body=body, created_at=now
    )
    _record(ticket=ticket, by=by, kind=TicketEvent.Kind.MESSAGE, new=Message.Kind.CUSTOMER_MESSAGE, at=now)
    if assignee is not None:
        _record(ticket=ticket, by=by, kind=TicketEvent.Kind.ASSIGNEE, new=_username(assignee), at=now)
    return ticket


@transaction.atomic
def ticket_create_for_email(
    *,
    queue: Queue,
    email: str,
    name: str,
    subject: str,
    body: str,
    by: User | None,
    priority: Priority = Priority.NORMAL,
    assignee: User | None = None,
) -> Ticket:
    """A ticket for the customer with this email (created if new). Nothing is written if the ticket is refused."""
    customer = customer_get_or_create(email=email, name=name)
    return ticket_create(
        queue=queue, customer=customer, subject=subject, body=body, by=by, priority=priority, assignee=assignee
    )


@transaction.atomic
def request_submit(*, queue: Queue, email: str, name: str, subject: str, body: str) -> Ticket:
    """A customer's request from the public form: the ticket and its confirmation email, in one transaction."""
    ticket = ticket_create_for_email(queue=queue, email=email, name=name, subject=subject, body=body, by=None)
    request_confirmation_enqueue(ticket=ticket)
    return ticket


@transaction.atomic
def message_add(
    *,
    ticket_id: int,
    kind: Message.Kind,
    body: str,
    by: User | None = None,
    customer: Customer | None = None,
) -> Message:
    """Agents (`by`) add public replies and internal notes; the customer adds customer messages.

    The first public reply sets first_replied_at and moves a new ticket to open. A customer message moves a
    pending ticket to open and reopens a closed one. Agents cannot reply publicly on a closed ticket.
    """
    body = body.strip()
    if not body:
        raise DomainError("The message is empty.")
    ticket = _lock(ticket_id)
    now = timezone.now()
    if kind == Message.Kind.CUSTOMER_MESSAGE:
        if customer is None or customer.pk != ticket.customer_id:
            raise PermissionDenied("Only the ticket's customer can add a customer message.")
        message = Message.objects.create(ticket=ticket, kind=kind, author_customer=customer, body=body, created_at=now)
        _record(ticket=ticket, by=None, kind=TicketEvent.Kind.MESSAGE, new=kind, at=now)
        if ticket.status == Status.CLOSED:
            _reopen(ticket=ticket, by=None, now=now)
            return message
        if ticket.status == Status.PENDING:
            _set_status(ticket=ticket, status=Status.OPEN, by=None, now=now)
        ticket.updated_at = now
        ticket.save()
        return message

    if by is None:
        raise PermissionDenied("Replies and notes need an agent.")
    _ensure_can_work(by=by, queue_id=ticket.queue_id)
    if kind == Message.Kind.PUBLIC_REPLY and ticket.status == Status.CLOSED:
        raise DomainError("This ticket is closed: reopen it before replying.")
    message = Message.objects.create(ticket=ticket, kind=kind, author_user=by, body=body, created_at=now)
    _record(ticket=ticket, by=by, kind=TicketEvent.Kind.MESSAGE, new=kind, at=now)
    if kind == Message.Kind.PUBLIC_REPLY:
        ticket.public_reply_count += 1
        if ticket.first_replied_at is None:
            ticket.first_replied_at = now
        if ticket.status == Status.NEW:
            _set_status(ticket=ticket, status=Status.OPEN, by=by, now=now)
    ticket.updated_at = now
    ticket.save()
    if kind == Message.Kind.PUBLIC_REPLY:
        reply_notification_enqueue(message=message)  # same transaction: the email exists iff the reply does
    return message


def _ensure_assignable(*, user: User, queue_id: int) -> None:
    if not user.is_active:
        raise DomainError(f"{user.get_username()} is deactivated and cannot be assigned.")
    if not user_can_work_in_queue(user=user, queue_id=queue_id):
        raise DomainError(f"{user.get_username()} is not a member of this queue.")


@transaction.atomic
def ticket_assign(*, ticket_id: int, assignee: User | None, by: User | None) -> Ticket:
    """Assign to a member of the ticket's queue, or unassign with None. Assigning the current assignee is a no-op."""
    ticket = _lock(ticket_id)
    _ensure_can_work(by=by, queue_id=ticket.queue_id)
    if (assignee.pk if assignee else None) == ticket.assignee_id:
        return ticket
    if assignee is not None:
        _ensure_assignable(user=assignee, queue_id=ticket.queue_id)
    now = timezone.now()
    _record(
        ticket=ticket,
        by=by,
        kind=TicketEvent.Kind.ASSIGNEE,
        old=_username(ticket.assignee),
        new=_username(assignee),
        at=now,
    )
    ticket.assignee = assignee
    ticket.updated_at = now
    ticket.save()
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket_id: int, priority: Priority, by: User | None) -> Ticket:
    if priority not in Priority.values:
        raise DomainError(f"Unknown priority {priority!r}.")
    ticket = _lock(ticket_id)
    _ensure_can_work(by=by, queue_id=ticket.queue_id)
    if ticket.priority == priority:
        return ticket
    now = timezone.now()
    _record(ticket=ticket, by=by, kind=TicketEvent.Kind.PRIORITY, old=ticket.priority, new=priority, at=now)
    ticket.priority = priority
    ticket.updated_at = now
    ticket.save()
    return ticket


SETTABLE_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD)


@transaction.atomic
def ticket_set_status(*, ticket_id: int, status: Status, by: User | None) -> Ticket:
    """Move an open ticket between open, pending and on hold. Closing and reopening have their own services."""
    if status not in SETTABLE_STATUSES:
        if status == Status.CLOSED:
            raise DomainError("Close a ticket with a close reason (use close, not set status).")
        raise DomainError(f"A ticket cannot be set to {status!r}.")
    ticket = _lock(ticket_id)
    _ensure_can_work(by=by, queue_id=ticket.queue_id)
    if ticket.status == Status.CLOSED:
        raise DomainError("This ticket is closed: reopen it first.")
    if ticket.status == status:
        return ticket
    _set_status(ticket=ticket, status=status, by=by, now=timezone.now())
    ticket.save()
    return ticket


@transaction.atomic
def ticket_close(*, ticket_id: int, reason: CloseReason, by: User | None) -> Ticket:
    """Close with a reason and store the metrics. Closing a closed ticket changes nothing (double submit)."""
    if reason not in CloseReason.values:
        raise DomainError(f"Unknown close reason {reason!r}.")
    ticket = _lock(ticket_id)
    _ensure_can_work(by=by, queue_id=ticket.queue_id)
    if ticket.status == Status.CLOSED:
        return ticket
    now = timezone.now()
    _set_status(ticket=ticket, status=Status.CLOSED, by=by, now=now)
    ticket.close_reason, ticket.closed_at = reason, now
    _store_metrics(ticket=ticket, now=now)
    ticket.save()
    ticket_closed.send(sender=Ticket, ticket=ticket)
    return ticket


def _reopen(*, ticket: Ticket, by: User | None, now: datetime) -> None:
    _set_status(ticket=ticket, status=Status.OPEN, by=by, now=now)
    ticket.close_reason, ticket.closed_at = "", None
    _store_metrics(ticket=ticket, now=now)  # resolution becomes unknown again; waits and reopens are brought up to date
    ticket.save()
    ticket_reopened.send(sender=Ticket, ticket=ticket)


@transaction.atomic
def ticket_reopen(*, ticket_id: int, by: User | None) -> Ticket:
    """Reopen a closed ticket (status open). Reopening a ticket that is not closed changes nothing."""
    ticket = _lock(ticket_id)
    _ensure_can_work(by=by, queue_id=ticket.queue_id)
    if ticket.status != Status.CLOSED:
        return ticket
    _reopen(ticket=ticket, by=by, now=timezone.now())
    return ticket


def tickets_close_stale_pending(*, now: datetime | None = None) -> list[int]:
    """Close, as no_response, tickets pending longer than their queue's limit. Returns the closed ticket ids."""
    now = now or timezone.now()
    closed = []
    for queue in Queue.objects.filter(pending_autoclose_days__gt=0):
        cutoff = now - timedelta(days=queue.pending_autoclose_days)
        stale = Ticket.objects.filter(queue=queue, status=Status.PENDING, status_changed_at__lte=cutoff)
        for ticket_id in stale.values_list("pk", flat=True):
            # Each in its own transaction, re-checked under the lock: a customer may have replied meanwhile.
            with transaction.atomic():
                ticket = _lock(ticket_id)
                if ticket.status == Status.PENDING and ticket.status_changed_at <= cutoff:
                    ticket_close(ticket_id=ticket_id, reason=CloseReason.NO_RESPONSE, by=None)
                    closed.append(ticket_id)
    return closed


def ticket_rating_record(*, ticket_id: int, csat: int | None, ces: int | None, poor: bool) -> None:
    """Keep the ticket's latest survey answer on the ticket (for the list). Not a ticket state change: no event,
    and updated_at is left alone so a rating does not reorder the agents' queues."""
    Ticket.objects.filter(pk=ticket_id).update(last_csat=csat, last_ces=ces, rated_poor=poor)


@transaction.atomic
def agent_deactivate(*, user_id: int, by: User | None) -> int:
    """Deactivate an agent (no login) and unassign their open tickets, with events. Returns how many were unassigned."""
    user = User.objects.select_for_update().get(pk=user_id)
    if by is not None and not by.is_superuser:
        raise PermissionDenied("Only admins can deactivate agents.")
    user.is_active = False
    user.save(update_fields=["is_active"])
    now = timezone.now()
    open_ticket_ids = Ticket.objects.filter(assignee=user, status__in=OPEN_STATUSES).values_list("pk", flat=True)
    count = 0
    for ticket_id in list(open_ticket_ids):
        ticket = _lock(ticket_id)
        _record(ticket=ticket, by=by, kind=TicketEvent.Kind.ASSIGNEE, old=_username(user), new="", at=now)
        ticket.assignee = None
        ticket.updated_at = now
        ticket.save()
        count += 1
    return count
