"""SLA in a real browser: a queue with a calendar-hours policy (first reply in 10 minutes, warning at 80 %); a ticket
created 9 minutes ago has crossed its warning and shows in the list's "Breaching in the next hour" view and on its
page as due in a minute; one created 11 minutes ago shows as breached in the "Breached" view. Then the SLA sweep (the
beat task's function, in-process) records the warning and the breach and the queue's lead finds the breach email in
the dev mailbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from outbox.tests.sending import outbox_deliver
from tickets import services
from tickets.models import Priority, QueueMembership, SlaPolicy, Ticket
from tickets.tasks import sweep_sla_alerts
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def created_ago(queue, minutes: int, subject: str) -> Ticket:
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes), tick=False):
        return services.ticket_create(queue=queue, customer=CustomerFactory(), subject=subject, body="Help", by=None)


def test_a_ticket_crosses_its_warning_then_breaches_and_the_lead_gets_the_mail(
    page, live_server, login, screenshot, dev_desk
):
    lead = MembershipFactory(queue__name="Technical Support", role=QueueMembership.Role.LEAD, user__first_name="Lin")
    queue = lead.queue
    with time_machine.travel(timezone.now() - timedelta(days=1)):  # the policy predates the tickets' clocks
        SlaPolicy.objects.create(
            queue=queue, priority=Priority.NORMAL, first_reply_minutes=10, business_hours=False, warn_at_percent=80
        )
    warned = created_ago(queue, 9, "Printer smoking")
    breached = created_ago(queue, 11, "Server down")
    login(lead.user.username, "pw")

    page.goto(f"{live_server.url}/tickets/?view=sla_soon")
    row = page.locator("tbody tr", has_text="Printer smoking")
    expect(row.locator("time.sla-soon")).to_have_text("due in 1 min")
    expect(page.locator("tbody tr")).to_have_count(1)  # the breached one is not "breaching in the next hour"
    expect(page.get_by_role("link", name="Breaching in the next hour")).to_have_attribute("aria-current", "page")
    screenshot("sla-list-breaching-soon")

    page.get_by_role("link", name="Breached", exact=True).click()
    row = page.locator("tbody tr", has_text="Server down")
    expect(row.locator("time.sla-breached")).to_contain_text("breached 1 min ago")
    expect(page.locator("tbody tr")).to_have_count(1)
    screenshot("sla-list-breached")

    page.goto(f"{live_server.url}/tickets/{warned.pk}/")
    card = page.locator("section.sla-card")
    target = card.locator("li", has_text="First reply")
    expect(target.locator("time.sla-soon")).to_have_text("due in 1 min")
    expect(target).to_contain_text("10 min target (calendar hours)")
    screenshot("sla-ticket-page-due-soon")

    page.goto(f"{live_server.url}/tickets/{breached.pk}/")
    expect(page.locator("section.sla-card li", has_text="First reply")).to_contain_text("breached 1 min ago")
    screenshot("sla-ticket-page-breached")

    # the sweep records the warning and the breach (once each) and mails them; the lead reads the breach mail
    assert sweep_sla_alerts() == 2  # the beat task, run in-process
    assert outbox_deliver() >= 2  # unassigned: the warning to the queue's leads, the breach to the leads
    page.goto(f"{live_server.url}/dev/mail/")
    mail = page.get_by_role("link", name=re.compile(r"SLA breached: first reply overdue by .*Server down"))
    expect(mail).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile(r"SLA warning: first reply due in .*Printer smoking"))
    ).to_be_visible()
    mail.first.click()
    expect(page.get_by_text(lead.user.email).first).to_be_visible()
    screenshot("sla-breach-mail")

    page.goto(f"{live_server.url}/tickets/{breached.pk}/")
    expect(page.locator("li.event", has_text="SLA")).to_have_count(1)  # the breach, recorded on the ticket
