"""Content-Security-Policy holds on every kind of page: nothing the pages need is refused by the browser.

Each page is opened in Chromium and the console is watched for CSP refusals (see is_csp_refusal): an inline script,
a CDN asset or an inline event handler added to a template later fails here."""

import re

import pytest
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from outbox.tests.sending import outbox_deliver
from surveys.models import SurveyInvitation, SurveyPolicy
from surveys.services import invitation_send
from tickets.models import CloseReason, QueueMembership
from tickets.services import ticket_close, ticket_create
from tickets.tests.factories import AdminFactory, CustomerFactory, MembershipFactory


def is_csp_refusal(text: str) -> bool:
    """Chromium's wording changed: "Refused to execute inline script because it violates the following Content
    Security Policy directive …" before, "Executing inline script violates the following Content Security Policy
    directive …" (and "Loading the stylesheet … violates …") since."""
    return "Refused to" in text or "Content Security Policy" in text


@pytest.fixture
def refusals(page):
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if is_csp_refusal(message.text) else None)
    return seen


def test_agent_admin_api_docs_and_survey_pages_load_without_csp_refusals(
    page, live_server, login, refusals, transactional_db, settings, mailoutbox
):
    # given a ticket, a closed one whose survey was emailed, an agent and an admin
    settings.SITE_URL = live_server.url
    membership = MembershipFactory(role=QueueMembership.Role.AGENT)
    agent, queue = membership.user, membership.queue
    SurveyPolicy.objects.create(queue=queue, delay_minutes=0)
    ticket = ticket_create(queue=queue, customer=CustomerFactory(), subject="Open one", body="Hi", by=None)
    closed = ticket_create(queue=queue, customer=CustomerFactory(), subject="Done", body="Hi", by=None, assignee=agent)
    ticket_close(ticket_id=closed.pk, reason=CloseReason.SOLVED, by=agent)
    invitation_send(invitation_id=SurveyInvitation.objects.get(ticket=closed).pk)
    outbox_deliver()  # the survey email is rendered, with its links, when the outbox sends it
    survey_link = re.search(r"Satisfied \(4\): (\S+)", mailoutbox[-1].body).group(1)
    admin = AdminFactory()
    crontab = CrontabSchedule.objects.create(minute="30", hour="4")
    every_hour = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    periodic = PeriodicTask.objects.create(
        name="Stale", task="tickets.tasks.close_stale_pending_tickets", interval=every_hour
    )

    # when the agent works: list, ticket (an htmx reply), feedback, follow-ups
    login(agent.username, "pw")
    for path in ("/tickets/?view=queues", f"/tickets/{ticket.pk}/", "/feedback/", "/followups/"):
        page.goto(f"{live_server.url}{path}")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.get_by_label("Reply to the customer").fill("On it.")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Reply sent to the customer").wait_for()

    # and the customer rates from the email link (the page's script posts the score)
    page.context.clear_cookies()
    page.goto(survey_link)
    page.get_by_text("Your rating is recorded").wait_for()

    # and an admin opens the admin and the API docs
    login(admin.username, "pw")
    for path in ("/admin/", "/admin/tickets/ticket/", f"/admin/tickets/ticket/{ticket.pk}/change/", "/api/redoc/"):
        page.goto(f"{live_server.url}{path}")

    # and django-celery-beat's periodic task pages, whose script explains the chosen crontab
    for path in ("/admin/django_celery_beat/periodictask/", "/admin/django_celery_beat/periodictask/add/"):
        page.goto(f"{live_server.url}{path}")
    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/{periodic.pk}/change/")
    page.locator("#id_crontab").select_option(str(crontab.pk))
    page.locator(".field-crontab .help").get_by_text("Translation: At 04:30").wait_for()
    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_text("Helpdesk API").first.wait_for()

    # then the browser refused nothing
    assert refusals == []
