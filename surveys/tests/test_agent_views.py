"""Agent pages: My feedback, follow-ups, team dashboard, CSV exports — rendering, permissions, CSRF, query budgets,
escaping."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys.models import FollowUp, FollowUpEvent, TicketRating
from surveys.tests.factories import FollowUpFactory, InvitationFactory, ResponseFactory
from surveys.views.team import neutralise
from tickets import services
from tickets.models import QueueMembership
from tickets.tests.factories import MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db
XSS = '<script>alert("x")</script>'


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_responses(queue, agent, n, **kwargs):
    sent = timezone.now() - timedelta(days=3)
    return [
        ResponseFactory(invitation__queue=queue, invitation__agent=agent, invitation__sent_at=sent, **kwargs)
        for _ in range(n)
    ]


@pytest.mark.parametrize(
    "name, args",
    [
        ("surveys:my-feedback", []),
        ("surveys:my-followups", []),
        ("surveys:team-followups", []),
        ("surveys:team", []),
        ("surveys:export-tickets", []),
        ("surveys:export-responses", []),
    ],
)
def test_anonymous_is_sent_to_login(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_every_page_renders_for_a_lead(queue, agent, lead):
    make_responses(queue, agent, 12, comment="Great help")
    followup = FollowUpFactory(queue=queue, owner=agent)
    client = client_for(lead)
    for url in (
        reverse("surveys:my-feedback"),
        reverse("surveys:agent-feedback", args=[agent.pk]),
        reverse("surveys:my-followups"),
        reverse("surveys:team-followups"),
        reverse("surveys:followup-detail", args=[followup.pk]),
        reverse("surveys:team"),
        reverse("surveys:team") + "?period=7",
        reverse("surveys:team") + "?period=custom&from=2020-01-01&to=2020-03-01",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    nav = client.get(reverse("surveys:my-feedback")).content.decode()
    assert 'href="/team/"' in nav


def test_my_feedback_shows_figures_with_enough_responses(queue, agent):
    make_responses(queue, agent, 10, csat=5, ces=6, comment="Thanks!")
    make_responses(queue, agent, 2, csat=2, ces=3)
    page = client_for(agent).get(reverse("surveys:my-feedback")).content.decode()
    assert "83.3%" in page  # 10 of 12 satisfied
    assert "Not enough responses" not in page
    assert "Thanks!" in page
    assert "<svg" in page and "<title" in page
    assert 'href="/team/"' not in page  # an agent gets no Team link


def test_below_the_minimum_sample_no_percentages(queue, agent):
    make_responses(queue, agent, 4, csat=5)
    page = client_for(agent).get(reverse("surveys:my-feedback")).content.decode()
    assert "Not enough responses (4 of 10)" in page
    assert "100.0%" not in page


def test_period_filter_validates_input(agent):
    client = client_for(agent)
    response = client.get(
        reverse("surveys:my-feedback"), {"period": "custom", "from": "2026-05-01", "to": "2026-04-01"}
    )
    assert response.status_code == 400
    assert "The start date must be on or before the end date." in response.content.decode()
    response = client.get(reverse("surveys:my-feedback"), {"period": "custom", "from": "not-a-date", "to": ""})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    assert client.get(reverse("surveys:my-feedback"), {"period": "90"}).status_code == 200


def test_htmx_period_change_returns_the_figures_only(agent):
    response = client_for(agent).get(
        reverse("surveys:my-feedback"), {"period": "7"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="feedback"
    )
    assert response.status_code == 200
    assert b'id="feedback"' in response.content and b"<html" not in response.content


def test_agent_feedback_page_only_for_leads_of_their_queue(queue, agent, lead, outsider, admin_user):
    url = reverse("surveys:agent-feedback", args=[agent.pk])
    assert client_for(lead).get(url).status_code == 200
    assert client_for(admin_user).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 404  # another queue
    colleague = MembershipFactory(queue=queue).user
    assert client_for(colleague).get(url).status_code == 404  # an agent is not a lead
    other_lead = MembershipFactory(role=QueueMembership.Role.LEAD).user
    assert client_for(other_lead).get(url).status_code == 404  # a lead of another queue


def test_another_queues_follow_up_is_404(queue, agent, outsider):
    followup = FollowUpFactory(queue=queue, owner=agent)
    client = client_for(outsider)
    assert client.get(reverse("surveys:followup-detail", args=[followup.pk])).status_code == 404
    response = client.post(reverse("surveys:followup-contacted", args=[followup.pk]), {"note": "x"})
    assert response.status_code == 404
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.OPEN


def test_team_dashboard_is_for_leads_and_admins(queue, agent, lead, admin_user):
    assert client_for(agent).get(reverse("surveys:team")).status_code == 404
    assert client_for(agent).get(reverse("surveys:export-tickets")).status_code == 404
    assert client_for(lead).get(reverse("surveys:team")).status_code == 200
    assert client_for(admin_user).get(reverse("surveys:team")).status_code == 200


def test_actions_need_csrf(queue, agent):
    followup = FollowUpFactory(queue=queue, owner=agent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(reverse("surveys:followup-contacted", args=[followup.pk]), {"note": "Called"})
    assert response.status_code == 403
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.OPEN

    page = client.get(reverse("surveys:followup-detail", args=[followup.pk]))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("surveys:followup-contacted", args=[followup.pk]), {"note": "Called", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_resolve_through_the_page_flashes_and_redirects(queue, agent):
    followup = FollowUpFactory(queue=queue, owner=agent)
    client = client_for(agent)
    url = reverse("surveys:followup-resolve", args=[followup.pk])

    response = client.post(url, {"outcome": "", "root_cause": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.OPEN

    response = client.post(url, {"outcome": "Refunded", "root_cause": "policy"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("surveys:followup-detail", args=[followup.pk])
    assert "Follow-up resolved." in response.content.decode()
    followup.refresh_from_db()
    assert (followup.status, followup.root_cause) == (FollowUp.Status.RESOLVED, "policy")

    # a second action on a resolved follow-up: inline error, nothing changes
    response = client.post(reverse("surveys:followup-unreachable", args=[followup.pk]), {"note": "x"})
    assert response.status_code == 400
    assert "This follow-up is already resolved." in response.content.decode()
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.RESOLVED


def test_reassign_offers_only_queue_members(queue, agent, lead, outsider):
    followup = FollowUpFactory(queue=queue, owner=agent)
    client = client_for(lead)
    page = client.get(reverse("surveys:followup-detail", args=[followup.pk])).content.decode()
    assert outsider.get_full_name() not in page
    response = client.post(reverse("surveys:followup-reassign", args=[followup.pk]), {"owner": outsider.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    response = client.post(reverse("surveys:followup-reassign", args=[followup.pk]), {"owner": lead.pk})
    assert response.status_code == 302
    assert FollowUp.objects.get(pk=followup.pk).owner == lead
    assert FollowUpEvent.objects.filter(followup=followup, kind=FollowUpEvent.Kind.REASSIGNED).exists()


def test_lists_show_overdue_and_escalated(queue, agent, lead):
    now = timezone.now()
    FollowUpFactory(queue=queue, owner=agent, due_at=now - timedelta(hours=1), escalated_at=now)
    FollowUpFactory(queue=queue, owner=agent, due_at=now + timedelta(hours=2))
    FollowUpFactory(queue=queue, owner=None)
    mine = client_for(agent).get(reverse("surveys:my-followups")).content.decode()
    assert "Overdue" in mine and "Escalated" in mine and "Due soon" in mine
    assert "2 open" in mine
    team_for_agent = client_for(agent).get(reverse("surveys:team-followups")).content.decode()
    assert "1 open" in team_for_agent  # agents: the unassigned one
    team_for_lead = client_for(lead).get(reverse("surveys:team-followups")).content.decode()
    assert "3 open" in team_for_lead


def test_xss_in_comment_and_customer_name_is_escaped(queue, agent, lead):
    followup = FollowUpFactory(queue=queue, owner=agent)
    response = followup.invitation.response
    response.comment = XSS
    response.save()
    customer = followup.invitation.customer
    customer.name = XSS
    customer.save()
    make_responses(queue, agent, 1, comment=XSS)
    for client, url in (
        (client_for(agent), reverse("surveys:my-feedback")),
        (client_for(agent), reverse("surveys:my-followups")),
        (client_for(agent), reverse("surveys:followup-detail", args=[followup.pk])),
        (client_for(lead), reverse("surveys:team")),
    ):
        page = client.get(url).content.decode()
        assert XSS not in page, url
    assert (
        "&lt;script&gt;"
        in client_for(agent).get(reverse("surveys:followup-detail", args=[followup.pk])).content.decode()
    )


def _build(queue, n):
    members = [MembershipFactory(queue=queue).user for _ in range(n // 5 or 1)]
    for i in range(n):
        owner = members[i % len(members)]
        followup = FollowUpFactory(queue=queue, owner=owner, due_at=timezone.now() + timedelta(hours=i - n // 2))
        FollowUpEvent.objects.create(followup=followup, kind=FollowUpEvent.Kind.OPENED)
    return members


def _count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ["surveys:team-followups", "surveys:team", "surveys:my-feedback"])
def test_query_count_does_not_grow_with_rows(queue, lead, name, django_assert_max_num_queries):
    # given 5 rows, then 50 more (and 10× the agents)
    client = client_for(lead)
    _build(queue, 5)
    make_responses(queue, lead, 5, comment="ok")
    small = _count_queries(client, reverse(name))
    _build(queue, 50)
    make_responses(queue, lead, 50, comment="ok")
    with django_assert_max_num_queries(small):
        client.get(reverse(name))


def test_query_count_of_my_list_and_detail(queue, agent, django_assert_max_num_queries):
    client = client_for(agent)
    _build(queue, 5)
    FollowUp.objects.update(owner=agent)
    small = _count_queries(client, reverse("surveys:my-followups"))
    _build(queue, 50)
    FollowUp.objects.update(owner=agent)
    with django_assert_max_num_queries(small):
        client.get(reverse("surveys:my-followups"))
    followup = FollowUp.objects.first()
    for _ in range(20):
        FollowUpEvent.objects.create(followup=followup, kind=FollowUpEvent.Kind.REMINDED, note="n")
    with django_assert_max_num_queries(small + 4):
        client.get(reverse("surveys:followup-detail", args=[followup.pk]))


def test_lists_paginate_at_50(queue, agent):
    _build(queue, 55)
    FollowUp.objects.update(owner=agent)
    page1 = client_for(agent).get(reverse("surveys:my-followups")).content.decode()
    assert len(re.findall(r'href="/followups/\d+/"', page1)) == 50
    assert "Page 1 of 2" in page1


# --- CSV -----------------------------------------------------------------------------------------------------------


def test_neutralise_formula_cells():
    assert [neutralise(v) for v in ("=1+1", "+49 30", "-2", "@SUM(A1)", "\tx", "plain", 5, None)] == [
        "'=1+1",
        "'+49 30",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        5,
        None,
    ]


def _csv(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_csv_exports_are_streamed_neutralised_and_only_visible_rows(queue, agent, lead, outsider):
    mine = make_responses(queue, agent, 1, comment='=HYPERLINK("http://evil.example","click")')[0]
    mine.invitation.ticket.subject = "@SUM(1+1)"
    mine.invitation.ticket.save()
    other_queue = outsider.queue_memberships.get().queue
    ResponseFactory(invitation__queue=other_queue, invitation__agent=outsider, comment="secret of another queue")
    client = client_for(lead)

    response = client.get(reverse("surveys:export-responses"))
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert rows[0][0] == "ticket"
    assert len(rows) == 2
    assert rows[1][7] == '\'=HYPERLINK("http://evil.example","click")'

    rows = _csv(client.get(reverse("surveys:export-tickets")))
    subjects = [row[1] for row in rows[1:]]
    assert "'@SUM(1+1)" in subjects
    assert all("another queue" not in row for row in subjects)
    assert len(rows) == 2


def test_ticket_page_shows_the_survey_block_with_answer_comment_and_follow_up(queue, agent):
    # given a poor answer with a comment (an XSS payload) that opened a follow-up
    followup = FollowUpFactory(queue=queue, owner=agent)
    invitation = followup.invitation
    invitation.ticket.queue = queue
    invitation.ticket.save()
    answer = invitation.response
    answer.csat, answer.ces, answer.comment = 1, 2, XSS
    answer.save()

    # when the agent opens the ticket
    page = client_for(agent).get(reverse("tickets:detail", args=[invitation.ticket_id])).content.decode()

    # then the block shows the scores, the escaped comment and a link to the follow-up
    assert "Customer survey" in page
    assert "1/5 · Very dissatisfied" in page and "2/7 · Disagree" in page
    assert XSS not in page and "&lt;script&gt;" in page
    assert reverse("surveys:followup-detail", args=[followup.pk]) in page


def test_ticket_page_without_a_survey_says_so(queue, agent, customer):
    from tickets.services import ticket_create

    ticket = ticket_create(queue=queue, customer=customer, subject="S", body="B", by=agent)

    page = client_for(agent).get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "No survey yet" in page


# --- what surveys adds to the ticket pages (tickets.extensions) -------------------------------------------------


def test_poor_ratings_view_rating_filter_and_column_on_the_ticket_list(queue, agent):
    # given a ticket rated poorly, one rated well and one not rated
    poor = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=1, ces=2).invitation.ticket
    good = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=5, ces=7).invitation.ticket
    unrated = InvitationFactory(queue=queue, agent=agent).ticket
    client = client_for(agent)
    tickets_list = reverse("tickets:list")

    # when the poor ratings view opens, then only the poor one is listed, with its scores
    page = client.get(tickets_list, {"view": "poor"})
    assert list(page.context["tickets"]) == [poor]
    assert "CSAT 1/5 · CES 2/7" in page.text and "Poor ratings" in page.text

    # and the rating filter narrows any view; the column sorts
    assert list(client.get(tickets_list, {"view": "all", "rating": "5"}).context["tickets"]) == [good]
    assert list(client.get(tickets_list, {"view": "all", "rating": "none"}).context["tickets"]) == [unrated]
    by_rating = client.get(tickets_list, {"view": "all", "sort": "rating"}).context["tickets"]
    assert list(by_rating) == [poor, good, unrated]  # unrated last


def test_the_ticket_page_shows_the_survey_panel_and_the_nav_its_links(queue, agent):
    response = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=2, comment="<b>slow</b>")

    page = client_for(agent).get(reverse("tickets:detail", args=[response.invitation.ticket_id]))

    assert "Customer survey" in page.text and "CSAT" in page.text
    assert "&lt;b&gt;slow&lt;/b&gt;" in page.text  # escaped
    assert reverse("surveys:my-feedback") in page.text and reverse("surveys:my-followups") in page.text
    assert reverse("surveys:team") not in page.text  # an agent, not a lead


@pytest.mark.parametrize("rows", [3, 30])
def test_poor_ratings_view_and_rating_column_keep_the_list_query_budget(
    queue, agent, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=1, ces=2)
    client = client_for(agent)

    with django_assert_max_num_queries(8):  # the ticket list's budget (tickets/tests/test_views.py)
        page = client.get(reverse("tickets:list"), {"view": "poor", "rating": "poor", "sort": "-rating"})

    assert len(page.context["tickets"]) == rows and page.text.count("CSAT 1/5") == rows


def test_poor_ratings_view_pages_newest_rating_first(queue, agent):
    # given 52 poor ratings given one minute apart, and a good one
    start = timezone.now() - timedelta(hours=2)
    poor = []
    for n in range(52):
        response = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=1, ces=None)
        TicketRating.objects.filter(ticket_id=response.invitation.ticket_id).update(
            rated_at=start + timedelta(minutes=n)
        )
        poor.append(response.invitation.ticket)
    ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=5)
    client = client_for(agent)

    first = client.get(reverse("tickets:list"), {"view": "poor"})
    second = client.get(reverse("tickets:list"), {"view": "poor", "page": 2})

    assert first.context["page"].paginator.count == 52
    assert list(first.context["tickets"]) == poor[::-1][:50]
    assert list(second.context["tickets"]) == poor[1::-1]


def test_the_rating_follows_a_moved_ticket_into_the_poor_ratings_view(queue, agent):
    response = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=1, ces=2)
    ticket = response.invitation.ticket
    billing = MembershipFactory(user=agent, queue=QueueFactory(name="Billing")).queue
    lead_of_old_queue = MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user

    services.ticket_move(ticket_id=ticket.pk, queue=billing, by=agent)

    assert TicketRating.objects.get(ticket=ticket).queue == billing
    poor = {"view": "poor"}
    assert list(client_for(agent).get(reverse("tickets:list"), poor).context["tickets"]) == [ticket]
    assert list(client_for(lead_of_old_queue).get(reverse("tickets:list"), poor).context["tickets"]) == []
