"""A macro in a real browser: the agent picks it in the reply box, the text is filled for the ticket and its actions
listed, the agent edits and sends with "Send and set pending"... the macro's priority and the button's status both
land, the reply is emailed; at 1366 px and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from macros.models import Macro, MacroUse
from outbox.models import OutgoingEmail
from tickets import services
from tickets.models import Message, Priority, Status
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "secret-pass-123"


@pytest.mark.parametrize("width", [1366, 390])
def test_an_agent_applies_a_macro_and_sends_it_with_a_status(page, live_server, login, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    membership = MembershipFactory(queue__name="Billing", user__first_name="Sophie", user__last_name="Wagner")
    agent, queue = membership.user, membership.queue
    agent.set_password(PASSWORD)
    agent.save()
    ticket = services.ticket_create(queue=queue, customer=CustomerFactory(name="Grace Hopper"),
                                    subject="Charged twice", body="Two charges this month.", by=None)  # fmt: skip
    Macro.objects.create(
        name="Refund issued",
        body="Hi {{ customer.first_name }}, we refunded the second charge on {{ ticket.reference }}. "
        "{{ settings.SECRET_KEY }} — {{ agent.first_name }}",
        queue=queue,
        set_priority=Priority.LOW,
    )

    login(agent.username, PASSWORD)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.wait_for_load_state("networkidle")  # the picker loaded after the page, and htmx has wired it
    page.get_by_label("Macro").select_option(label="Refund issued")
    expect(page.get_by_text("When you send it: priority → Low.")).to_be_visible()
    box = page.get_by_label("Reply to the customer")
    expect(box).to_have_value(
        f"Hi Grace, we refunded the second charge on {ticket.reference}. {{{{ settings.SECRET_KEY }}}} — Sophie"
    )
    screenshot(f"macro-applied-{width}")
    box.fill("Hi Grace, we refunded the second charge. Sorry for the trouble!")
    page.get_by_role("button", name="Send and set pending").click()
    expect(
        page.get_by_text(
            "Reply sent to the customer; macro “Refund issued” applied (priority → Low); status set to Pending."
        )
    ).to_be_visible()
    screenshot(f"macro-sent-{width}")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == (
        Status.PENDING,
        Priority.LOW,
        agent,
    )  # assigned on reply
    assert Message.objects.get(kind=Message.Kind.PUBLIC_REPLY).body.startswith("Hi Grace, we refunded")
    assert OutgoingEmail.objects.filter(kind="reply_notification").count() == 1
    assert MacroUse.objects.count() == 1
