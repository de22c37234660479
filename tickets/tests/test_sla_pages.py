"""SLA on the agent pages and the API: the list's column, sort and views, the ticket page's SLA card, the API fields;
moving a ticket to another queue (the agent form, the API action, the thread's event text)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tickets import services
from tickets.models import CloseReason, Message, Priority, QueueMembership, SlaPolicy, Ticket, TicketEvent
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory
from tickets.views.sla import coarse_duration_text, sla_due

pytestmark = pytest.mark.django_db

LIST = reverse("tickets:list")
NOW = timezone.now().replace(microsecond=0)


def policy(queue, **targets):
    """A calendar-hours policy of the queue's normal priority, made a day ago (it applies to clocks after that)."""
    targets = targets or {"first_reply_minutes": 60}
    with time_machine.travel(timezone.now() - timedelta(days=1)):
        return SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, business_hours=False, **targets)


def ticket_created(queue, *, minutes_ago: float, subject="Printer on fire", **kwargs) -> Ticket:
    """A ticket created `minutes_ago` (its SLA clocks started then)."""
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago), tick=False):
        return services.ticket_create(
            queue=queue, customer=CustomerFactory(), subject=subject, body="Help", by=None, **kwargs
        )


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


# --- wording ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-7200, ("breached 2 h ago", "breached")),
        (-10, ("breached 1 min ago", "breached")),
        (-119, ("breached 1 min ago", "breached")),
        (35 * 60, ("due in 35 min", "soon")),
        (59, ("due in 1 min", "soon")),
        (61, ("due in 2 min", "soon")),
        (3 * 3600 + 50, ("due in 3 h", "ok")),
        (3 * 86400, ("due in 3 d", "ok")),
    ],
)
def test_due_in_words(seconds, expected):
    due = sla_due(NOW + timedelta(seconds=seconds), now=NOW)

    assert due is not None and (due.text, due.state) == expected
    assert sla_due(None, now=NOW) is None
    assert coarse_duration_text(0) == "1 min" and coarse_duration_text(3 * 3600 + 1800) == "3 h"


# --- the list -----------------------------------------------------------------------------------------------------


def test_list_column_shows_the_nearest_due_and_marks_breached_and_soon_ones(agent_client, agent, queue):
    policy(queue, first_reply_minutes=60, resolution_minutes=600)
    ticket_created(queue, minutes_ago=25, subject="soon", assignee=agent)
    ticket_created(queue, minutes_ago=180, subject="late", assignee=agent)
    answered = ticket_created(queue, minutes_ago=1, subject="answered", assignee=agent)
    services.message_add(ticket_id=answered.pk, kind=Message.Kind.PUBLIC_REPLY, body="On it", by=agent)
    QueueFactory()  # a queue without a policy
    services.ticket_create(queue=queue, customer=CustomerFactory(), subject="closed", body="b", by=agent)

    page = agent_client.get(LIST, {"view": "all"})

    text = page.text
    assert '<th scope="col" aria-sort="none"><a href="?view=all&amp;sort=sla">SLA</a></th>' in text
    assert 'class="sla sla-soon"' in text and "due in 35 min" in text
    assert 'class="sla sla-breached"' in text and "breached 2 h ago" in text
    assert "due in 9 h" in text  # the answered ticket: its resolution target is the nearest running one


def test_list_shows_a_dash_without_a_running_target(agent_client, agent, queue):
    services.ticket_create(queue=queue, customer=CustomerFactory(), subject="No policy", body="b", by=None)

    page = agent_client.get(LIST, {"view": "all"})

    assert "No SLA target running" in page.text and "sla-" not in page.text.split("<tbody>")[1]


def test_sort_by_sla_puts_tickets_without_a_target_last_both_ways(agent_client, queue):
    policy(queue)
    late, soon = ticket_created(queue, minutes_ago=90), ticket_created(queue, minutes_ago=30)
    none = services.ticket_create(queue=queue, customer=CustomerFactory(), subject="S", body="b", by=None)
    Ticket.objects.filter(pk=none.pk).update(sla_due_at=None)

    ascending = agent_client.get(LIST, {"view": "all", "sort": "sla"})
    descending = agent_client.get(LIST, {"view": "all", "sort": "-sla"})

    assert list(ascending.context["tickets"]) == [late, soon, none]
    assert list(descending.context["tickets"]) == [soon, late, none]


