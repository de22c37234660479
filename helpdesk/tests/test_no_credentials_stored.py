"""Only the SHA-256 of a customer link's token is stored: the raw tokens exist in the emails that were sent, and in
no text of any table, whatever the desk did with them (survey, unsubscribe, conversation, password reset)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from importlib import import_module

import pytest
import time_machine
from django.apps import apps
from django.core.cache import cache
from django.db import models
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingEmail
from outbox.services import email_enqueue
from outbox.tests.sending import outbox_deliver
from surveys.models import SurveyOptOut, SurveyResponse
from surveys.services import invitations_send_due
from surveys.tests.factories import InvitationFactory
from tickets import services as tickets
from tickets.models import CloseReason, Message

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}")  # a path segment this long is a credential (ids and slugs are shorter)


def tokens_in(messages) -> set[str]:
    """Every token in the links of these sent emails: text and HTML bodies and headers."""
    found = set()
    for message in messages:
        parts = [message.body, *(content for content, _ in message.alternatives), *message.extra_headers.values()]
        for url in re.findall(r"https?://[^\s\"<>]+", "\n".join(map(str, parts))):
            found.update(TOKEN.findall(url.split("?")[0]))
    return found


def database_text() -> list[tuple[str, str]]:
    """(table.column, value) for every CharField, TextField and JSONField value of every model's table."""
    text = []
    for model in apps.get_models(include_auto_created=True):
        columns = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField)
        ]
        if not columns:
            continue
        for row in model._default_manager.values_list(*columns):
            for column, value in zip(columns, row, strict=True):
                if value not in (None, ""):
                    shown = value if isinstance(value, str) else json.dumps(value)
                    text.append((f"{model._meta.db_table}.{column}", shown))
    return text


def link_path(messages, pattern: str) -> str:
    """The path of the first link in these emails' text bodies that matches `pattern`."""
    for message in messages:
        match = re.search(rf"https?://[^/\s]+({pattern})", message.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no link matching {pattern}")


def test_a_survey_round_a_reply_and_a_password_reset_leave_no_raw_token_in_the_database(
    client, settings, queue, agent, customer, mailoutbox
):
    cache.clear()  # rate-limit counters
    settings.EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"  # Django's own mail through the outbox too

    # given an agent's reply, emailed, and the customer answering from its conversation link
    ticket = tickets.ticket_create(queue=queue, customer=customer, subject="Printer", body="Jammed", by=None)
    tickets.ticket_assign(ticket_id=ticket.pk, assignee=agent, by=agent)
    tickets.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Open tray 2", by=agent)
    outbox_deliver()
    conversation = link_path(mailoutbox, r"/support/c/[^/\s]+/")
    assert client.get(conversation).status_code == 200
    assert client.post(conversation, {"body": "Worked, thanks"}).status_code == 302

    # and the ticket closed, its survey emailed, answered and the customer unsubscribed from it
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    later = timezone.now() + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        assert invitations_send_due() == 1
        outbox_deliver()
        survey = link_path(mailoutbox, r"/s/[^/\s]+/")
        assert client.get(survey).status_code == 200
        assert client.post(survey, {"csat": "4", "ces": "6", "comment": "Quick", "via": "person"}).status_code == 302
        unsubscribe = re.search(r"<https?://[^/]+(/\S+)>", mailoutbox[-1].extra_headers["List-Unsubscribe"]).group(1)
        assert client.post(unsubscribe).status_code == 200

    # and the agent reset their password from the emailed link
    client.post(reverse("password_reset"), {"email": agent.email})
    outbox_deliver()
    form_url = client.get(link_path(mailoutbox, r"/accounts/reset/\S+")).url
    new_password = {"new_password1": "a-new-Passw0rd!", "new_password2": "a-new-Passw0rd!"}
    assert client.post(form_url, new_password).status_code == 302

    # then every link worked
    assert SurveyResponse.objects.get().comment == "Quick"
    assert SurveyOptOut.objects.filter(customer=customer).exists()
    assert ticket.messages.filter(kind=Message.Kind.CUSTOMER_MESSAGE).exists()
    agent.refresh_from_db()
    assert agent.check_password("a-new-Passw0rd!")
    # and no token of any of the three emails is in any text the database holds
    assert len(mailoutbox) == 3
    tokens = tokens_in(mailoutbox)
    leaks = [(column, token) for column, value in database_text() for token in tokens if token in value]
    assert leaks == []
    assert len(tokens) >= 4  # the conversation, survey, unsubscribe and reset links at least: the check saw them


def test_rows_queued_rendered_before_the_upgrade_are_still_sent_and_keep_no_link(client, queue, agent, mailoutbox):
    # given rows as the desk stored them before render specs: rendered, their links in the body and headers
    old_link = "http://127.0.0.1:8000/support/c/OldRawTokenOfTheRenderedRow0123456789/"
    invitation = InvitationFactory(queue=queue, agent=agent)
    message = Message.objects.create(
        ticket=invitation.ticket, kind=Message.Kind.PUBLIC_REPLY, body="Reboot it", author_user=agent
    )

    def stored(kind, related=None, status=OutgoingEmail.Status.QUEUED, **kwargs):
        email = email_enqueue(
            kind=kind,
            to=invitation.customer.email,
            subject="Old",
            text=f"Click {old_link}",
            headers={"List-Unsubscribe": f"<{old_link}>"},
            related=related,
            **kwargs,
        )
        OutgoingEmail.objects.filter(pk=email.pk).update(status=status)
        return email.pk

    queued = {
        "survey": stored("survey", invitation),
        "reply": stored("reply_notification", message),
        "system": stored("system"),
        "orphan": stored("confirmation"),
    }
    sent = stored("survey_reminder", invitation, status=OutgoingEmail.Status.SENT)
    sent_system = stored("system", status=OutgoingEmail.Status.SENT)

    # when the data migrations run (the survey invitation is queued again: its email was not sent)
    # and the outbox sends what is queued
    import_module("outbox.migrations.0004_links_out_of_stored_emails").links_out(apps, None)
    import_module("surveys.migrations.0008_invitations_emailed_by_their_outbox_row").forward(apps, None)
    assert outbox_deliver() == 4

    # then every queued email went out: those with a related object rendered anew with working links
    by_row = dict(zip(sorted(queued.values()), mailoutbox, strict=True))
    survey_link = re.search(r"https?://[^/]+(/s/[^/\s]+/)", by_row[queued["survey"]].body).group(1)
    conversation = re.search(r"https?://[^/]+(/support/c/[^/\s]+/)", by_row[queued["reply"]].body).group(1)
    assert client.get(survey_link).status_code == 200 and client.get(conversation).status_code == 200
    assert old_link in by_row[queued["system"]].body and old_link in by_row[queued["orphan"]].body  # sent as stored
    # and no row keeps a body with the old link, sent or not
    rows = OutgoingEmail.objects.filter(pk__in=[*queued.values(), sent, sent_system])
    assert {row.status for row in rows} == {OutgoingEmail.Status.SENT}
    assert not [column for column, value in database_text() if "OldRawTokenOfTheRenderedRow" in value]
    assert OutgoingEmail.objects.get(pk=sent).render_spec == {"invitation_id": invitation.pk}
