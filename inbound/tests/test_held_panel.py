"""The ticket page's unverified (held) emails: shown to the ticket's agents, accepted or rejected by POST."""

import pytest
from django.test import Client
from django.urls import reverse

from inbound.models import InboundEmail
from inbound.routing import inbound_route
from inbound.store import inbound_store
from tickets import services
from tickets.models import Message, TicketCC
from tickets.tests.factories import CustomerFactory

from .mail import email_bytes

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


@pytest.fixture
def ticket(queue):
    customer = CustomerFactory(email="jo@customer.example", name="Jo")
    return services.ticket_create(queue=queue, customer=customer, subject="Printer on fire", body="Help", by=None)


def held_email(ticket, *, sender="Jo <jo@customer.example>", body="It is fixed, thanks."):
    """An email with only the ticket's subject tag (no In-Reply-To): it cannot be verified, so it is held."""
    raw = email_bytes(sender=sender, subject=f"Re: [{ticket.reference}] Printer on fire", body=body)
    row, _ = inbound_store(raw=raw, queue=ticket.queue, channel="smtp", recipient=ticket.queue.reply_from_email)
    inbound_route(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD, row.outcome
    return row


def decide(client, row, decision):
    return client.post(reverse("inbound:held-decide", args=[row.pk]), {"decision": decision})


@pytest.fixture
def agent_client(agent):
    client = Client()
    client.force_login(agent)
    return client


def test_the_ticket_page_shows_the_held_email_with_its_text_escaped(agent_client, ticket):
    held_email(ticket, sender="Mallory <mallory@elsewhere.example>", body=f"Pay here {XSS}")

    page = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).text

    assert "Unverified email" in page and "mallory@elsewhere.example" in page
    assert "Pay here &lt;script&gt;alert(1)&lt;/script&gt;" in page and XSS not in page
    assert 'name="decision" value="accept"' in page and 'name="decision" value="reject"' in page


def test_accepting_adds_the_customers_email_to_the_ticket(agent_client, agent, ticket):
    row = held_email(ticket)

    response = decide(agent_client, row, "accept")

    assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.ACCEPTED and row.decided_by == agent
    message = ticket.messages.last()
    assert (message.kind, message.body, message.author_customer) == (
        Message.Kind.CUSTOMER_MESSAGE,
        "It is fixed, thanks.",
        ticket.customer,
    )
    assert row.ticket_message == message
    assert not TicketCC.objects.exists()  # the customer needs no CC
    page = agent_client.get(response["Location"]).text
    assert "Unverified email" not in page and "Accepted by" in page


def test_accepting_another_senders_email_copies_them_on_the_ticket(agent_client, ticket):
    row = held_email(ticket, sender="Sam <sam@customer.example>")

    decide(agent_client, row, "accept")

    assert list(ticket.ccs.values_list("email", flat=True)) == ["sam@customer.example"]
    assert ticket.messages.last().author_customer.email == "sam@customer.example"


def test_rejecting_marks_it_rejected_and_adds_nothing(agent_client, agent, ticket):
    row = held_email(ticket)

    response = decide(agent_client, row, "reject")

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.REJECTED and row.decided_by == agent
    assert ticket.messages.count() == 1


def test_neither_accept_nor_reject_changes_nothing(agent_client, ticket):
    row = held_email(ticket)

    response = decide(agent_client, row, "maybe")

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD


def test_a_decided_email_cannot_be_decided_again(agent_client, ticket):
    row = held_email(ticket)
    decide(agent_client, row, "reject")

    assert decide(agent_client, row, "accept").status_code == 404
    assert ticket.messages.count() == 1


def test_get_is_not_allowed(agent_client, ticket):
    row = held_email(ticket)

    assert agent_client.get(reverse("inbound:held-decide", args=[row.pk])).status_code == 405


def test_csrf_is_required(agent, ticket):
    row = held_email(ticket)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    assert decide(client, row, "accept").status_code == 403
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD


def test_an_agent_of_another_queue_gets_404(outsider, ticket):
    row = held_email(ticket)
    client = Client()
    client.force_login(outsider)

    assert decide(client, row, "accept").status_code == 404
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD
    assert "Unverified email" not in client.get(reverse("tickets:detail", args=[ticket.pk])).text


def test_anonymous_users_are_sent_to_login(client, ticket):
    row = held_email(ticket)

    response = decide(client, row, "accept")

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
