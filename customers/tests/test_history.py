"""The ticket page's customer history card: its partial (only what the agent may see; the same queries for a
customer with 500 tickets as with 5) and the card itself, which costs the ticket page no query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Vip
from outbox.models import Suppression
from sentiment.models import TextSentiment
from surveys import services as surveys
from surveys.models import NpsSurvey, SurveyOptOut
from surveys.tests.factories import FollowUpFactory, ResponseFactory
from tickets import services as tickets
from tickets.models import CloseReason, Message, Priority, SlaPolicy, Status, Ticket
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_ticket(queue, customer, subject="Printer on fire") -> Ticket:
    return tickets.ticket_create(queue=queue, customer=customer, subject=subject, body="Help", by=None)


def history_url(ticket) -> str:
    return reverse("customers:history", args=[ticket.pk])


def scored(ticket, *, label: str, score: float | None, minutes_ago: int) -> TextSentiment:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    message = Message.objects.create(
        ticket=ticket, kind=Message.Kind.CUSTOMER_MESSAGE, author_customer=ticket.customer, body="text"
    )
    return TextSentiment.objects.create(
        message=message, ticket=ticket, queue=ticket.queue, customer=ticket.customer, label=label, score=score,
        version="t", text_digest="x", written_at=at,
    )  # fmt: skip


def nps(customer, queue, *, score: int, comment: str = "", flagged_automated: bool = False) -> NpsSurvey:
    now = timezone.now()
    return NpsSurvey.objects.create(
        customer=customer, queue=queue, status=NpsSurvey.Status.ANSWERED, send_after=now, sent_at=now,
        expires_at=now + timedelta(days=14), score=score, comment=comment, answered_at=now,
        flagged_automated=flagged_automated,
    )  # fmt: skip


def bare_tickets(queue, customer, n: int) -> None:
    """`n` bare ticket rows of the customer, every third closed (the query count must not see how many)."""
    closed = {"status": Status.CLOSED, "close_reason": CloseReason.SOLVED, "closed_at": timezone.now()}
    rows = [Ticket(queue=queue, customer=customer, subject=f"old {i}", **(closed if i % 3 else {})) for i in range(n)]
    Ticket.objects.bulk_create(rows)


def test_the_partial_lists_other_tickets_open_first_with_status_sla_and_counts(queue, agent, customer):
    SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, business_hours=False)
    ticket = new_ticket(queue, customer, subject="This one")
    closed = new_ticket(queue, customer, subject="Closed earlier")
    tickets.ticket_close(ticket_id=closed.pk, reason=CloseReason.SOLVED, by=agent)
    running = new_ticket(queue, customer, subject="Still open")
    new_ticket(queue, CustomerFactory(), subject="Someone else's")

    card = client_for(agent).get(history_url(ticket)).text

    assert "This one" not in card and "Someone else" not in card
    assert card.index("Still open") < card.index("Closed earlier")  # open first
    assert "2 other tickets, 1 open" in card
    assert "SLA due in 1 h" in card and "status-closed" in card and "status-new" in card
    assert reverse("tickets:detail", args=[running.pk]) in card
    assert f"customer={customer.email.replace('@', '%40')}" in card and "view=all" in card


def test_only_tickets_the_agent_may_see_are_listed_or_counted(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    new_ticket(QueueFactory(), customer, subject="In a queue of others")

    card = client_for(agent).get(history_url(ticket)).text

    assert "In a queue of others" not in card and "No other ticket you can see." in card


def test_the_partial_shows_answers_followups_sentiment_opt_out_bounce_and_vip(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    response = ResponseFactory(invitation__queue=queue, invitation__customer=customer, csat=2, ces=3)
    ResponseFactory(invitation__queue=QueueFactory(), invitation__customer=customer, csat=5, ces=7)  # not visible
    open_one = FollowUpFactory(queue=queue, invitation=response.invitation, ticket=response.invitation.ticket)
    other_agent = MembershipFactory(queue=queue).user
    owned = ResponseFactory(invitation__queue=queue, invitation__customer=customer, csat=1, ces=1)
    theirs = FollowUpFactory(
        queue=queue, invitation=owned.invitation, ticket=owned.invitation.ticket, owner=other_agent
    )
    scored(ticket, label="negative", score=-0.7, minutes_ago=30)
    scored(ticket, label="positive", score=0.8, minutes_ago=10)
    detractor = nps(customer, queue, score=6, comment=f"Too slow {XSS}")
    nps_followup = surveys.nps_followup_open(nps_id=detractor.pk)  # no lead: unassigned, the queue's agents see it
    nps(customer, QueueFactory(), score=10, comment="")  # asked for another queue: not visible
    nps(customer, queue, score=3, flagged_automated=True)  # a link scanner's burst: not the customer's
    SurveyOptOut.objects.create(customer=customer)
    Suppression.objects.create(email=customer.email.upper(), reason="550 5.1.1 no such user")
    Vip.objects.create(customer=customer, set_by=UserFactory(first_name="Grace", last_name="Hopper"))

    card = client_for(agent).get(history_url(ticket)).text

    assert "CSAT 2/5 · CES 3/7" in card and "CSAT 1/5 · CES 1/7" in card and "CSAT 5/5" not in card
    assert "NPS 6/10" in card and "(detractor: “Too slow &lt;script&gt;" in card
    assert "NPS 10/10" not in card and "NPS 3/10" not in card
    assert reverse("surveys:followup-detail", args=[open_one.pk]) in card
    assert reverse("surveys:followup-detail", args=[theirs.pk]) not in card  # another agent's: not visible
    assert reverse("surveys:followup-detail", args=[nps_followup.pk]) in card and "of their NPS answer" in card
    assert "sentiment-negative" in card and "sentiment-positive" in card
    assert "Trend over their latest texts: <strong>improving</strong>" in card
    assert "Opted out of surveys on" in card
    assert "Their address bounces" in card
    assert "VIP since" in card and "marked by Grace Hopper" in card


def test_a_customer_with_nothing_gets_plain_words(queue, agent, customer):
    card = client_for(agent).get(history_url(new_ticket(queue, customer))).text

    for words in ("No other ticket", "No survey answer.", "No open follow-up", "Nothing of theirs scored yet.",
                  "Gets surveys", "does not bounce"):  # fmt: skip
        assert words in card
    assert "VIP since" not in card


def test_the_partial_is_only_for_agents_who_see_the_ticket_and_only_a_get(queue, agent, outsider, customer, client):
    ticket = new_ticket(queue, customer)

    assert client_for(outsider).get(history_url(ticket)).status_code == 404
    assert client.get(history_url(ticket)).status_code == 302  # to the login page
    assert client_for(agent).post(history_url(ticket)).status_code == 405


def test_the_partial_writes_nothing(queue, agent, customer):
    ticket = new_ticket(queue, customer)
    client = client_for(agent)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(history_url(ticket)).status_code == 200

    assert [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}] == []


def _partial_queries(queue, agent, others: int) -> int:
    customer = CustomerFactory()
    ticket = new_ticket(queue, customer)
    bare_tickets(queue, customer, others)
    for _ in range(2):
        response = ResponseFactory(invitation__queue=queue, invitation__customer=customer)
        FollowUpFactory(queue=queue, invitation=response.invitation, ticket=response.invitation.ticket)
    scored(ticket, label="negative", score=-0.5, minutes_ago=5)
    for score in (4, 9):
        nps(customer, queue, score=score)
    surveys.nps_followup_open(nps_id=nps(customer, queue, score=0).pk)
    Vip.objects.create(customer=customer, set_by=agent)
    client = client_for(agent)
    with CaptureQueriesContext(connection) as queries:
        card = client.get(history_url(ticket)).text
    assert f"{others + 2} other tickets" in card
    return len(queries)


def test_the_partial_costs_the_same_queries_for_5_and_500_tickets(queue, agent):
    five, five_hundred = _partial_queries(queue, agent, 5), _partial_queries(queue, agent, 500)

    assert five == five_hundred <= 10, (five, five_hundred)


# --- the card on the ticket page ------------------------------------------------------------------------------------


def _page_queries(client, ticket) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("tickets:detail", args=[ticket.pk])).text
    return len(queries), page


def test_the_card_costs_the_ticket_page_no_query_whatever_the_customer_has(queue, agent):
    plain = new_ticket(queue, CustomerFactory())
    busy_customer = CustomerFactory()
    busy = new_ticket(queue, busy_customer)
    bare_tickets(queue, busy_customer, 500)
    Vip.objects.create(customer=busy_customer, set_by=agent)
    SurveyOptOut.objects.create(customer=busy_customer)
    client = client_for(agent)

    plain_count, plain_page = _page_queries(client, plain)
    busy_count, busy_page = _page_queries(client, busy)

    assert plain_count == busy_count <= 12
    assert "Customer history" in plain_page and "Mark the customer VIP" in plain_page
    assert 'badge-vip">VIP</span>' in busy_page and "Clear the VIP flag" in busy_page
    assert f'hx-get="{history_url(busy)}"' in busy_page and f'href="{history_url(busy)}"' in busy_page
    assert "csrfmiddlewaretoken" in busy_page


def test_customer_names_and_subjects_are_escaped(queue, agent):
    customer = CustomerFactory(name=XSS)
    ticket = new_ticket(queue, customer, subject=XSS)
    new_ticket(queue, customer, subject=XSS)
    Vip.objects.create(customer=customer, set_by=UserFactory(first_name=XSS, last_name=""))
    client = client_for(agent)

    for text in (client.get(history_url(ticket)).text, client.get(reverse("tickets:detail", args=[ticket.pk])).text):
        assert XSS not in text
        assert "&lt;script&gt;" in text
