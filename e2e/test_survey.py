"""The survey loop in a real browser with a real worker: an agent closes a ticket, beat's work hands the survey to
the outbox, a Celery worker process (over Redis, sharing the Postgres test database) delivers it to the dev
mailbox, and the customer rates from the emailed link with one click, then adds CES and a comment.

Needs REDIS_URL and Postgres (CI sets both); skipped with that reason otherwise (see conftest.celery_queue)."""

import re
import time

import pytest

from conftest import start_worker, stop_worker
from outbox.tasks import sweep_outbox
from surveys.models import SurveyInvitation, SurveyPolicy, SurveyResponse
from surveys.tasks import send_due_invitations
from tickets.models import QueueMembership, Status
from tickets.services import ticket_create
from tickets.tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def mailbox_worker(celery_queue, tmp_path, settings, live_server):
    """A worker process whose outbox delivery writes to a dev mailbox folder, which /dev/mail/ shows (DEBUG). The
    worker renders the emails, so its SITE_URL is the live server's: the links in the email point at it."""
    settings.DEV_MAIL_DIR = tmp_path
    settings.DEBUG = True  # /dev/mail/ is DEBUG only
    worker = start_worker(
        queue=celery_queue,
        extra_env={
            "OUTBOX_DELIVERY_BACKEND": "outbox.devmail.MailboxBackend",
            "DEV_MAIL_DIR": str(tmp_path),
            "SITE_URL": live_server.url,
        },
    )
    yield tmp_path
    stop_worker(worker)


def test_close_send_by_a_real_worker_then_one_click_rating_from_the_email(
    page, live_server, login, screenshot, mailbox_worker
):
    # given a queue whose surveys go out at once, an agent and a customer's ticket
    membership = MembershipFactory(role=QueueMembership.Role.AGENT)
    agent, queue = membership.user, membership.queue
    SurveyPolicy.objects.create(queue=queue, delay_minutes=0, throttle_days=0)
    customer = CustomerFactory(name="Grace Hopper")
    ticket = ticket_create(
        queue=queue, customer=customer, subject="Printer prints blank pages", body="Help", by=None, assignee=agent
    )

    # when the agent closes it as solved in the browser
    login(agent.username, "pw")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.locator("summary", has_text="Close ticket").click()
    page.get_by_label("Close reason").select_option("solved")
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="Close ticket").click()
    page.get_by_text("Ticket closed").wait_for()
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED

    # and beat's work runs: the due invitation becomes an email, the sweep hands it to the worker over Redis
    assert send_due_invitations() == 1
    deadline = time.monotonic() + 60
    while not list(mailbox_worker.glob("*.eml")):
        assert time.monotonic() < deadline, "the worker delivered no email"
        sweep_outbox()
        time.sleep(0.5)

    # then the email is in the dev mailbox, personal, with the rating links
    page.goto(f"{live_server.url}/dev/mail/")
    page.get_by_role("link", name=re.compile("How did we do")).click()
    text = page.locator(".mail-text").inner_text()
    assert "Hi Grace," in text and "Printer prints blank pages" in text
    screenshot("survey-email")
    satisfied = re.search(r"Satisfied \(4\): (\S+)", text).group(1)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation.status == SurveyInvitation.Status.SENT

    # when the customer clicks "Satisfied": one click records it (the landing page's script posts the score)
    page.context.clear_cookies()
    page.goto(satisfied)
    page.get_by_text("Your rating is recorded").wait_for()
    assert SurveyResponse.objects.get(invitation=invitation).csat == 4

    # and then answers CES and writes a comment
    page.locator("input[name=ces][value='6']").check()
    page.get_by_label(re.compile("Anything you would like to add")).fill("Quick & friendly <3")
    page.get_by_role("button", name="Send feedback").click()

    # then the thank-you page shows the answers back, and they are stored with their history
    page.get_by_text("Thank you").first.wait_for()
    assert page.locator("input[name=csat][value='4']").is_checked()
    assert page.locator("input[name=ces][value='6']").is_checked()
    assert page.get_by_label(re.compile("Anything you would like to add")).input_value() == "Quick & friendly <3"
    screenshot("survey-thanks")
    answer = SurveyResponse.objects.get(invitation=invitation)
    assert (answer.csat, answer.ces, answer.comment) == (4, 6, "Quick & friendly <3")
    assert answer.changes.count() == 2
    assert answer.confirmed_at is not None
