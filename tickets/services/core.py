"""Every write to tickets. Keyword-only, atomic, row-locked; each change records a TicketEvent.

The rules themselves are tickets.transitions (pure functions): a service checks permissions, takes the row lock,
asks the rules for the Change at timezone.now(), applies its state to the row and writes its events, then sends the
signals and notifications that go with it.

`by` is the agent (or admin) acting; `None` means the system (a beat task) or, for messages, the customer.
Refusals raise DomainError (or PermissionDenied) before anything is written, so nothing changes.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import DomainError

from .. import transitions
from ..calendar import CalendarSpec
from ..email_in import EmailDetails, attachments_store, email_fields
from ..models import (
    CloseReason,
    Customer,
    Message,
    Priority,
    Queue,
    Status,
    Ticket,
    TicketEvent,
)
from ..notifications import reply_notification_enqueue, request_confirmation_enqueue
from ..replay import ticket_event_rows, ticket_state, ticket_state_apply, user_ref
from ..selectors import user_can_work_in_queue
from ..signals import ticket_closed, ticket_reopened
from ..sla.services import sla_refresh
from ..transitions import Change


def ensure_can_work(*, by: User | None, queue_id: int) -> None:
    if by is not None and not user_can_work_in_queue(user=by, queue_id=queue_id):
        raise PermissionDenied("You are not a member of this ticket's queue.")


def ticket_lock(ticket_id: int) -> Ticket:
    # Postgres: row lock (of the ticket only; the assignee is read for the state). SQLite: no-op, but the
    # IMMEDIATE transaction already holds the write lock.
    return Ticket.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=ticket_id)


# The events that move an SLA clock (an assignment alone does not).
SLA_EVENTS = frozenset({TicketEvent.Kind.CREATED, TicketEvent.Kind.STATUS, TicketEvent.Kind.MESSAGE,
                        TicketEvent.Kind.PRIORITY, TicketEvent.Kind.QUEUE})  # fmt: skip


def change_apply(ticket: Ticket, change: Change) -> None:
    """Save the changed row and write its events, then bring its SLA targets up to date; a no-op change (no events)
    writes nothing."""
    if not change.events:
        return
    ticket_state_apply(ticket=ticket, state=change.state)
    ticket.save()
    TicketEvent.objects.bulk_create(ticket_event_rows(ticket=ticket, events=change.events))
    if any(event.kind in SLA_EVENTS for event in change.events):
        sla_refresh(ticket=ticket)


def ticket_history(ticket: Ticket) -> list[TicketEvent]:
    return list(ticket.events.all())


def ticket_calendar(ticket: Ticket) -> CalendarSpec | None:
    calendar = ticket.queue.business_calendar
    return CalendarSpec.from_calendar(calendar) if calendar else None


def customer_get_or_create(*, email: str, name: str = "") -> Customer:
    """The customer with this email (case-insensitive), created if new; a missing name is filled in.

    Two first requests from one new address at once both get the one customer: the loser of the insert (the unique
    index on the lower-cased email waits for the winner's commit) rolls back to its savepoint and reads the winner's.
    """
    email = email.strip()
    if not email:
        raise DomainError("A customer needs an email address.")
    with transaction.atomic():
        customer = Customer.objects.filter(email__iexact=email).first()
        if customer is None:
            try:
                with transaction.atomic():  # a savepoint: the caller's transaction survives a lost race
                    return Customer.objects.create(email=email, name=name.strip())
            except IntegrityError:
                customer = Customer.objects.get(email__iexact=email)
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
    email: EmailDetails | None = None,
    follows: Ticket | None = None,
) -> Ticket:
    """A new ticket with the customer's first message. `by` is the agent entering it, None when the customer did.
    `email`: the message came by email; `follows`: the closed ticket it continues."""
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise DomainError("A ticket needs a subject.")
    if not body:
        raise DomainError("A ticket needs a message.")
    ensure_can_work(by=by, queue_id=queue.pk)
    if customer.erased_at is not None:
        raise DomainError("This customer's personal data was erased: open a ticket for their new address instead.")
    if assignee is not None:
        _ensure_assignable(user=assignee, queue_id=queue.pk)
    now = timezone.now()
    change = transitions.create(by=user_ref(by), at=now, priority=priority, assignee=user_ref(assignee))
    ticket = Ticket(subject=subject[:250], queue=queue, customer=customer, assignee=assignee, follows=follows)
    change_apply(ticket, change)
    message = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.CUSTOMER_MESSAGE,
        author_customer=customer,
        body=body,
        created_at=now,
        **email_fields(email),
    )
    _email_files_store(message, email, queue=queue)
    return ticket


def _email_files_store(message: Message, email: EmailDetails | None, *, queue: Queue) -> None:
    if email is None or not email.files:
        return
    notes = attachments_store(message=message, files=email.files, queue=queue)
    if notes:
        message.body = "\n\n".join([message.body, *(f"[{note}]" for note in notes)])
        message.save(update_fields=["body"])


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
    email: EmailDetails | None = None,
    reopen: bool = True,
) -> Message:
    """Agents (`by`) add public replies and internal notes; the customer adds customer messages (as may an address
    an agent copied on the ticket, by email).

    The first public reply sets first_replied_at and moves a new ticket to open. A customer message moves a
    pending ticket to open and reopens a closed one (unless `reopen` is False: a reply to a survey email is kept
    with the closed ticket). Agents cannot reply publicly on a closed ticket. `email`: it came by email.
    """
    body = body.strip()
    if not body:
        raise DomainError("The message is empty.")
    ticket = ticket_lock(ticket_id)
    now = timezone.now()
    if kind == Message.Kind.CUSTOMER_MESSAGE:
        if customer is None or not (
            customer.pk == ticket.customer_id
            or (email is not None and ticket.ccs.filter(email__iexact=customer.email).exists())
        ):
            raise PermissionDenied("Only the ticket's customer can add a customer message.")
        if ticket.customer.erased_at is not None:  # read under the ticket's lock, which an erasure takes first
            raise PermissionDenied("This customer's personal data was erased.")
        reopening = ticket.status == Status.CLOSED and reopen
        history, calendar = (ticket_history(ticket), ticket_calendar(ticket)) if reopening else (None, None)
        change = transitions.customer_message(
            ticket_state(ticket), at=now, history=history, calendar=calendar, reopen=reopen
        )
        message = Message.objects.create(
            ticket=ticket, kind=kind, author_customer=customer, body=body, created_at=now, **email_fields(email)
        )
        _email_files_store(message, email, queue=ticket.queue)
        change_apply(ticket, change)
        if reopening:
            ticket_reopened.send(sender=Ticket, ticket=ticket)
        return message

    if by is None:
        raise PermissionDenied("Replies and notes need an agent.")
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    if kind == Message.Kind.PUBLIC_REPLY:
        _assign_on_reply(ticket, by=by, at=now)
    change = transitions.agent_message(ticket_state(ticket), kind=kind, by=user_ref(by), at=now)
    message = Message.objects.create(ticket=ticket, kind=kind, author_user=by, body=body, created_at=now)
    change_apply(ticket, change)
    if kind == Message.Kind.PUBLIC_REPLY:
        reply_notification_enqueue(message=message)  # same transaction: the email exists iff the reply does
    return message


def _assign_on_reply(ticket: Ticket, *, by: User, at: datetime) -> None:
    """A public reply to an unassigned ticket assigns it to the replying member of its queue, if the queue says so
    (Queue.assign_on_reply): "my tickets" and the team figures then include the work they did. One query, only for
    an unassigned ticket."""
    if ticket.assignee_id is not None:
        return
    if Queue.objects.filter(pk=ticket.queue_id, assign_on_reply=True, memberships__user=by).exists():
        change_apply(ticket, transitions.assign(ticket_state(ticket), assignee=user_ref(by), by=user_ref(by), at=at))


def _ensure_assignable(*, user: User, queue_id: int) -> None:
    if not user.is_active:
        raise DomainError(f"{user.get_username()} is deactivated and cannot be assigned.")
    if not user_can_work_in_queue(user=user, queue_id=queue_id):
        raise DomainError(f"{user.get_username()} is not a member of this queue.")


@transaction.atomic
def ticket_assign(*, ticket_id: int, assignee: User | None, by: User | None) -> Ticket:
    """Assign to a member of the ticket's queue, or unassign with None. Assigning the current assignee is a no-op."""
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    change = transitions.assign(ticket_state(ticket), assignee=user_ref(assignee), by=user_ref(by), at=timezone.now())
    if not change.events:
        return ticket
    if assignee is not None:
        _ensure_assignable(user=assignee, queue_id=ticket.queue_id)
    change_apply(ticket, change)
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket_id: int, priority: Priority, by: User | None) -> Ticket:
    transitions.check_priority(priority)
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    change_apply(
        ticket, transitions.set_priority(ticket_state(ticket), priority=priority, by=user_ref(by), at=timezone.now())
    )
    return ticket


