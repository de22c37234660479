"""Re-surveys ("Did we make this right?") after a resolved follow-up: scheduling and suppression, the throttle
against other survey emails, the email and its one-click page (a link scanner records nothing), the recovery rate
from hand-made data, where it shows, and erasure."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingEmail, Suppression
from outbox.tests.sending import outbox_deliver
from surveys import services
from surveys.models import FollowUp, Resurvey, SurveyInvitation, SurveyOptOut, SurveyPolicy
from surveys.selectors import recovery_by, recovery_cells
from surveys.selectors.throttle import RESURVEY_QUIET, SurveyKind, survey_wait_until
from surveys.tests.factories import FollowUpFactory, InvitationFactory
from tickets.erasure import customer_erase
from tickets.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
Status = Resurvey.Status


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def followup(queue, agent):
    return FollowUpFactory(queue=queue, owner=agent)


def resolve(followup, by, cause="slow_response") -> Resurvey | None:
    services.followup_resolve(followup_id=followup.pk, by=by, outcome="Refunded and apologised", root_cause=cause)
    return Resurvey.objects.filter(followup=followup).first()


def emailed(resurvey: Resurvey) -> str:
    """Send the due re-survey through the outbox; returns its page link (path) for score 5, from the email sent."""
    with time_machine.travel(resurvey.send_after + timedelta(minutes=1), tick=False):
        assert services.resurveys_send_due() == 1
        assert outbox_deliver() == 1
    resurvey.refresh_from_db()
    assert resurvey.status == Status.SENT and resurvey.sent_at is not None
    message = mail.outbox[-1]
    assert message.subject.startswith("Did we make this right?") and message.to == [resurvey.customer.email]
    assert "List-Unsubscribe" in message.extra_headers
    match = re.search(r"https?://[^/\s]+(/r/[^/\s?]+/)\?score=5", message.body)
    assert match, message.body
    return match.group(1)


# --- scheduling -------------------------------------------------------------------------------------------------


def test_resolving_schedules_one_resurvey_a_day_later_with_snapshots(followup, agent):
    before = timezone.now()
    resurvey = resolve(followup, agent)

    assert resurvey is not None and resurvey.status == Status.SCHEDULED
    assert timedelta(hours=23, minutes=59) < resurvey.send_after - before <= timedelta(hours=24, seconds=5)
    assert (resurvey.agent, resurvey.queue, resurvey.root_cause) == (agent, followup.queue, "slow_response")
    resolve(followup, agent)  # a double submit
    assert Resurvey.objects.count() == 1


def test_the_policy_switch_turns_it_off(followup, agent):
    SurveyPolicy.objects.create(queue=followup.queue, resurvey=False)

    assert resolve(followup, agent) is None


@pytest.mark.parametrize("state", ["opted_out", "bounces"])
def test_never_to_a_customer_who_opted_out_or_bounces(followup, agent, state):
    customer = followup.invitation.customer
    if state == "opted_out":
        SurveyOptOut.objects.create(customer=customer)
    else:
        Suppression.objects.create(email=customer.email.upper(), reason="550 no such user")

    resurvey = resolve(followup, agent)

    assert resurvey.status == Status.SUPPRESSED and resurvey.reason
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        assert services.resurveys_send_due() == 0
    assert not OutgoingEmail.objects.filter(kind="resurvey").exists()


def test_an_opt_out_after_scheduling_suppresses_it_when_due(followup, agent):
    resurvey = resolve(followup, agent)
    SurveyOptOut.objects.create(customer=resurvey.customer)

    with time_machine.travel(resurvey.send_after, tick=False):
        assert services.resurveys_send_due() == 0
    resurvey.refresh_from_db()
    assert resurvey.status == Status.SUPPRESSED


# --- the throttle table ---------------------------------------------------------------------------------------


def test_a_resurvey_waits_two_days_after_another_survey_email_and_then_goes(followup, agent):
    resurvey = resolve(followup, agent)
    csat_sent = resurvey.send_after - timedelta(hours=12)
    InvitationFactory(customer=resurvey.customer, queue=followup.queue, sent_at=csat_sent)

    with time_machine.travel(resurvey.send_after, tick=False):
        assert services.resurveys_send_due() == 0  # it waits, it is not dropped
    resurvey.refresh_from_db()
    assert resurvey.status == Status.SCHEDULED and resurvey.send_after == csat_sent + RESURVEY_QUIET

    with time_machine.travel(resurvey.send_after, tick=False):
        assert services.resurveys_send_due() == 1


def test_a_resurvey_is_exempt_from_the_csat_throttle(followup, agent):
    """The CSAT policy's throttle days (30) do not hold it: only the 2 quiet days do."""
    resurvey = resolve(followup, agent)
    InvitationFactory(customer=resurvey.customer, queue=followup.queue, sent_at=resurvey.send_after - timedelta(days=3))

    with time_machine.travel(resurvey.send_after, tick=False):
        assert services.resurveys_send_due() == 1


