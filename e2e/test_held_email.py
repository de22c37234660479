"""Held email in a real browser: a customer's reply to a closed ticket carries only the ticket's subject tag, so it
is held; the agent sees the count in the navigation, opens Held email, reads the email in its row and adds it to the
ticket, which reopens with the reply in its thread. Looked at at 1366 px and at 390 px (rows stacked, no sideways
scroll)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from inbound.models import InboundEmail
from inbound.routing import inbound_route
from inbound.store import inbound_store
from inbound.tests.mail import email_bytes
from tickets import services
from tickets.models import CloseReason, Status
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "secret-pass-123"


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [1366, 390])
def test_a_held_reply_on_a_closed_ticket_is_found_from_the_navigation_and_added(
    page, live_server, login, screenshot, width
):
    cache.clear()  # the navigation counts are cached per user id
    membership = MembershipFactory(queue__name="Technical Support", user__first_name="Ada")
    agent = membership.user
    agent.set_password(PASSWORD)
    agent.save()
    customer = CustomerFactory(email="jo@customer.example", name="Jo Customer")
    ticket = services.ticket_create(
        queue=membership.queue, customer=customer, subject="Printer on fire", body="Help", by=None
    )
    services.message_add(ticket_id=ticket.pk, kind="public_reply", body="Unplug it.", by=agent)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    raw = email_bytes(
        sender="Jo Customer <jo@customer.example>",
        subject=f"Re: [{ticket.reference}] Printer on fire",
        body="It is on fire again, the smoke is back.",
    )
    row, _ = inbound_store(raw=raw, queue=ticket.queue, channel="smtp", recipient=ticket.queue.reply_from_email)
    inbound_route(email_id=row.pk)
    assert InboundEmail.objects.get(pk=row.pk).status == InboundEmail.Status.HELD

    page.set_viewport_size({"width": width, "height": 900})
    login(agent.username, PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    held_link = nav.get_by_role("link", name=re.compile(r"^Held email"))
    expect(held_link).to_have_text(re.compile(r"Held email\s*1"))  # the count, loaded once, then cached

    held_link.click()
    expect(page.get_by_role("heading", name="Held email", level=1)).to_be_visible()
    expect(page.locator('td[data-label="From"]')).to_contain_text("jo@customer.example")
    expect(page.get_by_role("link", name=ticket.reference)).to_be_visible()
    page.get_by_text("Show the email").click()
    expect(page.get_by_text("It is on fire again, the smoke is back.")).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot(f"held-email-{width}")

    page.get_by_role("button", name=f"Add to {ticket.reference} the email from Jo Customer").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added to {ticket.reference}")
    expect(page.get_by_text("No held email in your queues.")).to_be_visible()
    expect(held_link).to_have_text("Held email")  # the agent's own count was forgotten: nothing held
    screenshot(f"held-email-done-{width}")

    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator(".thread")).to_contain_text("It is on fire again, the smoke is back.")
    expect(page.locator(".thread")).to_contain_text("Held email from Jo Customer <jo@customer.example>: added")
    expect(page.get_by_text("Unverified email waiting")).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_the_ticket_page_shows_held_mail_at_the_top_of_the_thread(page, live_server, login, screenshot):
    cache.clear()
    membership = MembershipFactory(user__first_name="Ada")
    agent = membership.user
    agent.set_password(PASSWORD)
    agent.save()
    ticket = services.ticket_create(
        queue=membership.queue, customer=CustomerFactory(), subject="VPN down", body="Help", by=None
    )
    raw = email_bytes(sender="Sam <sam@elsewhere.example>", subject=f"Re: [{ticket.reference}] VPN down")
    row, _ = inbound_store(raw=raw, queue=ticket.queue, channel="smtp", recipient=ticket.queue.reply_from_email)
    inbound_route(email_id=row.pk)

    page.set_viewport_size({"width": 390, "height": 900})
    login(agent.username, PASSWORD)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    notice = page.get_by_role("note", name="Unverified email")
    expect(notice).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot("held-email-ticket-notice-390")
    notice.get_by_role("link", name="Review it").click()
    expect(page.locator("#held-heading")).to_be_in_viewport()
