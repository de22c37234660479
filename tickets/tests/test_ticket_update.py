"""ticket_update: the agent-editable fields in one service call (the API's PATCH), each change with its event; all or
none."""

import pytest

from common.errors import DomainError
from tickets import services
from tickets.models import Priority, Ticket

pytestmark = pytest.mark.django_db


def new_ticket(queue, customer) -> Ticket:
    return services.ticket_create(queue=queue, customer=customer, subject="Printer on fire", body="Help!", by=None)


def test_ticket_update_changes_the_assignee_and_the_priority_with_an_event_each(queue, agent, lead, customer):
    # given a new ticket
    ticket = new_ticket(queue, customer)
    before = set(ticket.events.values_list("pk", flat=True))

    # when an agent changes both fields at once
    services.ticket_update(ticket_id=ticket.pk, by=agent, assignee=lead, priority=Priority.URGENT)

    # then both are changed, with one event each
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (lead, Priority.URGENT)
    new_kinds = set(ticket.events.exclude(pk__in=before).values_list("kind", flat=True))
    assert {"assignee", "priority"} <= new_kinds


def test_ticket_update_leaves_the_fields_not_given_unchanged(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    services.ticket_assign(ticket_id=ticket.pk, assignee=agent, by=agent)

    services.ticket_update(ticket_id=ticket.pk, by=agent, priority=Priority.LOW)

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (agent, Priority.LOW)


def test_ticket_update_changes_nothing_when_one_change_is_refused(queue, agent, outsider, customer):
    # given a ticket, and an assignee outside its queue
    ticket = new_ticket(queue, customer)
    events = ticket.events.count()

    # when the update asks for a valid priority and that assignee
    with pytest.raises(DomainError):
        services.ticket_update(ticket_id=ticket.pk, by=agent, priority=Priority.URGENT, assignee=outsider)

    # then neither change is made, and no event recorded
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (None, Priority.NORMAL)
    assert ticket.events.count() == events
