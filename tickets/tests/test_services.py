"""Each ticket service: its happy path, and its refusals (which must change nothing)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from common.errors import DomainError
from tickets import services
from tickets.models import CloseReason, Customer, Message, Priority, QueueMembership, Status, Ticket, TicketEvent
from tickets.signals import ticket_closed, ticket_reopened
from tickets.tests.factories import MembershipFactory, QueueFactory, UserFactory

pytestmark = pytest.mark.django_db


def new_ticket(queue, customer, by=None, **kwargs) -> Ticket:
    return services.ticket_create(
        queue=queue, customer=customer, subject="Printer on fire", body="Help!", by=by, **kwargs
    )


def snapshot(ticket: Ticket) -> tuple:
    """Everything a refused call must leave untouched."""
    ticket.refresh_from_db()
    row = {f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields}
    return row, ticket.events.count(), ticket.messages.count()


def event_kinds(ticket: Ticket) -> list[tuple[str, str, str]]:
    return list(ticket.events.order_by("at", "id").values_list("kind", "old_value", "new_value"))


# --- customers ---------------------------------------------------------------------------------------------------


def test_customer_get_or_create_matches_email_case_insensitively():
    first = services.customer_get_or_create(email="Ada@Example.org", name="")
    again = services.customer_get_or_create(email="ada@example.ORG", name="Ada Lovelace")

    assert again.pk == first.pk
    assert Customer.objects.count() == 1
    assert again.name == "Ada Lovelace"  # a missing name is filled in


def test_customer_get_or_create_refuses_an_empty_email():
    with pytest.raises(DomainError):
        services.customer_get_or_create(email="  ")
    assert Customer.objects.count() == 0


# --- create --------------------------------------------------------------------------------------------------------


def test_agent_creates_a_ticket_on_behalf_of_a_customer(queue, agent, customer):
    ticket = new_ticket(queue, customer, by=agent, priority=Priority.HIGH, assignee=agent)

    assert ticket.status == Status.NEW
    assert ticket.reference == f"HD-{ticket.pk:06d}"
    message = ticket.messages.get()
    assert (message.kind, message.author_customer, message.author_user) == (
        Message.Kind.CUSTOMER_MESSAGE,
        customer,
        None,
    )
    assert event_kinds(ticket) == [
        ("created", "", ticket.reference),
        ("message", "", "customer_message"),
        ("assignee", "", agent.username),
    ]
    assert ticket.events.filter(actor=agent).count() == 3


def test_customer_creates_a_ticket_without_an_agent(queue, customer):
    ticket = new_ticket(queue, customer, by=None)

    assert ticket.assignee is None
    assert ticket.events.filter(actor__isnull=True).count() == 2


def test_create_refuses_empty_subject_and_body_and_outsiders(queue, customer, outsider, plain_user):
    with pytest.raises(DomainError, match="subject"):
        services.ticket_create(queue=queue, customer=customer, subject=" ", body="x", by=None)
    with pytest.raises(DomainError, match="message"):
        services.ticket_create(queue=queue, customer=customer, subject="x", body=" ", by=None)
    with pytest.raises(PermissionDenied):
        new_ticket(queue, customer, by=outsider)
    with pytest.raises(DomainError, match="not a member"):
        new_ticket(queue, customer, by=None, assignee=plain_user)

    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0


def test_reference_comes_from_the_primary_key_not_a_count(queue, customer):
    first = new_ticket(queue, customer)
    second = new_ticket(queue, customer)
    Ticket.objects.filter(pk=first.pk).delete()

    third = new_ticket(queue, customer)

    assert third.reference != second.reference
    assert third.reference == f"HD-{third.pk:06d}"


# --- messages ------------------------------------------------------------------------------------------------------


def test_first_public_reply_sets_first_replied_at_and_opens_a_new_ticket(queue, agent, customer):
    ticket = new_ticket(queue, customer)

    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="On it", by=agent)
        replied_at = timezone.now()
    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Done?", by=agent)

    ticket.refresh_from_db()
    assert ticket.first_replied_at == replied_at
    assert ticket.status == Status.OPEN
    assert ticket.public_reply_count == 2
    assert ("status", "new", "open") in event_kinds(ticket)


def test_internal_note_changes_no_status_and_is_not_a_reply(queue, agent, customer):
    ticket = new_ticket(queue, customer)

    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Check logs", by=agent)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.first_replied_at, ticket.public_reply_count) == (Status.NEW, None, 0)
    assert event_kinds(ticket)[-1] == ("message", "", "internal_note")


def test_customer_message_on_a_pending_ticket_moves_it_to_open(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    services.ticket_set_status(ticket_id=ticket.pk, status=Status.PENDING, by=agent)

    services.message_add(
        ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body="Still broken", customer=customer
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert event_kinds(ticket)[-1] == ("status", "pending", "open")


def test_customer_message_on_a_closed_ticket_reopens_it(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    reopened = []
    ticket_reopened.connect(lambda sender, ticket, **kw: reopened.append(ticket.pk), weak=False, dispatch_uid="t1")

    try:
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body="Again", customer=customer)
    finally:
        ticket_reopened.disconnect(dispatch_uid="t1")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.close_reason, ticket.closed_at, ticket.reopen_count) == (Status.OPEN, "", None, 1)
    assert reopened == [ticket.pk]


def test_message_refusals_change_nothing(queue, agent, outsider, customer):
    ticket = new_ticket(queue, customer)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    other_customer = Customer.objects.create(email="someone@else.org")
    before = snapshot(ticket)

    with pytest.raises(DomainError, match="reopen"):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Hi", by=agent)
    with pytest.raises(DomainError, match="empty"):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="  ", by=agent)
    with pytest.raises(PermissionDenied):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Hi", by=outsider)
    with pytest.raises(PermissionDenied):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Hi", by=None)
    with pytest.raises(PermissionDenied):
        services.message_add(
            ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body="Hi", customer=other_customer
        )

    assert snapshot(ticket) == before


def test_internal_note_on_a_closed_ticket_is_allowed_and_keeps_it_closed(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)

    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="FYI", by=agent)

    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


# --- assign / priority / status ------------------------------------------------------------------------------------


def test_assign_to_a_queue_member_and_unassign(queue, agent, lead, customer):
    ticket = new_ticket(queue, customer)

    services.ticket_assign(ticket_id=ticket.pk, assignee=lead, by=agent)
    services.ticket_assign(ticket_id=ticket.pk, assignee=lead, by=agent)  # same assignee: no-op
    services.ticket_assign(ticket_id=ticket.pk, assignee=None, by=agent)

    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert [e for e in event_kinds(ticket) if e[0] == "assignee"] == [
        ("assignee", "", lead.username),
        ("assignee", lead.username, ""),
    ]


def test_assign_refusals_change_nothing(queue, agent, outsider, customer):
    ticket = new_ticket(queue, customer)
    inactive = MembershipFactory(queue=queue, user=UserFactory(is_active=False)).user
    before = snapshot(ticket)

    with pytest.raises(DomainError, match="not a member"):
        services.ticket_assign(ticket_id=ticket.pk, assignee=outsider, by=agent)
    with pytest.raises(DomainError, match="deactivated"):
        services.ticket_assign(ticket_id=ticket.pk, assignee=inactive, by=agent)
    with pytest.raises(PermissionDenied):
        services.ticket_assign(ticket_id=ticket.pk, assignee=outsider, by=outsider)

    assert snapshot(ticket) == before


def test_set_priority_records_an_event_once(queue, agent, customer):
    ticket = new_ticket(queue, customer)

    services.ticket_set_priority(ticket_id=ticket.pk, priority=Priority.URGENT, by=agent)
    services.ticket_set_priority(ticket_id=ticket.pk, priority=Priority.URGENT, by=agent)

    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert event_kinds(ticket)[-1] == ("priority", "normal", "urgent")
    assert ticket.events.filter(kind="priority").count() == 1


def test_set_priority_refusals_change_nothing(queue, agent, outsider, customer):
    ticket = new_ticket(queue, customer)
    before = snapshot(ticket)

    with pytest.raises(DomainError):
        services.ticket_set_priority(ticket_id=ticket.pk, priority="critical", by=agent)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        services.ticket_set_priority(ticket_id=ticket.pk, priority=Priority.LOW, by=outsider)

    assert snapshot(ticket) == before


def test_set_status_walks_between_open_pending_and_on_hold(queue, agent, customer):
    ticket = new_ticket(queue, customer)

    for status in (Status.PENDING, Status.ON_HOLD, Status.OPEN, Status.OPEN):
        services.ticket_set_status(ticket_id=ticket.pk, status=status, by=agent)

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert [e for e in event_kinds(ticket) if e[0] == "status"] == [
        ("status", "new", "pending"),
        ("status", "pending", "on_hold"),
        ("status", "on_hold", "open"),
    ]


@pytest.mark.parametrize(
    ("start_closed", "target", "message"),
    [
        (False, Status.CLOSED, "close reason"),
        (False, Status.NEW, "cannot be set"),
        (True, Status.OPEN, "reopen it first"),
    ],
)
def test_set_status_refuses_invalid_transitions(queue, agent, customer, start_closed, target, message):
    ticket = new_ticket(queue, customer)
    if start_closed:
        services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    before = snapshot(ticket)

    with pytest.raises(DomainError, match=message):
        services.ticket_set_status(ticket_id=ticket.pk, status=target, by=agent)

    assert snapshot(ticket) == before


# --- close / reopen --------------------------------------------------------------------------------------------------


def test_close_stores_reason_time_metrics_and_sends_the_signal_once(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    closed = []
    ticket_closed.connect(lambda sender, ticket, **kw: closed.append(ticket.pk), weak=False, dispatch_uid="t2")

    try:
        services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
        services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SPAM, by=agent)  # double submit
    finally:
        ticket_closed.disconnect(dispatch_uid="t2")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.close_reason) == (Status.CLOSED, CloseReason.SOLVED)
    assert ticket.closed_at is not None
    assert ticket.resolution_seconds is not None
    assert closed == [ticket.pk]
    assert ticket.events.filter(kind="status", new_value="closed").count() == 1


def test_a_failing_close_receiver_rolls_the_close_back(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    before = snapshot(ticket)

    def explode(sender, ticket, **kwargs):
        raise RuntimeError("survey scheduling failed")

    ticket_closed.connect(explode, weak=False, dispatch_uid="t3")
    try:
        with pytest.raises(RuntimeError):
            services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    finally:
        ticket_closed.disconnect(dispatch_uid="t3")

    assert snapshot(ticket) == before


def test_close_refusals_change_nothing(queue, agent, outsider, customer):
    ticket = new_ticket(queue, customer)
    before = snapshot(ticket)

    with pytest.raises(DomainError, match="close reason"):
        services.ticket_close(ticket_id=ticket.pk, reason="fixed", by=agent)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=outsider)

    assert snapshot(ticket) == before


def test_reopen_opens_a_closed_ticket_and_is_idempotent(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)

    services.ticket_reopen(ticket_id=ticket.pk, by=agent)
    services.ticket_reopen(ticket_id=ticket.pk, by=agent)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.close_reason, ticket.closed_at) == (Status.OPEN, "", None)
    assert ticket.reopen_count == 1
    assert ticket.resolution_seconds is None


def test_reopen_refused_for_an_outsider(queue, agent, outsider, customer):
    ticket = new_ticket(queue, customer)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    before = snapshot(ticket)

    with pytest.raises(PermissionDenied):
        services.ticket_reopen(ticket_id=ticket.pk, by=outsider)

    assert snapshot(ticket) == before


def test_admin_can_work_any_queue(queue, admin_user, customer):
    ticket = new_ticket(queue, customer, by=admin_user)

    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.DUPLICATE, by=admin_user)

    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


# --- automatic close of stale pending tickets ----------------------------------------------------------------------


def test_stale_pending_tickets_are_closed_as_no_response(queue, agent, customer):
    other_queue = QueueFactory(pending_autoclose_days=0)  # never auto-closes
    stale = new_ticket(queue, customer)
    fresh = new_ticket(queue, customer)
    kept = new_ticket(other_queue, customer)
    services.ticket_set_status(ticket_id=stale.pk, status=Status.PENDING, by=None)
    services.ticket_set_status(ticket_id=kept.pk, status=Status.PENDING, by=None)

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False):
        services.ticket_set_status(ticket_id=fresh.pk, status=Status.PENDING, by=None)
        closed = services.tickets_close_stale_pending()
        closed_again = services.tickets_close_stale_pending()

    assert closed == [stale.pk]
    assert closed_again == []
    stale.refresh_from_db()
    assert (stale.status, stale.close_reason) == (Status.CLOSED, CloseReason.NO_RESPONSE)
    assert stale.events.get(new_value="closed").actor is None
    assert Ticket.objects.get(pk=fresh.pk).status == Status.PENDING
    assert Ticket.objects.get(pk=kept.pk).status == Status.PENDING


# --- deactivate agent ----------------------------------------------------------------------------------------------


def test_deactivate_agent_unassigns_open_tickets_only(queue, agent, admin_user, customer):
    open_ticket = new_ticket(queue, customer, assignee=agent)
    closed_ticket = new_ticket(queue, customer, assignee=agent)
    services.ticket_close(ticket_id=closed_ticket.pk, reason=CloseReason.SOLVED, by=agent)

    count = services.agent_deactivate(user_id=agent.pk, by=admin_user)

    agent.refresh_from_db()
    assert count == 1
    assert agent.is_active is False
    assert Ticket.objects.get(pk=open_ticket.pk).assignee is None
    assert Ticket.objects.get(pk=closed_ticket.pk).assignee == agent
    assert event_kinds(open_ticket)[-1] == ("assignee", agent.username, "")


def test_deactivate_agent_is_admin_only(queue, agent, lead, customer):
    new_ticket(queue, customer, assignee=agent)

    with pytest.raises(PermissionDenied):
        services.agent_deactivate(user_id=agent.pk, by=lead)

    agent.refresh_from_db()
    assert agent.is_active is True
    assert Ticket.objects.filter(assignee=agent).count() == 1
    assert QueueMembership.objects.filter(user=agent).exists()
