"""My feedback with the seeded demo figures; resolving a follow-up in the browser; the team dashboard."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from demo.desk import DEMO_PASSWORD
from surveys.models import FollowUp, SurveyInvitation
from surveys.selectors import feedback_stats


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", tickets=300, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_my_feedback_shows_the_seeded_figures(page, live_server, login, screenshot, demo):
    # given a demo agent with seeded survey responses
    agent = User.objects.get(username="tom.eriksen")
    now = timezone.now()
    stats = feedback_stats(
        invitations=SurveyInvitation.objects.filter(agent_id=agent.pk), start=now - timedelta(days=90), end=now
    )
    assert stats.enough

    # when they open My feedback from the nav
    login("tom.eriksen", DEMO_PASSWORD)
    page.get_by_role("link", name="My feedback").click()
    page.wait_for_url(f"{live_server.url}/feedback/")

    # then the figures of the last 90 days are shown, with the trend chart and the distributions
    figures = page.locator(".stats").first.inner_text()  # the feedback figures (the SLA figures follow)
    assert f"{stats.csat_satisfied_pct}%" in figures
    assert f"{stats.response_rate}%" in figures
    assert f"{stats.responses} responses to {stats.invitations_sent} surveys emailed" in figures
    assert (page.locator("svg.chart title").first.text_content() or "").startswith("CSAT % satisfied")
    screenshot("feedback-my")

    # and the 7-day filter (htmx swap) says when there are not enough responses
    page.get_by_label("Last 7 days").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/feedback/?period=7**")
    page.locator(".period-label", has_text="Last 7 days").wait_for()
    screenshot("feedback-my-7-days")


def test_resolve_a_follow_up_in_the_browser(page, live_server, login, screenshot, demo):
    # given an open, overdue follow-up of a demo agent (the demo leaves some overdue)
    followup = (
        FollowUp.objects.filter(status__in=["open", "contacted"], due_at__lt=timezone.now())
        .select_related("owner")
        .order_by("due_at")
        .first()
    )
    assert followup is not None and followup.owner is not None

    # when the owner opens it from their list
    login(followup.owner.username, DEMO_PASSWORD)
    page.get_by_role("link", name="Follow-ups").click()
    assert page.locator("tr.overdue").count() >= 1
    screenshot("followups-mine")
    page.locator(f'a[href="/followups/{followup.pk}/"]').first.click()
    page.wait_for_url(f"**/followups/{followup.pk}/")
    screenshot("followup-detail")

    # and resolves it without a root cause first, then with one
    page.get_by_label("Outcome").fill("Called the customer and refunded the fee.")
    page.get_by_role("button", name="Resolve").click()  # the browser asks for the required root cause first
    assert FollowUp.objects.get(pk=followup.pk).status != FollowUp.Status.RESOLVED
    page.get_by_label("Root cause").select_option("policy")
    page.get_by_role("button", name="Resolve").click()

    # then it is resolved, with a flash message and the history entry
    page.get_by_text("Follow-up resolved.").wait_for()
    followup.refresh_from_db()
    assert (followup.status, followup.root_cause) == (FollowUp.Status.RESOLVED, "policy")
    assert "Called the customer and refunded the fee." in page.locator(".history").inner_text()
    screenshot("followup-resolved")


def test_a_lead_sees_the_team_dashboard(page, live_server, login, screenshot, demo):
    login("sophie.wagner", DEMO_PASSWORD)
    page.get_by_role("link", name="Team", exact=True).click()
    page.wait_for_url(f"{live_server.url}/team/")
    rows = page.locator("table.team tbody tr:not(.others)")
    assert rows.count() == 2  # Billing: Sophie and Liam
    # and the closed tickets of no current member (the demo closes some unassigned), so the rows add up to the total
    assert page.locator("table.team tbody tr.others th").inner_text() == "Unassigned or former agents"
    screenshot("team")