def test_a_queued_survey_email_counts_as_sent_now(followup, agent):
    resurvey = resolve(followup, agent)
    InvitationFactory(customer=resurvey.customer, queue=followup.queue, status=SurveyInvitation.Status.QUEUED,
                      sent_at=None)  # fmt: skip

    assert survey_wait_until(customer_id=resurvey.customer_id, kind=SurveyKind.RESURVEY, now=resurvey.send_after)


def test_csat_is_never_held_back_by_a_resurvey(followup, agent):
    resurvey = resolve(followup, agent)
    emailed(resurvey)

    assert survey_wait_until(customer_id=resurvey.customer_id, kind=SurveyKind.CSAT, now=timezone.now()) is None


# --- the email and the page --------------------------------------------------------------------------------------


def test_one_click_records_on_post_never_on_get(client, followup, agent):
    link = emailed(resolve(followup, agent))

    page = client.get(link, {"score": "5"})
    assert page.status_code == 200 and "Did we make this right?" in page.text
    assert 'data-autosubmit="5"' in page.text
    resurvey = Resurvey.objects.get()
    assert resurvey.score is None  # a link scanner's GET records nothing

    answer = client.post(link, {"score": "5"}, HTTP_ACCEPT="application/json")
    assert answer.json() == {"recorded": True}
    resurvey.refresh_from_db()
    assert (resurvey.status, resurvey.score, resurvey.flagged_automated) == (Status.ANSWERED, 5, False)
    assert "Update my answer" in client.get(link).text


def test_a_scanner_clicking_every_score_is_flagged_and_not_counted(client, followup, agent):
    link = emailed(resolve(followup, agent))
    for score in ("5", "4", "3"):
        client.post(link, {"score": score}, HTTP_ACCEPT="application/json")

    resurvey = Resurvey.objects.get()
    assert resurvey.flagged_automated and not resurvey.counts


def test_bad_input_expiry_and_csrf(client, followup, agent):
    link = emailed(resolve(followup, agent))

    assert client.post(link, {"score": "9"}).status_code == 400
    assert client.get("/r/" + "x" * 43 + "/").status_code == 404
    assert Client(enforce_csrf_checks=True).post(link, {"score": "4"}).status_code == 403
    resurvey = Resurvey.objects.get()
    with time_machine.travel(resurvey.expires_at + timedelta(minutes=1), tick=False):
        assert client.get(link).status_code == 404
        assert services.resurveys_expire() == 1
    assert Resurvey.objects.get().score is None


def test_a_bouncing_address_leaves_it_not_emailed(followup, agent):
    resurvey = resolve(followup, agent)
    with time_machine.travel(resurvey.send_after, tick=False):
        assert services.resurveys_send_due() == 1
    Suppression.objects.create(email=resurvey.customer.email, reason="550")
    assert outbox_deliver(at=resurvey.send_after + timedelta(minutes=1)) == 0

    resurvey.refresh_from_db()
    assert resurvey.status == Status.NOT_EMAILED and resurvey.reason


