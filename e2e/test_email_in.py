"""A newcomer's path through email in, in a real browser: the README's one-line email reaches the desk through the
real mail gateway (inbound.gateway on a socket), the ticket appears, the agent replies, the customer answers from the
dev mailbox's "Reply as the customer" (a real MIME reply submitted to the gateway), and the reply is threaded on the
ticket with the quoted part folded away.

Routing: a real Celery worker process where the test database and broker can be shared with it (Postgres + Redis,
as in CI); elsewhere the store's routing task is run in the gateway's thread right after the commit.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from conftest import free_port, wait_until
from inbound import store
from inbound.gateway import Gateway
from inbound.models import InboundEmail
from inbound.routing import inbound_route
from outbox.tests.sending import outbox_deliver
from tickets.models import Message, Ticket
from tickets.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "secret-pass-123"
README = Path(settings.BASE_DIR) / "README.md"


def readme_one_liner(port: int) -> tuple[str, str]:
    """The README's Python one-liner that emails the running desk, pointed at `port`; and the address it writes to."""
    line = next(line for line in README.read_text().splitlines() if line.startswith("python3 -c 'import smtplib"))
    code = line.removeprefix("python3 -c '").removesuffix("'")
    address = re.search(r'\["([^"]+)"\]', code)
    assert address is not None and '"127.0.0.1", 2525' in code
    return code.replace('"127.0.0.1", 2525', f'"127.0.0.1", {port}'), address.group(1)


@pytest.fixture
def routing(request, monkeypatch):
    """Route stored emails with a real worker (Postgres + Redis) or, elsewhere, right after the store commits."""
    if settings.REDIS_URL and connection.vendor == "postgresql":
        request.getfixturevalue("celery_worker_process")
        return "worker"
    monkeypatch.setattr(store, "route_later", lambda email_id: inbound_route(email_id=email_id))
    return "inline"


@pytest.fixture
def gateway(settings, routing):
    gateway = Gateway(host="127.0.0.1", port=free_port())
    gateway.start()
    settings.INBOUND_GATEWAY_HOST, settings.INBOUND_GATEWAY_PORT = gateway.host, gateway.port
    yield gateway
    gateway.stop()


def test_a_customer_emails_the_agent_replies_and_the_customer_answers_by_email(
    page, live_server, login, screenshot, dev_desk, gateway
):
    code, address = readme_one_liner(gateway.port)
    membership = MembershipFactory(
        queue__name="Technical Support", queue__reply_from_email=address, user__first_name="Ada"
    )
    agent = membership.user
    agent.set_password(PASSWORD)
    agent.save()

    # 1. the README's one-liner, run as a newcomer would
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)  # noqa: S603 - the README's own line
    wait_until(lambda: Ticket.objects.filter(subject="Printer on fire").exists(), timeout=30, what="the new ticket")
    ticket = Ticket.objects.get(subject="Printer on fire")
    assert ticket.customer.email == "you@example.com"

    # 2. the agent finds it and replies
    login(agent.username, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    page.get_by_role("link", name="All tickets").click()
    page.get_by_role("link", name=re.compile("Printer on fire")).click()
    expect(page.get_by_text("by email").first).to_be_visible()
    page.get_by_label("Reply to the customer").fill("Please switch it off and on again.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent to the customer.")).to_be_visible()
    assert outbox_deliver() >= 2  # the acknowledgement of the new ticket, and the reply

    # 3. the customer answers from the dev mailbox: "Reply as the customer" quotes the agent's email
    page.goto(f"{live_server.url}/dev/mail/")
    page.get_by_role("link", name=re.compile(r"Printer on fire")).first.click()
    expect(page.get_by_text("Please switch it off and on again.").first).to_be_visible()
    page.get_by_role("link", name="Reply as the customer").click()
    body = page.get_by_label("Body")
    expect(body).to_have_value(re.compile(r"wrote:\n> ", re.MULTILINE))
    body.fill("Thanks, that fixed it!\n\n" + body.input_value().lstrip())
    page.get_by_label("From address").fill("you@example.com")
    screenshot("email-in-customer-reply")
    page.get_by_role("button", name="Send to the gateway").click()
    wait_until(
        lambda: InboundEmail.objects.filter(status=InboundEmail.Status.ROUTED).count() == 2,
        timeout=30,
        what="the customer's reply routed",
    )

    # 4. the reply is on the ticket, threaded, its quoted part folded away
    reply = Message.objects.filter(ticket=ticket, kind=Message.Kind.CUSTOMER_MESSAGE).last()
    assert reply is not None and reply.body == "Thanks, that fixed it!"
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator(".msg-body").get_by_text("Thanks, that fixed it!", exact=True)).to_be_visible()  # the thread
    folded = page.locator("details").filter(has_text="Show the full email").last
    expect(folded).not_to_have_attribute("open", "")
    expect(folded.get_by_text("Please switch it off and on again.")).to_be_hidden()
    screenshot("email-in-threaded-reply")
    folded.get_by_text("Show the full email").click()
    expect(folded.get_by_text("Please switch it off and on again.")).to_be_visible()
