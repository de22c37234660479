"""Bulk actions on the ticket list in a real browser: select all on the page, close 21 tickets with a reason while
one of them is moved out of the agent's sight meanwhile, and the summary says 20 changed, 1 skipped; then bulk-tag
on a phone-sized screen."""

import pytest
from playwright.sync_api import expect

from tickets import services
from tickets.models import Status, Ticket
from tickets.tests.factories import AdminFactory, CustomerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "secret-pass-123"


@pytest.fixture
def desk(transactional_db):
    membership = MembershipFactory(queue__name="Technical support", user__first_name="Ada", user__last_name="Agent")
    agent, queue = membership.user, membership.queue
    agent.set_password(PASSWORD)
    agent.save()
    tickets = [
        services.ticket_create(
            queue=queue, customer=CustomerFactory(), subject=f"Printer {n} jams", body="Please help.", by=None
        )
        for n in range(21)
    ]
    services.ticket_tag_add(ticket_id=tickets[0].pk, name="hardware", by=agent)
    return agent, queue, tickets


def test_bulk_close_with_one_skipped_shows_the_summary(page, live_server, login, screenshot, desk):
    agent, queue, tickets = desk
    page.set_viewport_size({"width": 1366, "height": 900})
    login(agent.username, PASSWORD)
    page.goto(f"{live_server.url}/tickets/?view=all")
    expect(page.locator("table.tickets tbody tr")).to_have_count(21)
    expect(page.locator("table.tickets a.tag")).to_have_text(["hardware"])

    page.get_by_label("Select all tickets on this page").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("21 selected (at most 100 at once).")
    page.get_by_label("With the selected tickets").select_option("close")
    expect(page.get_by_label("Close reason")).to_be_visible()
    expect(page.get_by_label("Set status to")).to_be_hidden()  # only the chosen action's value shows
    page.get_by_label("Close reason").select_option("duplicate")
    screenshot("bulk-selected-1366")

    # Meanwhile an admin moves one of them to a queue the agent does not work in: it is skipped as "not found".
    moved = tickets[5]
    services.ticket_move(ticket_id=moved.pk, queue=QueueFactory(name="Billing"), by=AdminFactory())

    page.get_by_role("button", name="Apply to selected").click()

    summary = page.locator(".flash li")
    expect(summary).to_have_text(f"20 changed; 1 skipped: not found ({moved.reference}).")
    screenshot("bulk-summary-1366")
    assert Ticket.objects.filter(queue=queue, status=Status.CLOSED, close_reason="duplicate").count() == 20
    assert Ticket.objects.get(pk=moved.pk).status == Status.NEW

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()  # the flash message was shown once; now the phone layout of the list and its bulk bar
    # (the full-page screenshot is taken before typing: it resizes the viewport, which would scroll the page
    # between the button's mousedown and mouseup)
    page.get_by_label("Select all tickets on this page").check()
    page.get_by_label("With the selected tickets").select_option("tag")
    screenshot("bulk-selected-390")
    page.get_by_label("Tag name").fill("printer")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator(".flash li")).to_have_text("20 changed.")
    expect(page.locator("table.tickets a.tag", has_text="printer")).to_have_count(20)
    screenshot("bulk-summary-390")