# --- the recovery rate -------------------------------------------------------------------------------------------


def make(queue, agent, *, score, cause="product_bug", flagged=False, sent=True):
    followup = FollowUpFactory(queue=queue, owner=agent, status=FollowUp.Status.RESOLVED, root_cause=cause)
    now = timezone.now() - timedelta(days=1)
    return Resurvey.objects.create(
        followup=followup, customer=followup.invitation.customer, queue=queue, agent=agent, root_cause=cause,
        status=Status.ANSWERED if score else Status.SENT, send_after=now, sent_at=now if sent else None,
        expires_at=now + timedelta(days=28), score=score, flagged_automated=flagged,
    )  # fmt: skip


def test_recovery_rate_and_response_rate_from_hand_made_data(queue, agent, lead, settings):
    other = MembershipFactory(queue=queue).user
    for score in (5, 4, 2):
        make(queue, agent, score=score)
    make(queue, agent, score=None)  # emailed, unanswered
    make(queue, agent, score=5, flagged=True)  # a scanner: emailed, not an answer
    make(queue, other, score=1, cause="agent_tone")
    make(queue, other, score=5, cause="agent_tone", sent=False)  # never emailed: not in the period's figures

    now = timezone.now()
    cells = recovery_cells(resurveys=Resurvey.objects.all(), start=now - timedelta(days=7), end=now)
    total = recovery_by(cells, lambda key: ())[()]
    assert (total.emailed, total.answered, total.recovered) == (6, 4, 2)
    assert (total.rate, total.response_rate) == (50.0, 66.7)
    by_agent = recovery_by(cells, lambda key: key[1])
    assert (by_agent[agent.pk].rate, by_agent[agent.pk].answered) == (66.7, 3)
    assert (by_agent[other.pk].rate, by_agent[other.pk].response_rate) == (0.0, 100.0)
    by_cause = recovery_by(cells, lambda key: key[2])
    assert by_cause["agent_tone"].answered == 1 and by_cause["product_bug"].emailed == 5

    card = client_for(lead).get(reverse("surveys:team-recovery")).text  # 4 answers: below the minimum sample
    assert "Not enough responses (4 of 10)" in card and "2 of 4 answers" in card and "50.0%" not in card
    assert "66.7%" in card and "Agent tone" in card
    settings.FEEDBACK_MIN_SAMPLE = 4
    card = client_for(lead).get(reverse("surveys:team-recovery")).text
    assert "50.0%" in card and "95% interval 15.0–85.0%" in card and "(n=4)" in card
    assert client_for(agent).get(reverse("surveys:team-recovery")).status_code == 404
    assert reverse("surveys:team-recovery") in client_for(lead).get(reverse("surveys:team")).text

    api = client_for(lead).get(reverse("v1:stats-queue", args=[queue.pk])).json()
    assert api["recovery"] == {
        "emailed": 6, "answered": 4, "recovered": 2, "rate": 50.0, "response_rate": 66.7,
        "rate_ci": {"low": 15.0, "high": 85.0}, "response_rate_ci": {"low": 30.0, "high": 90.3},
    }  # fmt: skip


def test_the_responses_export_has_the_root_cause_and_the_resurvey_answer(queue, agent, lead):
    resurvey = make(queue, agent, score=4, cause="policy")
    response = resurvey.followup.invitation.response
    response.answered_at = timezone.now() - timedelta(days=1)
    response.save()

    export = b"".join(client_for(lead).get(reverse("surveys:export-responses")).streaming_content).decode()
    header, *rows = export.strip().splitlines()
    assert header.endswith("followup_root_cause,resurvey_score,resurvey_answered_at")
    assert any(",policy,4," in row for row in rows)


def test_erasure_removes_the_resurveys(followup, agent, admin_user):
    resurvey = resolve(followup, agent)

    assert customer_erase(customer_id=resurvey.customer_id, by=admin_user)

    assert not Resurvey.objects.exists()
