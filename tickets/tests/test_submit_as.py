"""Submit as (the reply and the status in one step) and assign on reply (a queue setting, default on)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from outbox.models import OutgoingEmail
from tickets import services
from tickets.models import CloseReason, Message, Status, Ticket
from tickets.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def new_ticket(queue, customer, **kwargs) -> Ticket:
    return services.ticket_create(queue=queue, customer=customer, subject="Printer", body="Help!", by=None, **kwargs)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reply(client, ticket, **data):
    return client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Try this.", **data}, follow=True)


@pytest.mark.parametrize(
    ("then", "status", "flash"),
    [
        ("pending", Status.PENDING, "Reply sent to the customer; status set to Pending."),
        ("on_hold", Status.ON_HOLD, "Reply sent to the customer; status set to On hold."),
        ("close:solved", Status.CLOSED, "Reply sent to the customer; ticket closed (Solved)."),
        ("", Status.OPEN, "Reply sent to the customer."),
    ],
)
def test_each_button_sends_the_reply_and_sets_the_status(queue, agent, customer, then, status, flash):
    ticket = new_ticket(queue, customer, assignee=agent)

    page = reply(client_for(agent), ticket, then=then)

    ticket.refresh_from_db()
    assert ticket.status == status
    assert flash in page.text
    assert Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC_REPLY).count() == 1
    assert OutgoingEmail.objects.filter(kind="reply_notification").count() == 1
    if then == "close:solved":
        assert ticket.close_reason == CloseReason.SOLVED


def test_the_reply_box_offers_the_buttons(queue, agent, customer):
    page = client_for(agent).get(reverse("tickets:detail", args=[new_ticket(queue, customer).pk]))
    for value, label in [("pending", "Send and set pending"), ("close:solved", "Send and close: solved")]:
        assert f'name="then" value="{value}" class="secondary">{label}</button>' in page.text


def test_an_unknown_choice_sends_nothing(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    response = client_for(agent).post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hi", "then": "closed"})
    assert response.status_code == 400
    assert not Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY).exists()


def test_a_refused_status_change_sends_nothing(queue, agent, customer, monkeypatch):
    """One transaction: when the status step fails, the reply and its email are not kept."""
    ticket = new_ticket(queue, customer)

    def refuse(**kwargs):
        from common.errors import DomainError

        raise DomainError("Not now.")

    monkeypatch.setattr("tickets.services.replies.ticket_set_status", refuse)
    page = reply(client_for(agent), ticket, then="pending")

    assert "Not now." in page.text
    assert not Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY).exists()
    assert not OutgoingEmail.objects.exists()


def test_a_reply_assigns_an_unassigned_ticket_to_the_replying_agent(queue, agent, customer):
    ticket = new_ticket(queue, customer)

    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="On it", by=agent)

    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.events.filter(kind="assignee", new_value=agent.username).count() == 1


def test_a_note_an_assigned_ticket_or_a_queue_that_says_no_keep_the_assignee(queue, agent, customer):
    other = MembershipFactory(queue=queue).user
    noted = new_ticket(queue, customer)
    services.message_add(ticket_id=noted.pk, kind=Message.Kind.INTERNAL_NOTE, body="Hm", by=agent)
    theirs = new_ticket(queue, customer, assignee=other)
    services.message_add(ticket_id=theirs.pk, kind=Message.Kind.PUBLIC_REPLY, body="Helping", by=agent)
    queue.assign_on_reply = False
    queue.save()
    off = new_ticket(queue, customer)
    services.message_add(ticket_id=off.pk, kind=Message.Kind.PUBLIC_REPLY, body="Hi", by=agent)

    assert [Ticket.objects.get(pk=t.pk).assignee for t in (noted, theirs, off)] == [None, other, None]


def test_an_admin_who_is_no_member_replies_without_being_assigned(queue, customer):
    admin = UserFactory(is_superuser=True, is_staff=True)
    ticket = new_ticket(queue, customer)

    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Hi", by=admin)

    ticket.refresh_from_db()
    assert ticket.assignee is None
