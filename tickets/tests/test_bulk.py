"""Bulk changes (tickets.services.bulk): each ticket through its one-ticket service, the visibility rule, the cap,
the summary, the queries per ticket; the list's bulk form."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.errors import DomainError
from tickets import services
from tickets.models import CloseReason, Priority, SlaPolicy, Status, Ticket, TicketEvent, TicketTag
from tickets.tests.factories import AdminFactory, CustomerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db

# The stated bound: queries per ticket of a bulk change, whatever the action (a close is the heaviest: its history,
# metrics, SLA targets and the survey receiver's invitation; counted with the test's savepoints).
QUERIES_PER_TICKET = 25
BULK_OVERHEAD = 3  # the visible tickets' read, and the tag's or queue's own reads


def make_tickets(queue, n):
    return [
        services.ticket_create(queue=queue, customer=CustomerFactory(), subject=f"t{i}", body="b", by=None)
        for i in range(n)
    ]


def bulk(tickets, action, by, **values):
    ids = [ticket if isinstance(ticket, int) else ticket.pk for ticket in tickets]
    return services.tickets_bulk_change(ticket_ids=ids, action=action, by=by, values=services.BulkValues(**values))


def snapshot():
    return (
        list(Ticket.objects.order_by("pk").values_list("pk", "status", "priority", "queue_id", "assignee_id")),
        TicketEvent.objects.count(),
        TicketTag.objects.count(),
    )


def test_bulk_close_changes_each_ticket_with_its_events_and_skips_the_closed(agent, queue):
    tickets = make_tickets(queue, 4)
    services.ticket_close(ticket_id=tickets[0].pk, reason=CloseReason.SOLVED, by=agent)

    result = bulk(tickets, "close", agent, reason="duplicate")

    assert [(o.ticket_id, o.changed, o.reason) for o in result.outcomes] == [
        (tickets[0].pk, False, "already closed"),
        *((t.pk, True, "") for t in tickets[1:]),
    ]
    assert result.summary() == f"3 changed; 1 skipped: already closed ({tickets[0].reference})."
    closed = Ticket.objects.filter(pk__in=[t.pk for t in tickets[1:]])
    assert {(t.status, t.close_reason) for t in closed} == {("closed", "duplicate")}
    assert all(t.resolution_seconds is not None for t in closed)  # the close's metrics, as one close stores them
    assert TicketEvent.objects.filter(kind="status", new_value="closed", actor=agent).count() == 4


def test_transitions_are_enforced_per_ticket(agent, queue):
    tickets = make_tickets(queue, 3)
    services.ticket_close(ticket_id=tickets[1].pk, reason=CloseReason.SOLVED, by=agent)

    result = bulk(tickets, "status", agent, status="pending")

    assert result.summary() == (
        f"2 changed; 1 skipped: this ticket is closed: reopen it first ({tickets[1].reference})."
    )
    assert list(Ticket.objects.order_by("pk").values_list("status", flat=True)) == ["pending", "closed", "pending"]


def test_a_ticket_of_another_queue_is_skipped_as_not_found_and_unchanged(agent, queue):
    mine = make_tickets(queue, 1)
    theirs = make_tickets(QueueFactory(), 1)
    before = snapshot()

    for action, values in [
        ("close", {"reason": "spam"}),
        ("status", {"status": "on_hold"}),
        ("priority", {"priority": "urgent"}),
        ("assign", {"assignee": agent}),
        ("tag", {"tag": "x"}),
        ("untag", {"tag": "x"}),
    ]:
        result = bulk([theirs[0], 999_999], action, agent, **values)
        assert [(o.changed, o.reason) for o in result.outcomes] == [(False, "not found"), (False, "not found")]

    assert snapshot()[0] == before[0] and snapshot()[1] == before[1]
    assert Ticket.objects.get(pk=mine[0].pk).status == Status.NEW


def test_move_and_assign_need_the_agent_and_assignee_in_the_ticket_queue(agent, queue):
    other = QueueFactory()
    elsewhere = MembershipFactory(queue=other).user
    tickets = make_tickets(queue, 2)

    moved = bulk(tickets, "move", agent, queue=other)  # the agent does not work in the target queue
    assigned = bulk(tickets, "assign", agent, assignee=elsewhere)

    assert {o.reason for o in moved.outcomes} == {"you are not a member of this ticket's queue"}
    assert {o.reason for o in assigned.outcomes} == {f"{elsewhere.username} is not a member of this queue"}
    assert set(Ticket.objects.values_list("queue_id", "assignee_id")) == {(queue.pk, None)}


def test_assign_priority_move_and_tags(agent, queue):
    other = QueueFactory()
    MembershipFactory(queue=other, user=agent)
    tickets = make_tickets(queue, 2)

    assert bulk(tickets, "assign", agent, assignee=agent).summary() == "2 changed."
    assert bulk(tickets, "assign", agent, assignee=agent).summary().startswith("0 changed; 2 skipped: already assigned")
    assert bulk(tickets, "priority", agent, priority="high").summary() == "2 changed."
    assert bulk(tickets, "tag", agent, tag="Outage").summary() == "2 changed."
    assert bulk(tickets[:1], "untag", agent, tag="outage").summary() == "1 changed."
    assert bulk(tickets, "move", agent, queue=other).summary() == "2 changed."

    rows = set(Ticket.objects.values_list("queue_id", "assignee_id", "priority"))
    assert rows == {(other.pk, agent.pk, Priority.HIGH)}
    assert list(TicketTag.objects.values_list("ticket_id", flat=True)) == [tickets[1].pk]
    kinds = TicketEvent.objects.filter(ticket=tickets[0]).values_list("kind", flat=True)
    assert list(kinds) == ["created", "message", "assignee", "priority", "tag_added", "tag_removed", "queue"]


def test_more_than_100_tickets_are_refused_and_nothing_changes(agent, queue):
    tickets = make_tickets(queue, 2)
    ids = [tickets[0].pk, tickets[1].pk, *range(10_000, 10_099)]  # 101 distinct ids
    before = snapshot()

    with pytest.raises(DomainError, match="At most 100 tickets can be changed at once; 101 were selected"):
        bulk(ids, "close", agent, reason="solved")

    assert snapshot() == before
    assert len(bulk([*ids[:100], ids[0]], "priority", agent, priority="low").outcomes) == 100  # repeats count once


@pytest.mark.parametrize(
    ("action", "values", "message"),
    [
        ("close", {"reason": "nope"}, "Unknown close reason"),
        ("status", {"status": "closed"}, "Close a ticket with a close reason"),
        ("priority", {}, "Unknown priority"),
        ("move", {}, "Choose the queue"),
        ("tag", {"tag": "a,b"}, "letters, digits"),
        ("explode", {}, "Unknown bulk action"),
    ],
)
def test_an_action_without_a_valid_value_is_refused_before_any_ticket(agent, queue, action, values, message):
    tickets = make_tickets(queue, 2)
    before = snapshot()

    with pytest.raises(DomainError, match=message):
        bulk(tickets, action, agent, **values)

    assert snapshot() == before


@pytest.mark.parametrize(
    ("action", "values"),
    [
        ("close", {"reason": "solved"}),
        ("status", {"status": "pending"}),
        ("priority", {"priority": "high"}),
        ("assign", {"assignee": "agent"}),
        ("move", {"queue": "other"}),
        ("tag", {"tag": "vpn"}),
    ],
)
def test_a_bulk_change_stays_within_its_queries_per_ticket(agent, queue, action, values):
    SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, business_hours=False)
    other = QueueFactory()
    MembershipFactory(queue=other, user=agent)
    values = {name: {"agent": agent, "other": other}.get(value, value) for name, value in values.items()}
    counts = {}
    for n in (2, 6):
        tickets = make_tickets(queue, n)
        with CaptureQueriesContext(connection) as queries:
            result = bulk(tickets, action, agent, **values)
        assert len(result.changed) == n
        counts[n] = len(queries)
        assert counts[n] <= BULK_OVERHEAD + QUERIES_PER_TICKET * n

    assert (counts[6] - counts[2]) / 4 <= QUERIES_PER_TICKET


def test_an_admin_may_change_any_queue(queue):
    admin = AdminFactory()
    tickets = make_tickets(QueueFactory(), 2)

    assert bulk(tickets, "close", admin, reason="spam").summary() == "2 changed."


# --- the list's bulk form ------------------------------------------------------------------------------------------

BULK = reverse("tickets:bulk")
LIST = reverse("tickets:list")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def flash(response):
    return [str(message) for message in response.context["messages"]]


def test_the_list_posts_the_checked_tickets_and_shows_the_summary(agent_client, agent, queue):
    tickets = make_tickets(queue, 3)
    theirs = make_tickets(QueueFactory(), 1)[0]
    services.ticket_close(ticket_id=tickets[2].pk, reason=CloseReason.SOLVED, by=agent)
    page = agent_client.get(LIST, {"view": "all", "priority": "normal"})
    assert f'name="ids" value="{tickets[0].pk}"' in page.text and "data-bulk-all" in page.text

    response = agent_client.post(
        BULK,
        {"ids": [t.pk for t in tickets] + [theirs.pk], "action": "status", "status": "on_hold",
         "back": "view=all&priority=normal"},
    )  # fmt: skip

    assert response.status_code == 302 and response["Location"] == f"{LIST}?view=all&priority=normal"
    [summary] = flash(agent_client.get(response["Location"]))
    assert summary == (
        f"2 changed; 1 skipped: this ticket is closed: reopen it first ({tickets[2].reference}); "
        f"1 skipped: not found ({theirs.reference})."
    )
    assert Ticket.objects.get(pk=theirs.pk).status == Status.NEW
    assert list(Ticket.objects.filter(queue=queue).order_by("pk").values_list("status", flat=True)) == [
        "on_hold",
        "on_hold",
        "closed",
    ]


def test_the_list_form_refuses_101_tickets_and_changes_nothing(agent_client, agent, queue):
    tickets = make_tickets(queue, 101)
    before = snapshot()

    response = agent_client.post(
        BULK, {"ids": [t.pk for t in tickets], "action": "close", "reason": "solved"}, follow=True
    )

    assert flash(response) == ["Nothing was changed. At most 100 tickets can be changed at once; 101 were selected."]
    assert snapshot() == before


def test_the_bulk_form_needs_a_selection_an_action_and_csrf(agent, queue, client):
    ticket = make_tickets(queue, 1)[0]
    client.force_login(agent)
    before = snapshot()

    nothing = client.post(BULK, {"action": "close", "reason": "solved"}, follow=True)
    no_action = client.post(BULK, {"ids": [ticket.pk]}, follow=True)
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(agent)

    assert flash(nothing) == ["Nothing was changed. Select at least one ticket."]
    assert flash(no_action)[0].startswith("Nothing was changed. With the selected tickets: This field is required.")
    assert forged.post(BULK, {"ids": [ticket.pk], "action": "close", "reason": "solved"}).status_code == 403
    assert client.get(BULK).status_code == 405
    assert snapshot() == before


def test_bulk_tag_from_the_list_and_back_to_another_address_is_not_followed(agent_client, agent, queue):
    tickets = make_tickets(queue, 2)

    response = agent_client.post(
        BULK, {"ids": [t.pk for t in tickets], "action": "tag", "tag": "Outage", "back": "https://evil.example/"}
    )

    assert response["Location"].startswith(f"{LIST}?")  # the list's own URL, whatever "back" holds
    assert TicketTag.objects.filter(tag__name="Outage").count() == 2
