"""A lead watches the live sentiment panel of the team dashboard while a customer writes an angry email through the
real mail gateway: the email appears on the panel's next refresh; the lead opens the ticket and sees its badge.

Routing and scoring: a real Celery worker process with Postgres + Redis (as in CI); elsewhere the routing runs in
the gateway's thread after the store commits, and the scoring task eagerly on the routing's commit.
"""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from conftest import free_port, wait_until
from helpdesk.celery import app as celery_app
from inbound import store
from inbound.gateway import Gateway
from inbound.routing import inbound_route
from sentiment.models import TextSentiment
from tickets.models import QueueMembership
from tickets.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "secret-pass-123"
ANGRY = (
    "This is the third time I am writing about the same invoice. It is still wrong, nobody answers, "
    "and I am really angry now. Unacceptable."
)


@pytest.fixture
def worker_or_inline(request, monkeypatch):
    if settings.REDIS_URL and connection.vendor == "postgresql":
        request.getfixturevalue("celery_worker_process")
        yield "worker"
        return
    monkeypatch.setattr(store, "route_later", lambda email_id: inbound_route(email_id=email_id))
    celery_app.conf.task_always_eager = True
    yield "inline"
    celery_app.conf.task_always_eager = False


def test_a_lead_sees_an_angry_email_arrive_on_the_live_panel(
    page, live_server, login, screenshot, settings, worker_or_inline
):
    settings.SENTIMENT_LIVE_REFRESH_SECONDS = 2
    lead = MembershipFactory(
        role=QueueMembership.Role.LEAD,
        queue__name="Billing",
        queue__reply_from_email="billing@support.example.com",
        user__first_name="Lena",
    ).user
    lead.set_password(PASSWORD)
    lead.save()
    gateway = Gateway(host="127.0.0.1", port=free_port())
    gateway.start()
    try:
        login(lead.username, PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
        live = page.locator("#sentiment-live")
        expect(live.get_by_text("No negative customer message or comment in the last hour.")).to_be_visible()
        expect(live.get_by_role("rowheader", name="Billing")).to_be_visible()
        screenshot("sentiment-live-quiet")

        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = (
            "Jo Angry <jo@customer.example>",
            "billing@support.example.com",
            "Wrong invoice AGAIN",
        )
        email.set_content(ANGRY)
        with smtplib.SMTP("127.0.0.1", gateway.port, timeout=10) as smtp:
            smtp.send_message(email)
        wait_until(lambda: TextSentiment.objects.filter(label="negative").exists(), timeout=30, what="the score")

        expect(live.get_by_text(re.compile("This is the third time I am writing"))).to_be_visible(timeout=10_000)
        expect(live.get_by_text("Refreshed")).to_be_visible()
        screenshot("sentiment-live-angry-email")

        live.get_by_role("link", name=re.compile(r"HD-\d+")).first.click()
        expect(page.get_by_role("heading", name="Customer sentiment")).to_be_visible()
        card = page.locator(".sentiment-card")
        expect(card.locator(".sentiment-negative").first).to_be_visible()
        expect(card.get_by_text(re.compile("This is the third time"))).to_be_visible()  # the partial's message list
        screenshot("sentiment-ticket-badge")
    finally:
        gateway.stop()
