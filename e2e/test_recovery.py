"""Closing the loop in a real browser: a customer rates a solved ticket poorly from the survey email, the agent
resolves the follow-up it opened, a day later the customer answers the re-survey "Did we make this right?" with one
click, and the lead sees the recovery rate on the team dashboard. The emails go through the outbox (in this process)
and their links are followed as the customer would."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from outbox.tests.sending import outbox_deliver
from surveys import services as surveys
from surveys.models import FollowUp, Resurvey, SurveyInvitation, SurveyPolicy
from tickets import services as tickets
from tickets.models import CloseReason, QueueMembership
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "secret-pass-123"


def link(pattern: str) -> str:
    match = re.search(pattern, mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_a_poor_rating_is_recovered_and_the_lead_sees_the_recovery_rate(page, live_server, login, screenshot, settings):
    settings.SITE_URL = live_server.url
    lead_membership = MembershipFactory(role=QueueMembership.Role.LEAD, queue__name="Billing", user__first_name="Lena")
    lead, queue = lead_membership.user, lead_membership.queue
    lead.set_password(PASSWORD)
    lead.save()
    SurveyPolicy.objects.create(queue=queue, delay_minutes=0, throttle_days=0, followup_owner="lead")
    ticket = tickets.ticket_create(queue=queue, customer=CustomerFactory(name="Grace Hopper"), subject="Double charge",
                                   body="I was charged twice.", by=None, assignee=lead)  # fmt: skip
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=lead)
    assert surveys.invitation_send(invitation_id=SurveyInvitation.objects.get(ticket=ticket).pk)
    assert outbox_deliver() == 1

    # the customer rates 1 from the email, then adds a comment (a person: the follow-up opens at once)
    page.goto(live_server.url + link(r"Very dissatisfied \(1\): https?://[^/\s]+(/\S+)"))
    expect(page.get_by_text("Your rating is recorded")).to_be_visible()
    page.get_by_label("Anything you would like to add? (optional)").fill("Still charged twice. Not happy.")
    page.get_by_role("button", name=re.compile("feedback")).click()
    followup = FollowUp.objects.get(ticket=ticket)

    # the lead resolves the follow-up in the browser
    login(lead.username, PASSWORD)
    page.goto(f"{live_server.url}/followups/{followup.pk}/")
    page.get_by_label("Outcome").fill("Refunded the second charge and apologised.")
    page.get_by_label("Root cause").select_option("product_bug")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("Resolved").first).to_be_visible()
    resurvey = Resurvey.objects.get(followup=followup)
    screenshot("recovery-followup-resolved")

    # the re-survey is due a day later, and goes two days after the survey email (the throttle); the customer answers
    # "Completely" with one click
    later = timezone.now() + timedelta(days=2, minutes=5)
    with time_machine.travel(later, tick=False):
        assert surveys.resurveys_send_due() == 1
    assert outbox_deliver(at=later) == 1
    assert mail.outbox[-1].subject.startswith("Did we make this right?")
    page.goto(live_server.url + link(r"Completely \(5\): https?://[^/\s]+(/\S+)"))
    expect(page.get_by_text("Your rating is recorded")).to_be_visible()
    screenshot("recovery-resurvey-answered")
    resurvey.refresh_from_db()
    assert (resurvey.score, resurvey.flagged_automated) == (5, False)

    # the lead sees the recovery rate on the team dashboard (the re-survey was emailed "two days later": 7 days)
    with time_machine.travel(later + timedelta(hours=1), tick=True):
        page.goto(f"{live_server.url}/team/?period=7")
        card = page.locator("#recovery")
        expect(card.get_by_text("Recovery rate").first).to_be_visible()
        expect(card.get_by_text("Not enough responses (1 of 10)")).to_be_visible()  # one answer: greyed
        expect(card.get_by_text("1 of 1 answers")).to_be_visible()
        expect(card.get_by_role("rowheader", name="Product bug")).to_be_visible()
        screenshot("recovery-team-dashboard")
