"""What an app adds to the new-ticket confirmation (tickets.extensions.ConfirmationContent) is in the acknowledgement
of an email that starts a ticket too (the same email, queued by routing): plain in its text, escaped in its HTML."""

import pytest

from inbound.routing import inbound_route
from inbound.store import inbound_store
from outbox.tests.sending import outbox_deliver
from tickets import extensions
from tickets.models import Channel, Ticket

from .mail import email_bytes

pytestmark = pytest.mark.django_db

XSS = "<b>Tips</b> & co"


@pytest.fixture(autouse=True)
def _only_the_tests_contents(monkeypatch, own_templates):
    monkeypatch.setattr(extensions, "_confirmation_contents", [])
    own_templates(
        {
            "ext/tips.txt": "Tips for {{ subject }}: {{ tips }}",
            "ext/tips.html": '<p class="ext-tips">{{ tips }}</p>',
            "ext/web.txt": "FORM ONLY",
            "ext/web.html": "FORM ONLY",
        }
    )


def acknowledgement(queue):
    row, _ = inbound_store(
        raw=email_bytes(subject="Printer on fire", body="It is on fire."),
        queue=queue,
        channel="smtp",
        recipient=queue.reply_from_email,
        envelope_sender="",
    )
    inbound_route(email_id=row.pk)
    assert Ticket.objects.count() == 1
    return row


def test_the_acknowledgement_carries_the_registered_content(queue, mailoutbox):
    extensions.confirmation_content_register(
        extensions.ConfirmationContent(
            template="ext/tips",
            context=lambda ticket: {"subject": ticket.subject, "tips": XSS},
            channels=frozenset({Channel.EMAIL}),
        )
    )
    extensions.confirmation_content_register(
        extensions.ConfirmationContent(template="ext/web", context=lambda ticket: {}, channels=frozenset({Channel.WEB}))
    )

    acknowledgement(queue)
    assert outbox_deliver() == 1

    [message] = mailoutbox
    assert message.extra_headers["Auto-Submitted"] == "auto-replied"
    assert f"Tips for Printer on fire: {XSS}" in message.body
    assert '<p class="ext-tips">&lt;b&gt;Tips&lt;/b&gt; &amp; co</p>' in message.alternatives[0].content
    assert "FORM ONLY" not in message.body + message.alternatives[0].content


def test_with_nothing_registered_the_acknowledgement_has_no_addition(queue, mailoutbox):
    acknowledgement(queue)
    assert outbox_deliver() == 1

    [message] = mailoutbox
    assert "Tips" not in message.body and "ext-tips" not in message.alternatives[0].content
    assert "/support/c/" in message.body  # the conversation link, then the greeting
