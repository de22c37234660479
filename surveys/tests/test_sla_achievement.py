"""SLA achievement beside CSAT: the team dashboard (per agent, total, per queue), My feedback and a lead's view of an
agent, the tickets CSV and the stats API. The figures are one aggregate query whatever the number of targets; the
team dashboard gains no query in all (the led queues are read once for the permission and the figures: 9 queries on
SQLite before and after), My feedback gains that one (6 → 7)."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from surveys.selectors import team_dashboard
from surveys.tests.factories import ResponseFactory
from tickets.models import Priority, QueueMembership, SlaTarget, Ticket
from tickets.sla.counts import counted, sla_counts_move
from tickets.tests.factories import MembershipFactory, TicketFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def target(queue, *, agent, kind="first_reply", result="met", ticket=None):
    ticket = ticket or TicketFactory(queue=queue, assignee=agent)
    row = SlaTarget.objects.create(
        ticket=ticket, kind=kind, started_at=ticket.created_at, target_seconds=3600, business_hours=False,
        warn_at_percent=80, priority=Priority.NORMAL, queue=queue, result=result,
        settled_at=timezone.now() - timedelta(days=2), agent=agent,
    )  # fmt: skip
    sla_counts_move(before=[], after=[counted(row)])  # as sla_refresh does when a target settles
    return row


def sla_queries(client, url) -> tuple[int, int]:
    """(all queries, queries reading the SLA figures) of one request."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured), sum("tickets_sladailycount" in q["sql"] for q in captured.captured_queries)


@pytest.fixture
def settled(queue, agent, lead):
    for result in ("met", "met", "met", "breached"):
        target(queue, agent=agent, result=result)
    target(queue, agent=agent, kind="resolution", result="breached")
    target(queue, agent=agent, result="excluded")  # spam / duplicate: left out
    target(queue, agent=lead, kind="next_reply")


def test_team_dashboard_per_agent_total_and_queue(client, queue, agent, lead, settled):
    page = client_for(lead).get(reverse("surveys:team")).content.decode()

    assert "First reply SLA" in page and "Resolution SLA" in page
    assert 'title="First reply: 3 of 4 settled targets met">75.0%' in page  # the agent's row and the queue's
    assert page.count('title="First reply: 3 of 4 settled targets met">75.0%') == 3  # agent, total, queue
    assert 'title="Next reply: 1 of 1 settled targets met">100.0%' in page  # the lead's
    assert 'title="Resolution: 0 of 1 settled targets met">0.0%' in page
    assert 'title="Next reply: no target settled in this period">—' in page  # the agent's


def test_my_feedback_and_the_leads_view_of_an_agent(client, queue, agent, lead, settled):
    other_queue = MembershipFactory(user=agent).queue  # the lead does not lead it
    target(other_queue, agent=agent, result="breached")

    own = client_for(agent).get(reverse("surveys:my-feedback")).content.decode()
    assert "SLA achievement" in own
    assert "60.0%" in own and "3 of 5 met, 2 breached" in own  # both of the agent's queues
    assert "no target settled" in own  # next reply
    as_lead = client_for(lead).get(reverse("surveys:agent-feedback", args=[agent.pk])).content.decode()
    assert "75.0%" in as_lead and "3 of 4 met, 1 breached" in as_lead  # the queue the lead leads only


@pytest.mark.parametrize("name", ["surveys:team", "surveys:my-feedback"])
def test_one_aggregate_query_whatever_the_number_of_targets(queue, agent, lead, name):
    user = lead if name == "surveys:team" else agent
    client = client_for(user)
    target(queue, agent=agent)
    small = sla_queries(client, reverse(name))
    for _ in range(30):
        target(queue, agent=agent, result="breached")
        target(queue, agent=lead, kind="resolution")

    assert sla_queries(client, reverse(name)) == small
    assert small[1] == 1
    assert small[0] == {"surveys:team": 9, "surveys:my-feedback": 7}[name] + (
        name == "surveys:team" and connection.vendor == "postgresql"
    )


