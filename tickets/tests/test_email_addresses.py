"""The From header of customer emails holds whatever a queue is named: sent through Django's real SMTP backend to an
SMTP server in this process, every message arrives with a From whose display name reads back as the queue's name."""

from email import message_from_bytes

import pytest

from outbox.services import email_jobs, outbox_send
from tickets import services
from tickets.models import Message
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db

# queue name → the display name the customer sees: line breaks (and other control characters) fold into one space,
# so a name can never start a header of its own
QUEUE_NAMES = {
    "Billing, Refunds": "Billing, Refunds",
    "Support: EU": "Support: EU",
    'The "Best" Team': 'The "Best" Team',
    "Team <Ops> @ HQ": "Team <Ops> @ HQ",
    "Zürich Süpport – Ωmega": "Zürich Süpport – Ωmega",
    "Back\\slash; (comment)": "Back\\slash; (comment)",
    "Evil\r\nBcc: victim@example.org": "Evil Bcc: victim@example.org",
    "Tab\tand\x07bell\x7f": "Tab and bell",
}


def send_queued() -> None:
    token, ids = email_jobs.claim_due()
    outbox_send(email_ids=ids, claim_token=token)


@pytest.mark.parametrize("name", QUEUE_NAMES)
def test_reply_and_confirmation_from_a_queue_with_any_name_reach_the_smtp_server(smtp_sink, name):
    # given a queue with an awkward name, a request from a customer and an agent's reply
    queue = QueueFactory(name=name, reply_from_email="desk@support.example.com")
    agent = MembershipFactory(queue=queue).user
    customer = CustomerFactory(email="ada@example.org")
    ticket = services.request_submit(queue=queue, email=customer.email, name="Ada", subject="Help", body="Hi")
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="On it.", by=agent)

    # when the outbox sends them over SMTP
    send_queued()

    # then the server got both, each From parseable with the queue's name, and no extra recipient or header
    assert len(smtp_sink.received) == 2
    assert smtp_sink.senders() == [(QUEUE_NAMES[name], "desk@support.example.com")] * 2
    for envelope in smtp_sink.received:
        assert envelope.rcpt_tos == ["ada@example.org"]
        assert message_from_bytes(envelope.content)["Bcc"] is None