class Unchanged(enum.Enum):
    """The value of a ticket_update field left as it is (None is a value: unassigned)."""

    UNCHANGED = enum.auto()


UNCHANGED = Unchanged.UNCHANGED


@transaction.atomic
def ticket_update(
    *,
    ticket_id: int,
    by: User | None,
    assignee: User | Literal[Unchanged.UNCHANGED] | None = UNCHANGED,
    priority: Priority | Literal[Unchanged.UNCHANGED] = UNCHANGED,
) -> Ticket:
    """Change the given agent-editable fields (assignee, priority) at once: each as ticket_assign and
    ticket_set_priority do, with its event; all or none."""
    ticket = ticket_lock(ticket_id)
    if assignee is not UNCHANGED:
        ticket = ticket_assign(ticket_id=ticket_id, assignee=assignee, by=by)
    if priority is not UNCHANGED:
        ticket = ticket_set_priority(ticket_id=ticket_id, priority=priority, by=by)
    return ticket


@transaction.atomic
def ticket_set_status(*, ticket_id: int, status: Status, by: User | None) -> Ticket:
    """Move an open ticket between open, pending and on hold. Closing and reopening have their own services."""
    transitions.check_settable_status(status)
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    change_apply(
        ticket, transitions.set_status(ticket_state(ticket), status=status, by=user_ref(by), at=timezone.now())
    )
    return ticket


@transaction.atomic
def ticket_close(*, ticket_id: int, reason: CloseReason, by: User | None) -> Ticket:
    """Close with a reason and store the metrics. Closing a closed ticket changes nothing (double submit)."""
    transitions.check_close_reason(reason)
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    change = transitions.close(
        ticket_state(ticket),
        reason=reason,
        by=user_ref(by),
        at=timezone.now(),
        history=ticket_history(ticket),
        calendar=ticket_calendar(ticket),
    )
    if not change.events:  # closed already (a double submit)
        return ticket
    change_apply(ticket, change)
    ticket_closed.send(sender=Ticket, ticket=ticket)
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket_id: int, by: User | None) -> Ticket:
    """Reopen a closed ticket (status open). Reopening a ticket that is not closed changes nothing."""
    ticket = ticket_lock(ticket_id)
    ensure_can_work(by=by, queue_id=ticket.queue_id)
    change = transitions.reopen(
        ticket_state(ticket),
        by=user_ref(by),
        at=timezone.now(),
        history=ticket_history(ticket),
        calendar=ticket_calendar(ticket),
    )
    if not change.events:  # not closed
        return ticket
    change_apply(ticket, change)
    ticket_reopened.send(sender=Ticket, ticket=ticket)
    return ticket
