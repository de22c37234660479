"""Dev mailbox "write as a customer": the form builds a real email and submits it over SMTP to the mail gateway (here
an aiosmtpd server standing in for `manage.py mail_gateway`); "Reply as the customer" pre-fills a threaded reply."""

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from conftest import SmtpSink, free_port
from helpdesk import urls as site_urls
from inbound.models import InboundEmail
from inbound.routing import inbound_route
from inbound.store import inbound_store
from outbox.tests.sending import outbox_deliver
from tickets import services
from tickets.mailthread import reply_address
from tickets.models import Message
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
WRITE = reverse("inbound:dev-write")


@pytest.fixture
def dev_mailbox(settings, tmp_path):
    settings.DEBUG = True
    settings.DEV_MAIL_DIR = tmp_path / "mail"
    settings.OUTBOX_DELIVERY_BACKEND = "outbox.devmail.MailboxBackend"
    return settings.DEV_MAIL_DIR


@pytest.fixture
def gateway(smtp_server, settings):
    """What the gateway received: an SMTP server on a free port, INBOUND_GATEWAY_HOST/PORT pointing at it."""
    sink = SmtpSink()
    controller = smtp_server(sink)
    settings.INBOUND_GATEWAY_HOST, settings.INBOUND_GATEWAY_PORT = controller.hostname, controller.port
    return sink


def received(sink):
    [envelope] = sink.received
    return envelope, message_from_bytes(envelope.content, policy=policy.default)


def form_data(**overrides):
    data = {
        "from_name": "Jo Customer",
        "from_email": "jo@customer.example",
        "to": "",
        "subject": "Printer on fire",
        "body": "Help, my printer is on fire.",
        "in_reply_to": "",
        "references": "",
    }
    return data | overrides


def test_the_form_lists_the_queues_addresses(dev_mailbox, queue):
    page = Client().get(WRITE)

    assert page.status_code == 200
    assert (
        f'<option value="{queue.reply_from_email}">{queue.name} &lt;{queue.reply_from_email}&gt;</option>' in page.text
    )


def test_writing_submits_a_real_email_to_the_gateway(dev_mailbox, gateway, queue):
    client = Client(enforce_csrf_checks=True)
    token = client.get(WRITE).cookies["csrftoken"].value

    response = client.post(WRITE, form_data(to=queue.reply_from_email, csrfmiddlewaretoken=token), follow=True)

    assert response.redirect_chain == [(reverse("devmail"), 302)]
    envelope, message = received(gateway)
    assert (envelope.mail_from, envelope.rcpt_tos) == ("jo@customer.example", [queue.reply_from_email])
    assert message["From"] == "Jo Customer <jo@customer.example>"
    assert message["To"] == queue.reply_from_email and message["Subject"] == "Printer on fire"
    assert message["Message-ID"].endswith("@customer.example>") and message["Date"]
    assert "In-Reply-To" not in message and "References" not in message
    assert message.get_content().strip() == "Help, my printer is on fire."
    assert escape(f"Sent to the mail gateway as {message['Message-ID']}") in response.text


def test_posting_needs_csrf(dev_mailbox, gateway, queue):
    response = Client(enforce_csrf_checks=True).post(WRITE, form_data(to=queue.reply_from_email))

    assert response.status_code == 403 and not gateway.received


def test_gateway_down_shows_the_error(dev_mailbox, settings, queue):
    settings.INBOUND_GATEWAY_HOST, settings.INBOUND_GATEWAY_PORT = "127.0.0.1", free_port()  # nothing listens

    response = Client().post(WRITE, form_data(to=queue.reply_from_email))

    assert response.status_code == 502
    assert f"The mail gateway at 127.0.0.1:{settings.INBOUND_GATEWAY_PORT} did not take the email" in response.text
    assert "Is `manage.py mail_gateway` running?" in response.text
    assert 'value="jo@customer.example"' in response.text  # the form is kept


def test_the_gateway_refusing_shows_the_error(dev_mailbox, gateway, queue):
    gateway.responses.append("554 no thanks")

    response = Client().post(WRITE, form_data(to=queue.reply_from_email))

    assert response.status_code == 502 and "no thanks" in response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "someone@elsewhere.example"),
        ("from_email", "not an address"),
        ("subject", "two\r\nBcc: x@evil.example"),
        ("in_reply_to", "<a@b>\r\nBcc: x@evil.example"),
    ],
)
def test_invalid_input_is_refused(dev_mailbox, gateway, queue, field, value):
    response = Client().post(WRITE, form_data(**{"to": queue.reply_from_email, field: value}))

    assert response.status_code == 400 and not gateway.received