def test_breaching_and_breached_views_in_their_order_and_only_visible_tickets(client, agent, outsider, queue):
    policy(queue)
    other_queue = QueueMembership.objects.get(user=outsider).queue
    policy(other_queue)
    in_50, in_20 = ticket_created(queue, minutes_ago=10), ticket_created(queue, minutes_ago=40)
    ticket_created(queue, minutes_ago=-30)  # due in 90 min: neither view
    late_1h, late_3h = ticket_created(queue, minutes_ago=120), ticket_created(queue, minutes_ago=240)
    ticket_created(other_queue, minutes_ago=40)
    ticket_created(other_queue, minutes_ago=120)
    client.force_login(agent)

    soon = client.get(LIST, {"view": "sla_soon"})
    breached = client.get(LIST, {"view": "sla_breached"})

    assert list(soon.context["tickets"]) == [in_20, in_50]  # the nearest first
    assert list(breached.context["tickets"]) == [late_3h, late_1h]  # the most overdue first
    assert "Breaching in the next hour" in soon.text and ">Breached</a>" in soon.text
    assert 'aria-sort="none"' in soon.text and "▲" not in soon.text  # ordered by the view, not a chosen sort
    assert list(client.get(LIST, {"view": "sla_breached", "sort": "-sla"}).context["tickets"]) == [late_1h, late_3h]


def test_sla_views_keep_the_list_query_budget(agent_client, queue, django_assert_max_num_queries):
    policy(queue)
    for n in range(30):
        ticket_created(queue, minutes_ago=30 + n)

    with django_assert_max_num_queries(8):  # the ticket list's budget (test_views.py)
        page = agent_client.get(LIST, {"view": "sla_soon"})

    assert len(page.context["tickets"]) == 30 and page.text.count('class="sla sla-soon"') == 30


# --- the ticket page ----------------------------------------------------------------------------------------------


def test_ticket_page_lists_each_target_with_its_state(agent_client, agent, queue):
    policy(queue, first_reply_minutes=10, next_reply_minutes=30, resolution_minutes=600)
    ticket = ticket_created(queue, minutes_ago=20, assignee=agent)  # first reply: breached while running
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Hi", by=agent)
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body="More", customer=ticket.customer)
    services.ticket_set_status(ticket_id=ticket.pk, status="pending", by=agent)

    text = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).text

    card = text[text.index('id="sla-heading"') : text.index("</section>", text.index('id="sla-heading"'))]
    assert card.index("First reply") < card.index("Resolution") < card.index("Next reply")
    assert "sla-state-breached" in card and "Breached" in card and "20 min of a 10 min target (calendar hours)" in card
    assert "sla-state-paused" in card and "Paused" in card  # resolution: pending pauses it
    assert "sla-state-running" in card and "due in 30 min" in card and "30 min target (calendar hours)" in card


def test_ticket_page_without_targets_has_no_card_and_no_query_for_them(agent_client, queue):
    ticket = services.ticket_create(queue=queue, customer=CustomerFactory(), subject="S", body="b", by=None)

    with CaptureQueriesContext(connection) as queries:
        page = agent_client.get(reverse("tickets:detail", args=[ticket.pk]))

    assert 'id="sla-heading"' not in page.text
    assert not [q for q in queries if q["sql"].startswith('SELECT "tickets_slatarget"')]  # only the EXISTS flag


def test_ticket_page_shows_met_and_excluded(agent_client, agent, queue):
    policy(queue, first_reply_minutes=60, resolution_minutes=600)
    answered, spam = ticket_created(queue, minutes_ago=5, assignee=agent), ticket_created(queue, minutes_ago=5)
    services.message_add(ticket_id=answered.pk, kind=Message.Kind.PUBLIC_REPLY, body="Hi", by=agent)
    services.ticket_close(ticket_id=spam.pk, reason=CloseReason.SPAM, by=agent)

    met = agent_client.get(reverse("tickets:detail", args=[answered.pk])).text
    excluded = agent_client.get(reverse("tickets:detail", args=[spam.pk])).text

    assert "sla-state-met" in met and "5 min of a 1 h target (calendar hours)" in met and "sla-state-running" in met
    assert excluded.count("sla-state-excluded") == 2 and "Excluded" in excluded


# --- moving a ticket ----------------------------------------------------------------------------------------------


@pytest.fixture
def second_queue(agent):
    return MembershipFactory(user=agent, queue=QueueFactory(name="Billing")).queue


def test_move_from_the_ticket_page(agent_client, agent, queue, second_queue):
    policy(second_queue, first_reply_minutes=15)
    ticket = ticket_created(queue, minutes_ago=5, assignee=agent)
    detail = reverse("tickets:detail", args=[ticket.pk])
    page = agent_client.get(detail)
    assert f'action="{reverse("tickets:move", args=[ticket.pk])}"' in page.text
    assert f'<option value="{second_queue.pk}">Billing</option>' in page.text

    response = agent_client.post(reverse("tickets:move", args=[ticket.pk]), {"queue": second_queue.pk}, follow=True)

    ticket.refresh_from_db()
    assert ticket.queue == second_queue and ticket.assignee == agent
    assert ticket.sla_due_at == ticket.created_at + timedelta(minutes=15)
    assert f"Moved from {queue.name} to Billing." in response.text
    assert f"Queue changed: {queue.name} → Billing" in response.text
    assert "due in 10 min" in response.text


