"""Erasing a customer, every app together: afterwards no text column of any model holds their name, email or words
(nor the agents' words about them), every figure is unchanged, and their old links answer the invalid-link page."""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingEmail
from outbox.services import email_jobs, outbox_send
from surveys import services as surveys
from surveys.models import FollowUp, FollowUpEvent, SurveyInvitation, SurveyOptOut, SurveyPolicy, TicketRating
from surveys.selectors import feedback_stats
from tickets import services as tickets
from tickets.erasure import customer_erase
from tickets.models import CloseReason, Message, Ticket
from webhooks.events import webhook_events
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

NAME, EMAIL = "Zelphine Quarrington", "zq.private@example.org"
# Her name, address and words, and what the agents wrote about her.
SECRETS = ("Zelphine", "Quarrington", "zq.private", "QX-4471", "flux capacitor", "Pelican Street", "tea and biscuits")
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


@pytest.fixture
def history(queue, agent, lead):
    """A request, a reply and a note, closed; the survey emailed, answered poor with a comment, reminded about and
    escalated; the follow-up contacted; every event sent to a webhook; the customer opted out of surveys."""
    SurveyPolicy.objects.create(queue=None, delay_minutes=0, throttle_days=0)
    WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.org/hooks", events=list(webhook_events.keys()))
    ticket = tickets.request_submit(
        queue=queue, email=EMAIL, name=NAME, subject="My flux capacitor", body="Passport QX-4471, 3 Pelican Street"
    )
    tickets.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Dear Zelphine, fixed", by=agent)
    tickets.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Ms Quarrington is VIP", by=agent)
    tickets.ticket_assign(ticket_id=ticket.pk, assignee=agent, by=agent)
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    assert surveys.invitations_send_due() == 1
    token, ids = email_jobs.claim_due()  # the confirmation, the reply and the survey are sent (their links made then)
    outbox_send(email_ids=ids, claim_token=token)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    surveys.response_submit(
        invitation_id=invitation.pk, via="person", csat=1, ces=2, comment="The flux capacitor, Zelphine here"
    )
    followup = FollowUp.objects.get(invitation=invitation)
    assert surveys.followup_remind(followup_id=followup.pk, now=followup.due_at - timedelta(minutes=30))
    assert surveys.followup_escalate(followup_id=followup.pk, now=followup.due_at + timedelta(minutes=1))
    surveys.followup_mark_contacted(followup_id=followup.pk, by=agent, note="Zelphine wants tea and biscuits")
    surveys.customer_opt_out(customer_id=ticket.customer_id)
    return Ticket.objects.get(pk=ticket.pk)


def traces() -> dict[str, list[str]]:
    """Every secret still found in a text column (char, text, JSON) of any model: {secret: ["app.Model.field"]}."""
    found: dict[str, list[str]] = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_FIELDS):
                for secret in SECRETS:
                    if model._base_manager.filter(**{f"{field.name}__icontains": secret}).exists():
                        found.setdefault(secret, []).append(f"{model._meta.label}.{field.name}")
    return found


def figures(agent) -> dict:
    now = timezone.now()
    stats = feedback_stats(
        invitations=SurveyInvitation.objects.filter(agent_id=agent.pk),
        start=now - timedelta(days=1),
        end=now + timedelta(days=1),
    )
    keep = [f.name for f in Ticket._meta.concrete_fields if f.name != "subject"]
    return {
        "tickets": list(Ticket.objects.values(*keep)),
        "messages": list(Message.objects.values("kind", "created_at", "author_user", "author_customer")),
        "stats": stats,
        "ratings": list(TicketRating.objects.values()),
        "answers": list(SurveyInvitation.objects.values("status", "sent_at", "answer_csat", "answer_ces")),
        "followups": list(FollowUp.objects.values("status", "owner", "due_at", "contacted_at", "escalated_at")),
        "followup_events": list(FollowUpEvent.objects.values_list("kind", flat=True)),
        "webhooks": WebhookDelivery.objects.count(),
    }


def link(pattern: str, kind: str) -> str:
    """A link of the email of this kind as it was sent (no stored row holds it)."""
    subject = OutgoingEmail.objects.filter(kind=kind).first().subject
    body = next(message.body for message in mail.outbox if message.subject == subject)
    return re.search(rf"https?://[^/\s]+({pattern}[^/\s?]+/)", body).group(1)  # type: ignore[union-attr]


def test_after_an_erasure_no_text_column_holds_the_customer(client, admin_user, history):
    found = traces()
    assert set(found) == set(SECRETS)  # the scan finds each of them beforehand
    assert {"outbox.OutgoingEmail.body_text", "webhooks.WebhookDelivery.payload"} <= set(found["Zelphine"])
    client.force_login(admin_user)

    client.post(
        reverse("admin:tickets_customer_changelist"),
        {"action": "erase_personal_data", "_selected_action": [history.customer_id], "confirmed": "yes"},
    )

    assert traces() == {}


def test_an_erasure_keeps_every_figure(admin_user, agent, history):
    before = figures(agent)
    assert before["stats"].responses == 1 and before["ratings"][0]["poor"]

    customer_erase(customer_id=history.customer_id, by=admin_user)

    assert figures(agent) == before


def test_the_customers_old_links_answer_the_invalid_link_page(client, admin_user, history):
    conversation = link("/support/c/", "confirmation")
    survey = link("/s/", "survey")
    assert client.get(conversation).status_code == 200
    assert client.get(survey).status_code == 200

    customer_erase(customer_id=history.customer_id, by=admin_user)

    assert client.get(conversation).status_code == 404
    assert "This link can no longer be used" in client.get(conversation).content.decode()
    assert client.get(survey).status_code == 404


def test_an_erasure_closes_the_surveys_and_forgets_the_opt_out(admin_user, agent, history, queue):
    again = tickets.ticket_create(queue=queue, customer=history.customer, subject="S", body="B", by=agent)
    SurveyOptOut.objects.all().delete()
    tickets.ticket_close(ticket_id=again.pk, reason=CloseReason.SOLVED, by=agent)  # round 1 of `again`: scheduled
    emailed = SurveyInvitation.objects.get(ticket=history)

    customer_erase(customer_id=history.customer_id, by=admin_user)

    scheduled = SurveyInvitation.objects.get(ticket=again)
    assert (scheduled.status, scheduled.suppression_reason) == ("suppressed", "erased")
    emailed.refresh_from_db()
    assert emailed.status == "answered" and not emailed.is_open_for_answers
    assert not SurveyOptOut.objects.exists()
    # a later close of their reopened ticket schedules nothing either
    tickets.ticket_reopen(ticket_id=again.pk, by=agent)
    tickets.ticket_close(ticket_id=again.pk, reason=CloseReason.SOLVED, by=agent)
    assert SurveyInvitation.objects.get(ticket=again, round=2).suppression_reason == "erased"