def test_not_there_without_debug(settings, queue):
    settings.DEBUG = False

    assert Client().get(WRITE).status_code == 404
    assert Client().post(WRITE, form_data(to=queue.reply_from_email)).status_code == 404


# --- replying to an email the desk sent ----------------------------------------------------------------------------


@pytest.fixture
def desk_reply(dev_mailbox, queue, agent):
    """A ticket, and the agent's reply as the dev mailbox holds it (the outbox delivered it there)."""
    customer = CustomerFactory(email="jo@customer.example", name="Jo Customer")
    ticket = services.ticket_create(queue=queue, customer=customer, subject="Printer on fire", body="Help", by=None)
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Unplug it.\nThen wait.", by=agent)
    assert outbox_deliver() == 1
    [eml] = Path(dev_mailbox).glob("*.eml")
    return ticket, eml.name, message_from_bytes(eml.read_bytes(), policy=policy.default)


def test_the_email_page_links_to_a_reply_as_the_customer(desk_reply):
    _, name, _ = desk_reply

    page = Client().get(reverse("devmail-detail", args=[name]))

    assert f'href="{WRITE}?reply={name}">Reply as the customer</a>' in page.text
    assert f'href="{WRITE}">Write as a customer</a>' in Client().get(reverse("devmail")).text


def test_the_reply_form_is_pre_filled_as_a_reply(desk_reply):
    ticket, name, sent = desk_reply

    form = Client().get(WRITE, {"reply": name}).context["form"]

    assert form.initial["to"] == reply_address(ticket) == sent["Reply-To"].addresses[0].addr_spec
    assert form.initial["from_email"] == "jo@customer.example"  # the email's To
    assert form.initial["subject"] == f"Re: {sent['Subject']}"
    assert form.initial["in_reply_to"] == sent["Message-ID"]
    assert form.initial["references"].split()[-1] == sent["Message-ID"]
    assert form.initial["body"].startswith(f"\n\nOn {sent['Date']}, {sent['From']} wrote:\n")
    assert "> Unplug it.\n> Then wait.\n" in form.initial["body"]
    assert (reply_address(ticket), f"{reply_address(ticket)} (the ticket's reply address)") in form.fields[
        "to"
    ].widget.choices


def test_a_reply_to_an_unknown_email_is_404(dev_mailbox):
    assert Client().get(WRITE, {"reply": "20250101T000000000000-deadbeef.eml"}).status_code == 404


def test_the_reply_threads_onto_the_ticket_with_its_quote_stripped(desk_reply, gateway, queue):
    ticket, name, sent = desk_reply
    initial = Client().get(WRITE, {"reply": name}).context["form"].initial

    response = Client().post(WRITE, initial | {"body": "That worked, thanks!" + initial["body"]})

    assert response.status_code == 302
    envelope, message = received(gateway)
    assert message["In-Reply-To"] == sent["Message-ID"]
    assert message["References"].split()[-1] == sent["Message-ID"]
    assert envelope.rcpt_tos == [reply_address(ticket)]
    # what the gateway then does: store, route
    row, _ = inbound_store(raw=envelope.content, queue=queue, channel="smtp", recipient=envelope.rcpt_tos[0])
    inbound_route(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.ROUTED, row.outcome
    last = ticket.messages.last()
    assert (last.author_customer, last.body) == (ticket.customer, "That worked, thanks!")
    assert "> Unplug it." in last.full_body


# The site's URLs without inbound's (as when it is not installed): the dev mailbox pages still render, without links.
urlpatterns = [
    pattern
    for pattern in site_urls.urlpatterns
    if getattr(getattr(pattern, "urlconf_module", None), "__name__", "") != "inbound.urls"
]


def test_the_dev_mailbox_pages_render_without_inbound(desk_reply, settings):
    _, name, _ = desk_reply
    settings.ROOT_URLCONF = __name__
    with pytest.raises(NoReverseMatch):
        reverse("inbound:dev-write")

    listing, email = Client().get(reverse("devmail")), Client().get(reverse("devmail-detail", args=[name]))

    assert listing.status_code == email.status_code == 200
    assert "Write as a customer" not in listing.text and "Reply as the customer" not in email.text
