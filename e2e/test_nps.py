"""The NPS relationship survey in a real browser: beat schedules it for a customer with a closed ticket, the outbox
emails it, a link scanner's plain GET of a score link records nothing, the customer's click records the score at
once (one click, the page's script), the reason is added on the same page, and the lead sees the NPS on the team
dashboard."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from outbox.tests.sending import outbox_deliver
from surveys import services as surveys
from surveys.models import NpsPolicy, NpsSurvey
from tickets import services as tickets
from tickets.models import CloseReason, QueueMembership
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "secret-pass-123"


def test_a_customer_answers_nps_with_one_click_and_the_lead_sees_it(page, live_server, login, screenshot, settings):
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
    url = live_server.url + re.search(r"^\s+9: https?://[^/\s]+(/\S+)", email.body, re.M).group(1)  # type: ignore[union-attr]

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

    # the lead sees it on the team dashboard's NPS card
    login(lead.username, PASSWORD)
    page.goto(f"{live_server.url}/team/?period=7")
    card = page.locator("#nps")
    expect(card.get_by_text("Not enough responses (1 of 10)")).to_be_visible()  # one answer: greyed, with its n
    expect(card.get_by_text("n=1: 1 promoter, 0 passives, 0 detractors")).to_be_visible()
    screenshot("nps-team-dashboard")
