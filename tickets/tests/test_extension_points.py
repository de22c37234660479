"""The extension points other apps add to the customer's emails and the ticket pages through (tickets.extensions):
content in the new-ticket confirmation, a block under the request form's subject, a tool in the reply box. Each
test registers a test extension of its own (the registries emptied for it) and sees it rendered, and sees nothing
change with nothing registered."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from outbox.tests.sending import outbox_deliver
from tickets import extensions, services
from tickets.models import Channel, CloseReason
from tickets.notifications import request_confirmation_render
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

XSS = "<b>Tips</b> & co"
NEW = reverse("support:new")


@pytest.fixture(autouse=True)
def _no_extensions(monkeypatch):
    """Nothing registered but what the test registers (surveys and inbound register none of these)."""
    for registry in ("_confirmation_contents", "_request_form_blocks", "_reply_tools"):
        monkeypatch.setattr(extensions, registry, [])
    cache.clear()  # the public form's rate-limit counters
    yield
    cache.clear()


def request(queue, *, subject="Router down"):
    return services.request_submit(queue=queue, email="ada@example.org", name="Ada", subject=subject, body="Help")


def without_link(text: str) -> str:
    return re.sub(r"https?://\S+/support/c/[^/\s\"]+/", "LINK", text)


# --- content in the confirmation email ------------------------------------------------------------------------------


@pytest.fixture
def tips(own_templates):
    own_templates(
        {"ext/tips.txt": "Before you wait: {{ tips }}", "ext/tips.html": '<p class="ext-tips">{{ tips }}</p>'}
    )
    calls = []

    def context(ticket):
        calls.append(ticket.pk)
        return {"tips": XSS}

    extensions.confirmation_content_register(extensions.ConfirmationContent(template="ext/tips", context=context))
    return calls


def test_confirmation_content_is_rendered_at_send_time_plain_in_text_and_escaped_in_html(queue, tips, mailoutbox):
    # given a registered content; when a customer submits a request
    ticket = request(queue)
    # then nothing is rendered until the outbox sends the email
    assert tips == []

    assert outbox_deliver() == 1

    assert tips == [ticket.pk]
    [message] = mailoutbox
    assert f"\n\nBefore you wait: {XSS}\n\nThank you," in message.body
    html = message.alternatives[0].content
    assert '<p class="ext-tips">&lt;b&gt;Tips&lt;/b&gt; &amp; co</p>' in html
    assert XSS not in html


def test_confirmation_content_for_one_channel_only(queue, own_templates):
    own_templates({"ext/ack.txt": "By email", "ext/ack.html": "<p>By email</p>"})
    only_email = extensions.ConfirmationContent(
        template="ext/ack", context=lambda ticket: {}, channels=frozenset({Channel.EMAIL})
    )
    extensions.confirmation_content_register(only_email)

    form_confirmation = request_confirmation_render({"ticket_id": request(queue).pk})
    acknowledgement = request_confirmation_render({"ticket_id": request(queue).pk, "auto_reply": True})

    assert "By email" not in form_confirmation.text and "By email" not in form_confirmation.html
    assert "By email" in acknowledgement.text and "<p>By email</p>" in acknowledgement.html


def test_with_nothing_registered_or_nothing_to_add_the_confirmation_is_unchanged(queue, own_templates):
    ticket = request(queue)
    before = request_confirmation_render({"ticket_id": ticket.pk})
    assert "\n\nThank you," in before.text  # the link, a blank line, the greeting

    own_templates({"ext/none.txt": "NOT SHOWN", "ext/none.html": "NOT SHOWN"})
    extensions.confirmation_content_register(
        extensions.ConfirmationContent(template="ext/none", context=lambda t: None)
    )
    after = request_confirmation_render({"ticket_id": ticket.pk})

    assert (without_link(after.text), without_link(after.html)) == (
        without_link(before.text),
        without_link(before.html),
    )
    assert "NOT SHOWN" not in after.text + after.html


# --- a block under the request form's subject --------------------------------------------------------------------


@pytest.fixture
def subject_block(own_templates):
    own_templates({"ext/block.html": '<div class="ext-block">Articles about “{{ subject }}”</div>'})

    def context(form):
        return {"subject": form["subject"].value() or ""}

    extensions.request_form_block_register(extensions.RequestFormBlock(template="ext/block.html", context=context))


def test_the_block_is_under_the_subject_field_and_keeps_the_page_budget(
    client, queue, subject_block, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        page = client.get(NEW)

    assert page.status_code == 200
    text = page.text
    assert text.index('name="subject"') < text.index('class="ext-block"') < text.index('name="message"')


def test_the_block_is_given_the_bound_form_and_escapes_it(client, queue, subject_block):
    page = client.post(NEW, {"name": "Ada", "email": "not an address", "queue": queue.pk, "subject": XSS})

    assert page.status_code == 400
    assert "Articles about “&lt;b&gt;Tips&lt;/b&gt; &amp; co”" in page.text and XSS not in page.text


def test_with_nothing_registered_the_request_form_has_no_block(client, queue):
    text = client.get(NEW).text

    assert "ext-block" not in text
    assert re.search(r'name="subject"[^<]*>\s*</div>\s*<div class="field">', text)  # the message field comes next


# --- a tool in the agent's reply box -----------------------------------------------------------------------------


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def reply_tool(own_templates):
    own_templates({"ext/tool.html": '<button type="button" class="ext-tool">Insert {{ subject }}</button>'})
    extensions.reply_tool_register(
        extensions.ReplyTool(template="ext/tool.html", context=lambda ticket: {"subject": ticket.subject})
    )


def make_ticket(queue, *, subject=XSS):
    return services.ticket_create(queue=queue, customer=CustomerFactory(), subject=subject, body="Hi", by=None)


def test_the_tool_is_in_the_reply_box_escaped_within_the_page_budget(
    agent_client, queue, reply_tool, django_assert_max_num_queries
):
    ticket = make_ticket(queue)

    with django_assert_max_num_queries(12):
        text = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).text

    reply_form = text[text.index(reverse("tickets:reply", args=[ticket.pk])) : text.index("Send reply")]
    assert '<div class="reply-tools"><button type="button" class="ext-tool">Insert &lt;b&gt;' in reply_form
    assert XSS not in text


def test_a_closed_ticket_has_no_reply_box_and_no_tool(agent_client, agent, queue, reply_tool):
    ticket = make_ticket(queue)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)

    text = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).text

    assert "ext-tool" not in text and "reply-tools" not in text


def test_with_nothing_registered_the_reply_box_has_no_tools(agent_client, queue):
    ticket = make_ticket(queue)

    text = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).text

    assert "reply-tools" not in text and "Send reply" in text
