"""Customer side: the public request form, the confirmation and reply emails, the tokened conversation page."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from common.errors import DomainError
from common.models import AccessToken
from common.tokens import token_build, token_mint, token_resolve
from outbox.models import OutgoingEmail
from outbox.tests.sending import outbox_deliver
from tickets import services
from tickets.models import CONVERSATION_LINK_PURPOSE, CloseReason, Customer, Message, Status, Ticket, TicketEvent
from tickets.notifications import CONVERSATION_LINK_DAYS
from tickets.tests.factories import CustomerFactory, QueueFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
NEW = reverse("support:new")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # rate-limit counters live in the (process-wide) cache
    yield
    cache.clear()


def link_in(message) -> str:
    """The conversation link of a sent email, as a path."""
    match = re.search(r"https?://[^/\s]+(/support/c/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def make_ticket(queue, *, customer=None, subject="Router down", body="Nothing works."):
    return services.ticket_create(
        queue=queue, customer=customer or CustomerFactory(), subject=subject, body=body, by=None
    )


def conversation_link(ticket, *, days=CONVERSATION_LINK_DAYS):
    token = token_mint(
        purpose=CONVERSATION_LINK_PURPOSE, target=ticket, expires_at=timezone.now() + timedelta(days=days)
    )
    return reverse("support:conversation", args=[token])


def row_count():
    return (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count(), OutgoingEmail.objects.count())


# --- submit a request ----------------------------------------------------------------------------------------------


def test_request_form_offers_every_queue_without_login(client):
    QueueFactory(name="Billing")
    QueueFactory(name="Technical")

    page = client.get(NEW)

    assert page.status_code == 200
    assert "Billing" in page.text and "Technical" in page.text
    assert 'for="id_email"' in page.text


def test_submitting_a_request_creates_the_ticket_and_queues_a_confirmation(client, queue, mailoutbox):
    response = client.post(
        NEW,
        {"name": "Ada Lovelace", "email": "ada@example.org", "queue": queue.pk, "subject": "Help", "message": "Hi!"},
    )

    assert response.status_code == 302 and response["Location"] == reverse("support:thanks")
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.queue, ticket.customer.name) == ("Help", queue, "Ada Lovelace")
    assert ticket.events.get(kind=TicketEvent.Kind.CREATED).actor is None
    email = OutgoingEmail.objects.get()
    assert (email.kind, email.to_email, email.render_spec) == (
        "confirmation",
        "ada@example.org",
        {"ticket_id": ticket.pk},
    )
    assert outbox_deliver() == 1
    [message] = mailoutbox
    assert message.from_email == f"{queue.name} <{queue.reply_from_email}>"
    assert message.subject == f"[{ticket.reference}] Help"
    assert ticket.reference in message.body and ticket.reference in message.alternatives[0].content
    page = client.get(link_in(message))
    assert page.status_code == 200 and "Hi!" in page.text
    assert "we received your request" in client.get(response["Location"]).text.lower()


def test_an_invalid_request_writes_nothing(client, queue):
    response = client.post(NEW, {"name": "X", "email": "not-an-email", "queue": queue.pk, "subject": "", "message": ""})

    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert row_count() == (0, 0, 0, 0)
    assert not Customer.objects.exists()


def test_request_form_enforces_csrf(queue):
    client = Client(enforce_csrf_checks=True)
    data = {"name": "A", "email": "a@example.org", "queue": queue.pk, "subject": "s", "message": "m"}

    assert client.post(NEW, data).status_code == 403
    client.get(NEW)
    assert client.post(NEW, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}).status_code == 302
    assert Ticket.objects.count() == 1


def test_public_pages_are_rate_limited(client, settings, queue):
    settings.PUBLIC_RATE_LIMIT = "3/m"

    codes = [client.get(NEW).status_code for _ in range(4)]
    link_codes = [client.get(conversation_link(make_ticket(queue))).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert link_codes == [200, 200, 200, 429]


# --- conversation page ---------------------------------------------------------------------------------------------


def test_conversation_shows_the_public_thread_only(client, queue, agent):
    ticket = make_ticket(queue, body="My first message")
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="SECRET NOTE", by=agent)
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Public answer", by=agent)
    services.ticket_set_priority(ticket_id=ticket.pk, priority="urgent", by=agent)

    page = client.get(conversation_link(ticket))

    assert page.status_code == 200
    assert "My first message" in page.text and "Public answer" in page.text
    assert "SECRET NOTE" not in page.text
    assert "Priority" not in page.text and "Urgent" not in page.text
    assert agent.username not in page.text  # agents appear by first name only


@pytest.mark.parametrize("kind", ["unknown", "expired", "other_purpose"])
def test_bad_links_get_one_friendly_404(client, queue, kind):
    ticket = make_ticket(queue)
    if kind == "unknown":
        url = reverse("support:conversation", args=["x" * 43])
    elif kind == "expired":
        url = conversation_link(ticket, days=1)
    else:
        # a valid token of another purpose, pointing at the same id
        token, access = token_build(
            purpose=CONVERSATION_LINK_PURPOSE, target=ticket, expires_at=timezone.now() + timedelta(1)
        )
        access.purpose = "other"
        access.save()
        url = reverse("support:conversation", args=[token])

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        response = client.get(url)
        posted = client.post(url, {"body": "hello"})

    assert response.status_code == posted.status_code == 404
    assert "This link can no longer be used" in response.text
    assert Message.objects.count() == 1


def test_customer_reply_is_added_and_reopens_a_closed_ticket(client, queue, agent):
    ticket = make_ticket(queue)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    url = conversation_link(ticket)

    response = client.post(url, {"body": "Actually it broke again"})

    assert response.status_code == 302 and response["Location"] == url
    message = Message.objects.get(body="Actually it broke again")
    assert (message.kind, message.author_customer) == (Message.Kind.CUSTOMER_MESSAGE, ticket.customer)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.reopen_count == 1
    assert "your reply was added" in client.get(url).text


def test_empty_customer_reply_is_refused(client, queue):
    url = conversation_link(make_ticket(queue))
    before = row_count()

    response = client.post(url, {"body": "  "})

    assert response.status_code == 400
    assert row_count() == before


def test_conversation_get_never_writes_and_csrf_is_enforced(queue):
    ticket = make_ticket(queue)
    url = conversation_link(ticket)
    client = Client(enforce_csrf_checks=True)
    before = row_count()

    client.get(url)
    assert row_count() == before
    assert client.post(url, {"body": "no token"}).status_code == 403
    assert row_count() == before


def test_conversation_escapes_user_content(client, queue, agent):
    ticket = make_ticket(queue, subject=XSS, body=XSS, customer=CustomerFactory(name=XSS))
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body=XSS, by=agent)

    page = client.get(conversation_link(ticket))

    assert XSS not in page.text
    assert page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3


# --- reply notifications -------------------------------------------------------------------------------------------


def test_a_public_reply_queues_one_notification_with_a_working_link(client, queue, agent, mailoutbox):
    ticket = make_ticket(queue, subject="Router down")

    reply = services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Reboot it", by=agent)

    # queued with the reply: what it is, not yet its content or its link
    email = OutgoingEmail.objects.get()
    assert (email.kind, email.to_email, email.related) == (
        "reply_notification",
        ticket.customer.email,
        reply,
    )
    assert (email.render_spec, email.body_text, email.body_html) == ({"message_id": reply.pk}, "", "")
    assert not AccessToken.objects.exists()

    # rendered with its link when the outbox sends it
    assert outbox_deliver() == 1
    [message] = mailoutbox
    assert message.from_email == f"{queue.name} <{queue.reply_from_email}>"
    assert message.subject == f"[{ticket.reference}] Router down"
    assert "Reboot it" in message.body and "Reboot it" in message.alternatives[0].content
    token = link_in(message).split("/")[-2]
    assert token_resolve(raw=token, purpose=CONVERSATION_LINK_PURPOSE) == ticket.pk
    access = AccessToken.objects.get()
    assert access.expires_at - timezone.now() > timedelta(days=CONVERSATION_LINK_DAYS - 1)
    assert client.get(link_in(message)).status_code == 200
    email.refresh_from_db()
    assert (email.subject, email.from_email, email.body_text) == (message.subject, message.from_email, "")


def test_each_reply_email_gets_its_own_token(queue, agent, mailoutbox):
    ticket = make_ticket(queue)

    for body in ("one", "two"):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body=body, by=agent)
    outbox_deliver()

    links = {link_in(message) for message in mailoutbox}
    assert len(links) == 2
    assert AccessToken.objects.count() == 2


def test_notes_customer_messages_and_refused_replies_send_nothing(queue, agent):
    ticket = make_ticket(queue)

    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="note", by=agent)
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body="hi", customer=ticket.customer)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    with pytest.raises(DomainError):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="late", by=agent)

    assert not OutgoingEmail.objects.exists()
    assert not AccessToken.objects.exists()


def test_reply_email_html_escapes_the_body(queue, agent, mailoutbox):
    ticket = make_ticket(queue, subject=XSS)

    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body=XSS, by=agent)
    outbox_deliver()

    [message] = mailoutbox
    assert XSS not in message.alternatives[0].content
    assert XSS in message.body  # plain text is not HTML
