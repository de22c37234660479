"""The customer's history where the agent works, in a real browser: the ticket page's card loads their other
tickets, and the agent marks the customer VIP (a POST), which the card and the ticket list then show."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tickets import services as tickets
from tickets.models import CloseReason, QueueMembership
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "secret-pass-123"


def test_an_agent_sees_the_customer_s_history_and_marks_them_vip(page, live_server, login, screenshot):
    agent = MembershipFactory(queue__name="Billing", user__first_name="Ada").user
    agent.set_password(PASSWORD)
    agent.save()
    queue = QueueMembership.objects.get(user=agent).queue
    customer = CustomerFactory(name="Grace Hopper")
    earlier = tickets.ticket_create(queue=queue, customer=customer, subject="Invoice missing", body="Where?", by=None)
    tickets.ticket_close(ticket_id=earlier.pk, reason=CloseReason.SOLVED, by=agent)
    current = tickets.ticket_create(queue=queue, customer=customer, subject="Charged twice", body="Help", by=None)

    login(agent.username, PASSWORD)
    page.goto(f"{live_server.url}/tickets/{current.pk}/")
    card = page.locator(".customer-history-card")
    expect(card.get_by_role("heading", name="Customer history")).to_be_visible()
    expect(card.get_by_role("link", name=earlier.reference)).to_be_visible()  # loaded by the card's partial
    expect(card.get_by_text("1 other ticket, 0 open")).to_be_visible()

    card.get_by_role("button", name="Mark the customer VIP").click()
    expect(page.locator(".customer-history-card .badge-vip")).to_be_visible()
    screenshot("customer-history-vip")

    page.goto(f"{live_server.url}/tickets/?view=all")
    expect(page.get_by_role("link", name=re.compile("Charged twice"))).to_be_visible()
    expect(page.get_by_text("VIP").first).to_be_visible()
