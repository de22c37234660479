"""The NPS relationship survey in a real browser: beat schedules it for a customer with a closed ticket, the outbox
emails it, a link scanner's plain GET of a score link records nothing, the customer's click records the score at
once (one click, the page's script), the reason is added on the same page, and the lead sees the NPS on the team
dashboard; a detractor's answer opens a follow-up that the lead finds and resolves."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from outbox.tests.sending import outbox_deliver
from surveys import services as surveys
from surveys.models import FollowUp, NpsPolicy, NpsSurvey
from tickets import services as tickets
from tickets.models import CloseReason, QueueMembership
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "secret-pass-123"


def _nps_emailed(live_server, settings, score: int):
    """A lead of Billing, a customer whose ticket the lead solved, and their NPS survey emailed: (lead, customer,
    the email's link for `score`)."""
    settings.SITE_URL = live_server.url
    membership = MembershipFactory(role=QueueMembership.Role.LEAD, queue__name="Billing", user__first_name="Lena")
    lead, queue = membership.user, membership.queue
    lead.set_password(PASSWORD)
    lead.save()
    NpsPolicy.objects.create(enabled=True, send_window_start_hour=0, send_window_end_hour=24)
    customer = CustomerFactory(name="Grace Hopper")
    ticket = tickets.ticket_create(queue=queue, customer=customer, subject="Invoice copy", body="Please resend.",
                                   by=None, assignee=lead)  # fmt: skip
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=lead)

    # beat schedules and queues it; the outbox emails it
    assert surveys.nps_schedule_due() == 1
    assert surveys.nps_send_due() == 1
    assert outbox_deliver() == 1
    email = mail.outbox[-1]
    assert "How likely are you to recommend us" in email.body
    link = re.search(rf"^\s+{score}: https?://[^/\s]+(/\S+)", email.body, re.M)
    assert link, email.body
    return lead, customer, live_server.url + link.group(1)


def test_a_customer_answers_nps_with_one_click_and_the_lead_sees_it(page, live_server, login, screenshot, settings):
    lead, customer, url = _nps_emailed(live_server, settings, 9)

    # a link scanner fetches the link without running the page's script: nothing is recorded
    assert page.request.get(url).status == 200
    nps = NpsSurvey.objects.get(customer=customer)
    assert (nps.score, nps.answered_at) == (None, None)

    # the customer's click: the score is recorded at once, then they say why
    page.goto(url)
    expect(page.get_by_text("Your rating is recorded")).to_be_visible()
    nps.refresh_from_db()
    assert (nps.score, nps.flagged_automated) == (9, False)
    expect(page.get_by_label("9")).to_be_checked()
    page.get_by_label("What is the main reason for your score?").fill("Fast answers <b>every</b> time.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your answer is recorded")).to_be_visible()
    screenshot("nps-answered")
    nps.refresh_from_db()
    assert (nps.score, nps.comment) == (9, "Fast answers <b>every</b> time.")
    assert not FollowUp.objects.exists()  # a promoter's answer opens none

    # the lead sees it on the team dashboard's NPS card
    login(lead.username, PASSWORD)
    page.goto(f"{live_server.url}/team/?period=7")
    card = page.locator("#nps")
    expect(card.get_by_text("Not enough responses (1 of 10)")).to_be_visible()  # one answer: greyed, with its n
    expect(card.get_by_text("n=1: 1 promoter, 0 passives, 0 detractors")).to_be_visible()
    screenshot("nps-team-dashboard")


def test_a_detractors_answer_opens_a_follow_up_the_lead_works(page, live_server, login, screenshot, settings):
    lead, customer, url = _nps_emailed(live_server, settings, 2)

    page.goto(url)  # the customer's click records 2; sending the reason confirms it: the follow-up opens
    expect(page.get_by_text("Your rating is recorded")).to_be_visible()
    assert not FollowUp.objects.exists()  # one click alone is not settled yet
    page.get_by_label("What is the main reason for your score?").fill("I had to chase every answer.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your answer is recorded")).to_be_visible()
    followup = FollowUp.objects.get()
    assert (followup.owner, followup.customer, followup.ticket) == (lead, customer, None)

    login(lead.username, PASSWORD)
    page.goto(f"{live_server.url}/followups/")
    row = page.get_by_role("row").filter(has_text="Grace Hopper")
    expect(row).to_contain_text("No ticket: NPS survey")
    expect(row).to_contain_text("NPS 2/10")
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Follow-up on the NPS answer of Grace Hopper")).to_be_visible()
    expect(page.get_by_text("I had to chase every answer.")).to_be_visible()
    screenshot("nps-detractor-followup")
    page.get_by_label("Outcome").fill("Called Grace; we will answer her within a day from now on.")
    page.get_by_label("Root cause").select_option("slow_response")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("Follow-up resolved.")).to_be_visible()
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.RESOLVED
