"""The agent ticket UI and the customer pages in a real browser (htmx on, so partial updates are exercised)."""

import re

import pytest
from playwright.sync_api import expect

from outbox.models import OutgoingEmail
from outbox.tests.sending import outbox_deliver
from tickets import services
from tickets.models import CloseReason, Message, Status, Ticket
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "secret-pass-123"


@pytest.fixture
def desk(transactional_db):
    membership = MembershipFactory(queue__name="Technical support", user__first_name="Ada", user__last_name="Agent")
    agent, queue = membership.user, membership.queue
    agent.set_password(PASSWORD)
    agent.save()
    colleague = MembershipFactory(queue=queue, user__first_name="Bob", user__last_name="Builder").user
    grace = CustomerFactory(name="Grace Hopper", email="grace@example.org")
    printer = services.ticket_create(
        queue=queue,
        customer=grace,
        subject="Printer prints only blank pages",
        body="Since this morning every page comes out blank.\nToner is full.",
        by=None,
        assignee=agent,
    )
    services.message_add(
        ticket_id=printer.pk, kind=Message.Kind.INTERNAL_NOTE, body="Known issue with driver 4.2", by=agent
    )
    for n, subject in enumerate(["VPN drops every hour", "Cannot log in to the portal", "Invoice address wrong"]):
        ticket = services.ticket_create(
            queue=queue,
            customer=CustomerFactory(),
            subject=subject,
            body="Please help.",
            by=None,
            assignee=colleague if n == 1 else None,
        )
        if n == 2:
            services.ticket_set_status(ticket_id=ticket.pk, status=Status.PENDING, by=agent)
    return agent, queue, printer


def test_agent_filters_searches_replies_and_closes(page, live_server, login, screenshot, desk):
    agent, _queue, printer = desk
    login(agent.username, PASSWORD)

    # the list: all tickets of my queues, then a search narrows it (htmx swaps only the results)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)  # default view: my open tickets
    page.get_by_role("link", name="All tickets").click()
    expect(page.locator("table.tickets tbody tr")).to_have_count(4)
    page.get_by_label("Status", exact=True).select_option("pending")
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    expect(page.locator("table.tickets")).to_contain_text("Invoice address wrong")
    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_label("Search").fill("blank pages")
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=blank(\+|%20)pages"))
    screenshot("tickets-list-search")
    page.get_by_label("Search").fill("nothing matches this")
    expect(page.get_by_text("No tickets match these filters.")).to_be_visible()
    screenshot("tickets-list-empty")
    page.get_by_label("Search").fill("printer")
    page.get_by_role("link", name="Printer prints only blank pages").click()

    # the detail page: thread with the internal note marked
    expect(page.get_by_role("heading", name="Printer prints only blank pages")).to_be_visible()
    expect(page.locator(".msg-internal_note")).to_contain_text("Internal note")
    screenshot("ticket-detail")

    # reply (htmx swap of the ticket part)
    page.get_by_label("Reply to the customer").fill("Please update the driver to 4.3 and try again.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent to the customer.")).to_be_visible()
    expect(page.locator(".msg-public_reply")).to_contain_text("update the driver")

    # close with a reason: the confirmation box is required
    page.get_by_text("Close ticket…").click()
    page.get_by_label("Close reason").select_option("solved")
    page.get_by_role("button", name="Close ticket").click()  # unconfirmed: the browser refuses (required box)
    expect(page.get_by_label("Yes, close this ticket")).to_be_visible()
    assert Ticket.objects.get(pk=printer.pk).status != Status.CLOSED
    page.get_by_label("Yes, close this ticket").check()
    page.get_by_role("button", name="Close ticket").click()
    expect(page.get_by_text("Ticket closed (Solved).")).to_be_visible()
    expect(page.get_by_role("button", name="Reopen ticket")).to_be_visible()
    screenshot("ticket-closed")

    printer.refresh_from_db()
    assert (printer.status, printer.close_reason) == (Status.CLOSED, CloseReason.SOLVED)
    assert OutgoingEmail.objects.filter(kind="reply_notification").count() == 1


def test_ticket_detail_on_a_phone(page, live_server, login, screenshot, desk):
    agent, _queue, printer = desk
    page.set_viewport_size({"width": 390, "height": 844})
    login(agent.username, PASSWORD)

    page.goto(f"{live_server.url}/tickets/{printer.pk}/")

    expect(page.get_by_role("heading", name="Printer prints only blank pages")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    screenshot("ticket-detail-phone")


def test_customer_submits_a_request_and_replies_from_the_link(page, live_server, screenshot, desk, mailoutbox):
    _agent, queue, _printer = desk

    page.goto(f"{live_server.url}/support/new/")
    page.get_by_label("Your name").fill("Linus T")
    page.get_by_label("Your email").fill("linus@example.org")
    page.get_by_label("Topic").select_option(label=queue.name)
    page.get_by_label("Subject").fill("Keyboard missing keys")
    page.get_by_label("How can we help?").fill("The Q key fell off.")
    screenshot("support-new")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name="Thank you, we received your request")).to_be_visible()

    assert OutgoingEmail.objects.get().kind == "confirmation"
    outbox_deliver()  # rendered, with its conversation link, when the outbox sends it
    link = re.search(r"https?://\S+?(/support/c/\S+/)", mailoutbox[-1].body).group(1)
    page.goto(f"{live_server.url}{link}")
    expect(page.get_by_text("The Q key fell off.")).to_be_visible()
    page.get_by_label("Your reply").fill("Also the W key.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("your reply was added")).to_be_visible()
    screenshot("support-conversation")

    assert Ticket.objects.get(subject="Keyboard missing keys").messages.count() == 2
