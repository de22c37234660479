"""Delivery failures in sight: each public reply shows what became of its email to the customer (queued, emailed,
not sent: bounces, failed), a ticket whose customer bounces has a banner with what to do, and a lead corrects the
address (an event keeps the old one; the conversation link goes to the new one). Nothing costs the page a query."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from outbox.models import OutgoingEmail, Suppression
from outbox.tests.sending import outbox_deliver
from tickets import services
from tickets.models import Customer, Message, Ticket, TicketEvent
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_ticket(queue, customer=None) -> Ticket:
    customer = customer or CustomerFactory(email="grace@example.org")
    return services.ticket_create(queue=queue, customer=customer, subject="Printer", body="Help!", by=None)


def reply(ticket, agent, body="Try this.") -> Message:
    return services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body=body, by=agent)


def page_of(user, ticket) -> str:
    return client_for(user).get(reverse("tickets:detail", args=[ticket.pk])).text


def test_each_reply_shows_its_email_queued_then_emailed(queue, agent):
    ticket = new_ticket(queue)
    message = reply(ticket, agent)
    message.refresh_from_db()
    assert message.customer_email.to_email == "grace@example.org"  # the customer's, not a CC's copy

    assert "Queued for email" in page_of(agent, ticket)
    assert outbox_deliver() >= 1
    assert "delivery-sent" in page_of(agent, ticket) and "Emailed" in page_of(agent, ticket)


def test_a_bouncing_customer_gets_a_banner_and_the_reply_says_not_sent(queue, agent):
    ticket = new_ticket(queue)
    Suppression.objects.create(email="GRACE@example.org", reason="550 5.1.1 <grace@example.org>: no such user")
    reply(ticket, agent)
    outbox_deliver()

    page = page_of(agent, ticket)

    assert "Emails to grace@example.org are not delivered" in page
    assert "550 5.1.1 &lt;grace@example.org&gt;: no such user" in page  # escaped
    assert "Not sent: grace@example.org bounces" in page
    assert "A lead of" in page  # an agent is told who can fix it, and gets no form
    assert reverse("tickets:customer-email", args=[ticket.pk]) not in page
    assert OutgoingEmail.objects.get(kind="reply_notification").status == OutgoingEmail.Status.CANCELLED


def test_no_banner_for_a_customer_who_does_not_bounce(queue, agent):
    assert "are not delivered" not in page_of(agent, new_ticket(queue))


def test_a_lead_corrects_the_address_the_old_one_stays_in_the_history(queue, lead):
    ticket = new_ticket(queue)
    Suppression.objects.create(email="grace@example.org", reason="550 no such user")
    client = client_for(lead)
    assert reverse("tickets:customer-email", args=[ticket.pk]) in page_of(lead, ticket)

    response = client.post(
        reverse("tickets:customer-email", args=[ticket.pk]), {"email": "grace.hopper@example.org"}, follow=True
    )

    assert "The customer&#x27;s address is now grace.hopper@example.org" in response.text
    assert Customer.objects.get(pk=ticket.customer_id).email == "grace.hopper@example.org"
    event = TicketEvent.objects.get(ticket=ticket, kind="customer_email")
    assert (event.old_value, event.new_value, event.actor) == ("grace@example.org", "grace.hopper@example.org", lead)
    assert "Customer&#x27;s address corrected: grace@example.org → grace.hopper@example.org" in response.text
    confirmation = OutgoingEmail.objects.filter(kind="confirmation").latest("id")
    assert confirmation.to_email == "grace.hopper@example.org"
    assert "are not delivered" not in response.text  # the new address does not bounce


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("not-an-address", "Enter a valid email address."),
        ("GRACE@example.org", "That is the customer&#x27;s address already."),
        ("taken@example.org", "Another customer has this address"),
    ],
)
def test_a_bad_correction_is_refused_and_changes_nothing(queue, lead, email, error):
    CustomerFactory(email="taken@example.org")
    ticket = new_ticket(queue)
    Suppression.objects.create(email="grace@example.org", reason="550")

    response = client_for(lead).post(reverse("tickets:customer-email", args=[ticket.pk]), {"email": email})

    assert response.status_code == 400 and error in response.text
    assert Customer.objects.get(pk=ticket.customer_id).email == "grace@example.org"
    assert not TicketEvent.objects.filter(kind="customer_email").exists()


def test_an_agent_cannot_correct_it_and_another_queue_s_lead_gets_a_404(queue, agent, outsider):
    ticket = new_ticket(queue)
    url = reverse("tickets:customer-email", args=[ticket.pk])

    assert client_for(agent).post(url, {"email": "new@example.org"}).status_code == 403
    assert client_for(outsider).post(url, {"email": "new@example.org"}).status_code == 404
    assert Customer.objects.get(pk=ticket.customer_id).email == "grace@example.org"


def test_the_page_keeps_its_budget_for_a_bouncing_customer(queue, agent, django_assert_max_num_queries):
    ticket = new_ticket(queue)
    Suppression.objects.create(email="grace@example.org", reason="550")
    for n in range(5):
        reply(ticket, agent, body=f"reply {n}")
    client = client_for(agent)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 200
