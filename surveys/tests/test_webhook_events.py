"""The surveys app's webhook events, through the real services: survey.answered on each submission, followup.created
when a settled poor rating opens a follow-up; both queued in the same transaction and POSTed by the sweep."""

import json
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from surveys import services
from surveys.models import FollowUp, SurveyInvitation
from tickets import services as tickets
from tickets.models import CloseReason
from tickets.tests.factories import CalendarFactory
from webhooks.events import webhook_events
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tasks import send_webhook, sweep_webhooks
from webhooks.tests.receiver import run_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with run_receiver() as state:
        yield state


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(name="CRM", url=receiver.url, events=list(webhook_events.keys()))


@pytest.fixture
def invitation(queue, agent, customer) -> SurveyInvitation:
    CalendarFactory()
    ticket = tickets.ticket_create(
        queue=queue, customer=customer, subject="Login", body="Help", by=None, assignee=agent
    )
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        assert services.invitations_send_due() == 1
    return SurveyInvitation.objects.get(ticket=ticket)


def sweep_and_send(django_capture_on_commit_callbacks) -> int:
    """What beat + a worker do: claim due deliveries, then each send task runs (in this process)."""
    with (
        mock.patch.object(send_webhook, "delay", side_effect=lambda pk, token: send_webhook(pk, token)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return sweep_webhooks()


def test_a_poor_settled_rating_emits_survey_answered_then_followup_created(
    endpoint, receiver, invitation, agent, django_capture_on_commit_callbacks
):
    # given a customer's one click on "1" (auto-submitted, not yet settled)
    services.response_submit(invitation_id=invitation.pk, via="auto", csat=1)
    [answered] = WebhookDelivery.objects.all()
    assert answered.event == "survey.answered"
    assert not FollowUp.objects.exists()

    # when the rating settles (beat), a follow-up opens
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert services.responses_settle_due() == 1
    followup = FollowUp.objects.get()
    created = WebhookDelivery.objects.get(event="followup.created")

    # then both go out, signed, once each (the next sweeps)
    with time_machine.travel(timezone.now() + timedelta(minutes=12)):
        assert sweep_and_send(django_capture_on_commit_callbacks) == 2
        assert sweep_and_send(django_capture_on_commit_callbacks) == 0
    bodies = {r.headers["X-Helpdesk-Event"]: json.loads(r.body) for r in receiver.requests}
    assert len(receiver.requests) == 2
    assert bodies["survey.answered"]["id"] == str(answered.event_id)
    data = bodies["survey.answered"]["data"]
    assert data == {
        "invitation_id": invitation.pk,
        "round": 1,
        "ticket_id": invitation.ticket_id,
        "ticket_reference": invitation.ticket.reference,
        "queue_id": invitation.queue_id,
        "agent_id": agent.pk,
        "csat": 1,
        "ces": None,
        "comment": "",
        "answered_at": data["answered_at"],
        "updated_at": data["updated_at"],
        "submitted_via": "auto",
        "flagged_automated": False,
    }
    assert bodies["followup.created"]["id"] == str(created.event_id)
    assert bodies["followup.created"]["data"] == {
        "followup_id": followup.pk,
        "invitation_id": invitation.pk,
        "ticket_id": invitation.ticket_id,
        "ticket_reference": invitation.ticket.reference,
        "customer_id": invitation.customer_id,
        "nps_survey_id": None,
        "queue_id": invitation.queue_id,
        "owner_id": agent.pk,
        "status": "open",
        "due_at": followup.due_at.isoformat(),
        "created_at": followup.created_at.isoformat(),
        "csat": 1,
        "ces": None,
        "nps_score": None,
    }
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.DELIVERED}


def test_a_person_confirming_with_a_comment_emits_both_at_once_and_a_change_emits_again(endpoint, invitation):
    services.response_submit(invitation_id=invitation.pk, via="person", csat=2, ces=2, comment="Slow")

    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == ["followup.created", "survey.answered"]

    # a changed answer emits survey.answered again for the same invitation; the follow-up is not created twice
    services.response_submit(invitation_id=invitation.pk, via="person", csat=4)
    answered = WebhookDelivery.objects.filter(event="survey.answered").order_by("id")
    assert [d.payload["csat"] for d in answered] == [2, 4]
    assert {d.payload["invitation_id"] for d in answered} == {invitation.pk}
    assert WebhookDelivery.objects.filter(event="followup.created").count() == 1


def test_a_rolled_back_answer_emits_nothing(endpoint, invitation):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.response_submit(invitation_id=invitation.pk, via="person", csat=1, comment="Bad")
        raise RuntimeError("the request failed after the service")

    assert not WebhookDelivery.objects.exists()


def test_without_endpoints_answers_and_follow_ups_work_and_queue_nothing(invitation):
    services.response_submit(invitation_id=invitation.pk, via="person", csat=1, comment="Bad")

    assert FollowUp.objects.count() == 1
    assert not WebhookDelivery.objects.exists()
