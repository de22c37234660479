"""Delivery failures in a real browser: the agent replies to a customer whose address bounces, the outbox cancels
the email, the ticket shows the banner and the reply's "Not sent: … bounces"; the lead corrects the address and the
conversation link goes to the new one. At 1366 px and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from outbox.models import OutgoingEmail, Suppression
from outbox.tests.sending import outbox_deliver
from tickets import services
from tickets.models import Customer, Message, QueueMembership
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "secret-pass-123"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_bounce_is_shown_and_the_lead_corrects_the_address(page, live_server, login, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    membership = MembershipFactory(role=QueueMembership.Role.LEAD, queue__name="Billing", user__first_name="Lena")
    lead, queue = membership.user, membership.queue
    lead.set_password(PASSWORD)
    lead.save()
    customer = CustomerFactory(name="Grace Hopper", email="grace@exmaple.org")  # a typo: the domain bounces
    ticket = services.ticket_create(queue=queue, customer=customer, subject="Invoice copy", body="Please.", by=None)
    Suppression.objects.create(email=customer.email, reason="550 5.1.2 bad destination system: no such domain")
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Attached again.", by=lead)
    outbox_deliver()
    assert OutgoingEmail.objects.get(kind="reply_notification").status == OutgoingEmail.Status.CANCELLED

    login(lead.username, PASSWORD)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    banner = page.get_by_role("alert").filter(has_text="are not delivered")
    expect(banner).to_contain_text("Emails to grace@exmaple.org are not delivered")
    expect(banner).to_contain_text("no such domain")
    expect(page.get_by_text("Not sent: grace@exmaple.org bounces")).to_be_visible()
    screenshot(f"delivery-bounce-{width}")

    page.get_by_label("The customer's correct address").fill("grace@example.org")
    page.get_by_role("button", name="Correct the address").click()
    expect(page.get_by_text("The customer's address is now grace@example.org")).to_be_visible()
    expect(page.get_by_text("Customer's address corrected: grace@exmaple.org → grace@example.org")).to_be_visible()
    expect(page.get_by_text("are not delivered")).to_have_count(0)
    screenshot(f"delivery-corrected-{width}")
    assert Customer.objects.get(pk=customer.pk).email == "grace@example.org"
    assert OutgoingEmail.objects.filter(kind="confirmation", to_email="grace@example.org").exists()