def test_move_to_a_queue_the_agent_does_not_work_in_is_refused(agent_client, queue, outsider):
    ticket = ticket_created(queue, minutes_ago=1)
    foreign = QueueMembership.objects.get(user=outsider).queue

    response = agent_client.post(reverse("tickets:move", args=[ticket.pk]), {"queue": foreign.pk})

    assert response.status_code == 400 and "Select a valid choice" in response.text
    assert Ticket.objects.get(pk=ticket.pk).queue == queue
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.QUEUE).exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_move_out_of_sight_goes_back_to_the_list(agent_client, agent, queue, second_queue, monkeypatch, htmx):
    ticket = ticket_created(queue, minutes_ago=1)

    def move_and_lose_membership(**kwargs):  # e.g. an admin took the agent off the queue meanwhile
        moved = services.ticket_move(**kwargs)
        QueueMembership.objects.filter(user=agent, queue=second_queue).delete()
        return moved

    monkeypatch.setattr("tickets.views.actions.ticket_move", move_and_lose_membership)
    headers = {"HX-Request": "true"} if htmx else {}

    response = agent_client.post(reverse("tickets:move", args=[ticket.pk]), {"queue": second_queue.pk}, headers=headers)

    if htmx:
        assert response.status_code == 204 and response["HX-Redirect"] == LIST
    else:
        assert response.status_code == 302 and response["Location"] == LIST
    assert "Moved from" in agent_client.get(LIST).text


def test_move_needs_csrf(agent, queue, second_queue):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    ticket = ticket_created(queue, minutes_ago=1)

    assert client.post(reverse("tickets:move", args=[ticket.pk]), {"queue": second_queue.pk}).status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).queue == queue


# --- the API ------------------------------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_ticket_has_sla_due_at_and_its_detail_the_targets(agent, queue):
    policy(queue, first_reply_minutes=60, resolution_minutes=600)
    ticket = ticket_created(queue, minutes_ago=10)

    listed = api(agent).get("/api/v1/tickets/").json()["results"][0]
    detail = api(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()

    due = (ticket.created_at + timedelta(minutes=60)).isoformat().replace("+00:00", "Z")
    assert listed["sla_due_at"] == detail["sla_due_at"] == due and "sla_targets" not in listed
    first, resolution = detail["sla_targets"]
    assert first == {
        "kind": "first_reply", "started_at": ticket.created_at.isoformat().replace("+00:00", "Z"), "due_at": due,
        "target_seconds": 3600, "business_hours": False, "elapsed_seconds": 0, "result": "", "settled_at": None,
    }  # fmt: skip
    assert resolution["kind"] == "resolution" and resolution["target_seconds"] == 36000


def test_api_detail_reads_the_targets_in_one_query(agent, queue, django_assert_max_num_queries):
    policy(queue, first_reply_minutes=60, next_reply_minutes=30, resolution_minutes=600)
    ticket = ticket_created(queue, minutes_ago=10)
    for n in range(5):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body=f"r{n}", by=agent)
        services.message_add(
            ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body=f"c{n}", customer=ticket.customer
        )

    with django_assert_max_num_queries(2):
        detail = api(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()

    assert len(detail["sla_targets"]) == 7


def test_api_move(agent, queue, second_queue, outsider):
    policy(second_queue, first_reply_minutes=15)
    ticket = ticket_created(queue, minutes_ago=5)
    foreign = QueueMembership.objects.get(user=outsider).queue

    refused = api(agent).post(f"/api/v1/tickets/{ticket.pk}/move/", {"queue": foreign.pk}, format="json")
    moved = api(agent).post(f"/api/v1/tickets/{ticket.pk}/move/", {"queue": second_queue.pk}, format="json")
    hidden = api(outsider).post(f"/api/v1/tickets/{ticket.pk}/move/", {"queue": foreign.pk}, format="json")

    assert refused.status_code == 400 and refused.json()["errors"][0]["attr"] == "queue"
    assert moved.status_code == 200 and moved.json()["queue"] == second_queue.pk
    assert [t["kind"] for t in moved.json()["sla_targets"]] == ["first_reply"]
    assert hidden.status_code == 404
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.QUEUE).count() == 1
