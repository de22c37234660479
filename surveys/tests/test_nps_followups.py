"""A detractor's NPS answer opens one recovery follow-up owned by the queue's lead once the answer settles; such a
follow-up belongs to the customer, not a ticket: its pages, emails, webhook, the permission rules, no re-survey, and
erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from outbox.models import OutgoingEmail
from surveys import services
from surveys.models import FollowUp, FollowUpEvent, NpsSurvey, Resurvey, SurveyPolicy
from surveys.tests.factories import FollowUpFactory
from tickets.erasure import customer_erase
from tickets.models import QueueMembership
from tickets.tests.factories import CustomerFactory, MembershipFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
AT = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 (business hours)
SETTLE = SurveyPolicy._meta.get_field("settle_minutes").get_default()


@pytest.fixture(autouse=True)
def _at_ten():
    with time_machine.travel(AT, tick=False):
        yield


def emailed_nps(queue, customer=None) -> NpsSurvey:
    return NpsSurvey.objects.create(
        customer=customer or CustomerFactory(name="Dana Detractor"),
        queue=queue,
        status=NpsSurvey.Status.SENT,
        send_after=AT - timedelta(days=1),
        sent_at=AT - timedelta(days=1),
        expires_at=AT + timedelta(days=13),
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def settle_beat(minutes: float = SETTLE) -> int:
    return services.nps_answers_settle_due(now=AT + timedelta(minutes=minutes))


def test_a_detractors_one_click_opens_one_follow_up_for_the_lead_once_it_settles(queue, lead, agent):
    nps = emailed_nps(queue)

    services.nps_answer(nps_id=nps.pk, score=3, via="auto")  # the email's one-click (survey.js)
    assert not FollowUp.objects.exists()  # not yet: a click alone is not settled
    assert settle_beat(SETTLE - 1) == 0
    assert settle_beat() == 1

    followup = FollowUp.objects.get()
    assert (followup.nps_survey, followup.customer, followup.queue) == (nps, nps.customer, queue)
    assert (followup.ticket, followup.invitation, followup.owner, followup.reason) == (None, None, lead, "")
    assert followup.status == FollowUp.Status.OPEN and followup.due_at > AT
    assert list(followup.events.values_list("kind", flat=True)) == [FollowUpEvent.Kind.OPENED]
    assert str(followup) == "Follow-up on the NPS answer of Dana Detractor"
    # settled once: the next beats and the customer adding a reason open nothing more
    assert settle_beat(SETTLE + 5) == 0
    services.nps_answer(nps_id=nps.pk, score=3, comment="Too slow", via="person")
    assert FollowUp.objects.count() == 1


def test_a_person_submitting_the_page_settles_it_at_once(queue, lead):
    nps = emailed_nps(queue)
    services.nps_answer(nps_id=nps.pk, score=0, comment="Never again.", via="person")
    assert FollowUp.objects.get().nps_survey == nps


@pytest.mark.parametrize("score", [7, 8, 9, 10])
def test_passives_and_promoters_open_none(queue, lead, score):
    services.nps_answer(nps_id=emailed_nps(queue).pk, score=score, comment="", via="person")
    assert settle_beat() == 0  # the page's submission settled it
    assert not FollowUp.objects.exists()


def test_a_score_changed_to_a_detractors_settles_again(queue, lead):
    nps = emailed_nps(queue)
    services.nps_answer(nps_id=nps.pk, score=9, via="person")
    assert not FollowUp.objects.exists()
    with time_machine.travel(AT + timedelta(hours=1), tick=False):
        services.nps_answer(nps_id=nps.pk, score=2, via="auto")
    assert services.nps_answers_settle_due(now=AT + timedelta(hours=1, minutes=SETTLE)) == 1
    assert FollowUp.objects.get().nps_survey == nps


def test_a_link_scanners_burst_opens_none(queue, lead):
    nps = emailed_nps(queue)
    for score in (10, 5, 0):  # every link within seconds
        services.nps_answer(nps_id=nps.pk, score=score, via="auto")
    assert settle_beat() == 1  # settled, and not acted on
    assert not FollowUp.objects.exists()


def test_no_active_lead_leaves_it_unassigned_for_the_team(queue, agent):
    MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD, user__is_active=False)
    services.nps_answer(nps_id=emailed_nps(queue).pk, score=1, comment="", via="person")

    followup = FollowUp.objects.get()
    assert followup.owner is None
    page = client_for(agent).get(reverse("surveys:team-followups"))
    assert f'href="/followups/{followup.pk}/"' in page.text and "No ticket: NPS survey" in page.text


def test_the_follow_up_opens_with_a_webhook_that_has_no_ticket(queue, lead):
    WebhookEndpoint.objects.create(name="CRM", url="https://hooks.example.com/x", events=["followup.created"])
    nps = emailed_nps(queue)
    services.nps_answer(nps_id=nps.pk, score=4, comment="Meh", via="person")

    followup = FollowUp.objects.get()
    payload = WebhookDelivery.objects.get(event="followup.created").payload
    assert json.loads(json.dumps(payload)) == {
        "followup_id": followup.pk,
        "invitation_id": None,
        "ticket_id": None,
        "ticket_reference": None,
        "customer_id": nps.customer_id,
        "nps_survey_id": nps.pk,
        "queue_id": queue.pk,
        "owner_id": lead.pk,
        "status": "open",
        "due_at": followup.due_at.isoformat(),
        "created_at": followup.created_at.isoformat(),
        "csat": None,
        "ces": None,
        "nps_score": 4,
    }


def test_the_lead_works_it_on_its_page_and_resolving_it_sends_no_resurvey(queue, lead, outsider):
    nps = emailed_nps(queue)
    services.nps_answer(nps_id=nps.pk, score=2, comment="I had to chase <b>every</b> answer.", via="person")
    followup = FollowUp.objects.get()
    client = client_for(lead)

    page = client.get(reverse("surveys:followup-detail", args=[followup.pk]))
    assert page.status_code == 200
    assert "The NPS answer" in page.text and "<strong>2/10</strong> — detractor" in page.text
    assert "I had to chase &lt;b&gt;every&lt;/b&gt; answer." in page.text  # escaped
    assert "Opened because</dt><dd>a detractor's NPS answer" in page.text
    assert "Agent at close" not in page.text
    listing = client.get(reverse("surveys:my-followups"))
    assert "NPS 2/10" in listing.text and "Dana Detractor" in listing.text
    # another queue's agent: 404, as every follow-up they cannot see
    assert client_for(outsider).get(reverse("surveys:followup-detail", args=[followup.pk])).status_code == 404

    response = client.post(
        reverse("surveys:followup-resolve", args=[followup.pk]),
        {"outcome": "Called her; credited a month.", "root_cause": "slow_response"},
    )
    assert response.status_code == 302
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.RESOLVED
    assert not Resurvey.objects.exists()  # the next NPS survey measures the relationship again


def test_reminder_and_escalation_emails_name_the_nps_answer(queue, lead):
    nps = emailed_nps(queue)
    services.nps_answer(nps_id=nps.pk, score=5, comment="Slow & sloppy", via="person")
    followup = FollowUp.objects.get()

    assert services.followups_remind_due(now=followup.due_at - timedelta(minutes=30)) == 1
    assert services.followups_escalate_due(now=followup.due_at + timedelta(minutes=1)) == 1
    for kind in ("followup_reminder", "followup_escalation"):
        email = OutgoingEmail.objects.get(kind=kind)
        assert "the NPS answer of Dana Detractor" in email.subject
        assert "The customer answered NPS 5/10" in email.body_text
        assert 'Their reason: "Slow & sloppy"' in email.body_text  # plain text: not HTML-escaped


def test_erasure_keeps_the_follow_ups_figures_and_erases_their_text(queue, lead, admin_user):
    customer = CustomerFactory(name="Dana Detractor")
    nps = emailed_nps(queue, customer)
    services.nps_answer(nps_id=nps.pk, score=1, comment="Bad", via="person")
    followup = FollowUp.objects.get()
    services.followup_mark_contacted(followup_id=followup.pk, by=lead, note="Dana said the app crashes daily.")

    assert customer_erase(customer_id=customer.pk, by=admin_user)

    followup.refresh_from_db()
    assert not NpsSurvey.objects.exists()
    assert (followup.nps_survey, followup.customer_id) == (None, customer.pk)
    assert followup.status == FollowUp.Status.CONTACTED
    assert "Dana" not in followup.note
    assert not followup.events.filter(note__contains="crashes").exists()
    page = client_for(lead).get(reverse("surveys:followup-detail", args=[followup.pk]))
    assert page.status_code == 200 and "The answer was erased." in page.text


def test_the_follow_up_lists_keep_their_queries_with_nps_and_rating_follow_ups(
    queue, lead, django_assert_max_num_queries
):
    for _ in range(3):
        FollowUpFactory(queue=queue, owner=lead)
        services.nps_answer(nps_id=emailed_nps(queue, CustomerFactory()).pk, score=0, comment="", via="person")
    client = client_for(lead)
    with django_assert_max_num_queries(8) as few:
        assert client.get(reverse("surveys:my-followups")).status_code == 200
    for _ in range(3):
        FollowUpFactory(queue=queue, owner=lead)
        services.nps_answer(nps_id=emailed_nps(queue, CustomerFactory()).pk, score=0, comment="", via="person")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("surveys:my-followups")).status_code == 200


def test_a_follow_up_is_of_a_rating_or_of_a_customer_never_half_of_each(queue, lead):
    from django.db import IntegrityError, transaction

    rating = FollowUpFactory(queue=queue, owner=lead)
    nps = emailed_nps(queue)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=rating.pk).update(ticket=None)  # an invitation without its ticket
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=rating.pk).update(nps_survey=nps)  # a rating's and an NPS answer's