def test_tickets_csv_counts_met_and_breached_per_kind(queue, agent, lead):
    ticket = TicketFactory(queue=queue, assignee=agent)
    target(queue, agent=agent, ticket=ticket)
    target(queue, agent=agent, ticket=ticket, kind="resolution", result="excluded")
    for result in ("met", "breached", "breached"):
        target(queue, agent=agent, ticket=ticket, kind="next_reply", result=result)
        SlaTarget.objects.filter(ticket=ticket, kind="next_reply", started_at=ticket.created_at).update(
            started_at=timezone.now() - timedelta(minutes=SlaTarget.objects.count())
        )

    response = client_for(lead).get(reverse("surveys:export-tickets"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    row = next(r for r in rows if r["reference"] == ticket.reference)
    assert {key: value for key, value in row.items() if key.startswith("sla_")} == {
        "sla_first_reply_met": "1", "sla_first_reply_breached": "0",
        "sla_next_reply_met": "1", "sla_next_reply_breached": "2",
        "sla_resolution_met": "0", "sla_resolution_breached": "0",
    }  # fmt: skip


def test_stats_api_gives_the_pages_figures(queue, agent, lead, outsider, settled):
    agent_body = client_for(agent).get(f"/api/v1/stats/agents/{agent.pk}/").json()
    queue_body = client_for(lead).get(f"/api/v1/stats/queues/{queue.pk}/").json()

    assert agent_body["sla"][0] == {"kind": "first_reply", "met": 3, "breached": 1, "settled": 4, "pct": 75.0}
    assert agent_body["sla"][2] == {"kind": "resolution", "met": 0, "breached": 1, "settled": 1, "pct": 0.0}
    assert queue_body["sla"][1] == {"kind": "next_reply", "met": 1, "breached": 0, "settled": 1, "pct": 100.0}
    assert client_for(outsider).get(f"/api/v1/stats/agents/{agent.pk}/").status_code == 404


def test_the_team_dashboards_rows_add_up_to_the_total_with_unassigned_and_former_agents(queue, agent, lead):
    # given closed tickets of a member, of a former member (membership gone) and without an assignee, each with a
    # settled target and a survey response
    former = MembershipFactory(queue=queue).user
    closed = timezone.now() - timedelta(days=2)
    for assignee, first_reply in ((agent, 600), (former, 1200), (None, 1800), (None, 2400)):
        response = ResponseFactory(invitation__queue=queue, invitation__agent=assignee, csat=5, ces=6)
        Ticket.objects.filter(pk=response.invitation.ticket_id).update(first_reply_seconds=first_reply)
        target(queue, agent=assignee, ticket=response.invitation.ticket, result="breached" if assignee else "met")
    QueueMembership.objects.filter(user=former).delete()
    now = timezone.now()

    # when the lead opens the team dashboard
    dashboard = team_dashboard(user=lead, start=closed - timedelta(days=1), end=now)

    # then the former agent has no row of their own, and "Unassigned or former agents" holds their figures
    assert {row.agent for row in dashboard.rows} == {agent, lead}
    others = dashboard.others
    assert others is not None
    assert others.tickets_closed == 3
    assert others.median_first_reply == 1800.0
    assert others.feedback is not None and others.feedback.responses == 3
    assert (others.sla.of("first_reply").met, others.sla.of("first_reply").breached) == (2, 1)
    # and the rows add up to the total
    rows = [*dashboard.rows, others]
    assert sum(row.tickets_closed for row in rows) == dashboard.totals.tickets_closed == 4
    assert sum(row.feedback.responses for row in rows if row.feedback) == dashboard.totals.feedback.responses
    assert sum(row.sla.settled for row in rows) == dashboard.totals.sla.settled == 4
    page = client_for(lead).get(reverse("surveys:team")).content.decode()
    assert "Unassigned or former agents" in page


def test_the_team_dashboard_has_no_others_row_when_every_ticket_is_a_members(queue, agent, lead):
    ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=5, ces=6)

    now = timezone.now()
    assert team_dashboard(user=lead, start=now - timedelta(days=7), end=now).others is None
