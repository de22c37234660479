"""Survey emails as the customer's mail server receives them, through Django's real SMTP backend."""

from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from django.utils import timezone

from outbox.services import email_jobs, outbox_send
from surveys.tests.test_surveys import close_ticket, send_due
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db


def test_the_survey_email_of_a_queue_named_with_punctuation_and_line_breaks_reaches_the_smtp_server(smtp_sink):
    # given a queue whose name needs quoting, encoding and folding in a From header
    queue = QueueFactory(name='Billing, Refunds: "EU" <Zürich>\r\nBcc: victim@example.org')
    agent = MembershipFactory(queue=queue).user
    customer = CustomerFactory(email="ada@example.org")
    close_ticket(queue, agent, customer)
    send_due()

    # when the outbox sends the survey over SMTP
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        token, ids = email_jobs.claim_due()
        outbox_send(email_ids=ids, claim_token=token)

    # then it arrived, From the queue's name on one line, to the customer only
    [envelope] = smtp_sink.received
    assert envelope.rcpt_tos == ["ada@example.org"]
    assert smtp_sink.senders() == [('Billing, Refunds: "EU" <Zürich> Bcc: victim@example.org', queue.reply_from_email)]
    assert message_from_bytes(envelope.content)["Bcc"] is None
