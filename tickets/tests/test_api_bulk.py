"""POST /api/v1/tickets/bulk/: per-ticket outcomes, the visibility rule, the cap, the values, auth."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tickets import services
from tickets.models import Status, Ticket, TicketEvent
from tickets.tests.factories import CustomerFactory, QueueFactory

pytestmark = pytest.mark.django_db

BULK = "/api/v1/tickets/bulk/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def make_tickets(queue, n):
    return [
        services.ticket_create(queue=queue, customer=CustomerFactory(), subject=f"t{i}", body="b", by=None)
        for i in range(n)
    ]


def test_bulk_close_answers_per_ticket_and_skips_another_queue_s_as_not_found(agent, queue):
    mine = make_tickets(queue, 2)
    theirs = make_tickets(QueueFactory(), 1)[0]
    services.ticket_close(ticket_id=mine[1].pk, reason="solved", by=agent)

    response = client_for(agent).post(
        BULK, {"ids": [mine[0].pk, mine[1].pk, theirs.pk], "action": "close", "reason": "spam"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["changed"] == 1 and body["skipped"] == 2
    assert body["results"] == [
        {"id": mine[0].pk, "reference": mine[0].reference, "outcome": "changed", "reason": ""},
        {"id": mine[1].pk, "reference": mine[1].reference, "outcome": "skipped", "reason": "already closed"},
        {"id": theirs.pk, "reference": theirs.reference, "outcome": "skipped", "reason": "not found"},
    ]
    assert body["summary"].startswith("1 changed; 1 skipped: already closed")
    assert Ticket.objects.get(pk=theirs.pk).status == Status.NEW
    assert not TicketEvent.objects.filter(ticket=theirs).exclude(kind__in=["created", "message"]).exists()


def test_101_ids_are_refused_with_a_clear_message_and_nothing_changes(agent, queue):
    tickets = make_tickets(queue, 101)
    events = TicketEvent.objects.count()

    response = client_for(agent).post(
        BULK, {"ids": [t.pk for t in tickets], "action": "priority", "priority": "high"}, format="json"
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["attr"] == "ids" and "At most 100 tickets can be changed at once" in error["detail"]
    assert TicketEvent.objects.count() == events
    assert set(Ticket.objects.values_list("priority", flat=True)) == {"normal"}


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"action": "explode"}, "action"),
        ({"action": "status", "status": "closed"}, "status"),
        ({"action": "move", "queue": "other"}, "queue"),  # a queue the agent does not see
    ],
)
def test_invalid_values_are_refused(agent, queue, payload, attr):
    ticket = make_tickets(queue, 1)[0]
    if payload.get("queue") == "other":
        payload = {**payload, "queue": QueueFactory().pk}

    response = client_for(agent).post(BULK, {"ids": [ticket.pk], **payload}, format="json")

    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {attr}


def test_an_action_without_its_value_is_a_400_from_the_service(agent, queue):
    ticket = make_tickets(queue, 1)[0]

    response = client_for(agent).post(BULK, {"ids": [ticket.pk], "action": "move"}, format="json")

    assert response.status_code == 400
    assert "Choose the queue" in response.json()["errors"][0]["detail"]


def test_bulk_tag_and_assign(agent, queue):
    tickets = make_tickets(queue, 2)
    client = client_for(agent)

    tagged = client.post(BULK, {"ids": [t.pk for t in tickets], "action": "tag", "tag": "vpn"}, format="json")
    assigned = client.post(
        BULK, {"ids": [t.pk for t in tickets], "action": "assign", "assignee": agent.pk}, format="json"
    )

    assert tagged.json()["changed"] == 2 and assigned.json()["changed"] == 2
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {agent.pk}
    assert TicketEvent.objects.filter(kind="tag_added").count() == 2


def test_anonymous_requests_are_refused(queue):
    ticket = make_tickets(queue, 1)[0]

    assert (
        client_for().post(BULK, {"ids": [ticket.pk], "action": "close", "reason": "spam"}, format="json").status_code
        == 401
    )
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


@pytest.mark.parametrize("ids", [[], [0], [2**70], ["1"], [True], "1,2"])
def test_ids_that_are_not_a_list_of_ticket_ids_are_a_400_on_ids(agent, ids):
    response = client_for(agent).post(BULK, {"ids": ids, "action": "close", "reason": "spam"}, format="json")

    assert response.status_code == 400
    assert [(error["attr"], error["code"]) for error in response.json()["errors"]] == [("ids", "invalid")]
