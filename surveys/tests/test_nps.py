"""The NPS relationship survey: who is asked (each rule of the policy), once per interval, the send window, the
throttle's rows, the email through the outbox and its one-click page (a link scanner records nothing), expiry, CSRF,
erasure, and the NPS figure from hand-made data (its interval computed by hand)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from outbox.models import OutgoingEmail, Suppression
from outbox.tests.sending import outbox_deliver
from surveys import services
from surveys.models import NpsPolicy, NpsSurvey, Resurvey, SurveyInvitation, SurveyOptOut
from surveys.selectors import Nps, nps_by_month
from surveys.selectors.throttle import RESURVEY_QUIET, SurveyKind, survey_wait_until
from surveys.tests.factories import ClosedTicketFactory, FollowUpFactory, InvitationFactory
from tickets.erasure import customer_erase
from tickets.models import Status as TicketStatus
from tickets.tests.factories import CustomerFactory, QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db
Status = NpsSurvey.Status
AT = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 in the desk's time zone (UTC in the tests)


@pytest.fixture(autouse=True)
def _at_ten_and_fresh_rate_limits():
    cache.clear()
    with time_machine.travel(AT, tick=False):
        yield
    cache.clear()


@pytest.fixture
def policy(db) -> NpsPolicy:
    return NpsPolicy.objects.create(enabled=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def closed(customer, queue, *, days_ago: float = 3) -> None:
    ClosedTicketFactory(customer=customer, queue=queue, closed_at=AT - timedelta(days=days_ago))


@pytest.fixture
def active(queue, policy):
    """A customer with a ticket closed three days ago."""
    customer = CustomerFactory()
    closed(customer, queue)
    return customer


def scheduled(customer) -> NpsSurvey:
    assert services.nps_schedule_due() == 1
    return NpsSurvey.objects.get(customer=customer)


def emailed(nps: NpsSurvey) -> str:
    """Send the scheduled survey through the outbox; returns its page link (path) for score 7, from the email."""
    assert services.nps_send_due() == 1
    assert outbox_deliver() == 1
    nps.refresh_from_db()
    assert nps.status == Status.SENT and nps.sent_at == AT
    message = mail.outbox[-1]
    assert message.to == [nps.customer.email]
    match = re.search(r"https?://[^/\s]+(/n/[^/\s?]+/)\?score=7", message.body)
    assert match, message.body
    return match.group(1)


# --- who is asked -------------------------------------------------------------------------------------------------


def test_no_policy_or_a_disabled_one_asks_nobody(queue):
    closed(CustomerFactory(), queue)
    assert services.nps_schedule_due() == 0
    NpsPolicy.objects.create(enabled=False)
    assert services.nps_schedule_due() == 0
    assert not NpsSurvey.objects.exists()


def test_a_customer_with_recent_activity_is_scheduled_with_the_queue_of_their_latest_closed_ticket(queue, policy):
    customer, latest = CustomerFactory(), QueueFactory()
    closed(customer, queue, days_ago=10)
    closed(customer, latest, days_ago=2)
    TicketFactory(customer=customer, queue=queue, status=TicketStatus.OPEN)  # an open ticket is no activity

    nps = scheduled(customer)

    assert (nps.status, nps.queue, nps.send_after, nps.created_at) == (Status.SCHEDULED, latest, AT, AT)


@pytest.mark.parametrize(
    "rule", ["erased", "no_email", "opted_out", "bounces", "too_few_tickets", "closed_too_long_ago", "excluded_queue"]
)
def test_each_eligibility_rule(queue, policy, rule):
    customer = CustomerFactory()
    closed(customer, queue, days_ago=100 if rule == "closed_too_long_ago" else 3)
    if rule == "erased":
        customer.erased_at = AT
    elif rule == "no_email":
        customer.email = ""
    customer.save()
    if rule == "opted_out":
        SurveyOptOut.objects.create(customer=customer)
    elif rule == "bounces":
        Suppression.objects.create(email=customer.email.upper(), reason="550 no such user")
    elif rule == "too_few_tickets":
        policy.min_closed_tickets = 2
        policy.save()
    elif rule == "excluded_queue":
        policy.excluded_queues.add(queue)

    assert services.nps_schedule_due() == 0
    if rule == "too_few_tickets":  # a second ticket closed in the window makes it two
        closed(customer, queue, days_ago=80)
        assert services.nps_schedule_due() == 1
    if rule == "excluded_queue":  # only the latest closed ticket's queue counts
        closed(customer, QueueFactory(), days_ago=1)
        assert services.nps_schedule_due() == 1


def test_one_per_interval_since_the_last_one(queue, policy, active):
    first = scheduled(active)
    first.status = Status.ANSWERED
    first.save()
    assert services.nps_schedule_due() == 0

    later = AT + timedelta(days=policy.interval_days, minutes=1)
    closed(active, queue, days_ago=-policy.interval_days)  # closed again shortly before
    with time_machine.travel(later, tick=False):
        assert services.nps_schedule_due() == 1
    assert NpsSurvey.objects.filter(customer=active).count() == 2


def test_batches_are_limited(queue, policy):
    for _ in range(3):
        closed(CustomerFactory(), queue)

    assert services.nps_schedule_due(limit=2) == 2
    assert services.nps_schedule_due(limit=2) == 1
    assert services.nps_schedule_due(limit=2) == 0


# --- sending: the window, suppression ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "waits_until"),
    [
        (AT.replace(hour=7), AT.replace(hour=9)),  # before the window: its start today
        (AT.replace(hour=17), AT.replace(hour=9) + timedelta(days=1)),  # the end hour is outside: tomorrow
        (AT.replace(hour=9), None),  # inside: queued
    ],
)
def test_emails_are_queued_only_inside_the_send_window(policy, active, now, waits_until):
    with time_machine.travel(now, tick=False):
        nps = scheduled(active)
        queued = services.nps_send_due()
    nps.refresh_from_db()
    if waits_until is None:
        assert (queued, nps.status) == (1, Status.QUEUED)
    else:
        assert (queued, nps.status, nps.send_after) == (0, Status.SCHEDULED, waits_until)


def test_the_send_window_is_in_the_desks_time_zone(settings, policy, active):
    settings.TIME_ZONE = "Europe/Amsterdam"  # UTC+1 in March: 07:30 UTC is 08:30 there
    with time_machine.travel(AT.replace(hour=7, minute=30), tick=False):
        nps = scheduled(active)
        assert services.nps_send_due() == 0
    nps.refresh_from_db()
    assert nps.send_after == AT.replace(hour=8)


@pytest.mark.parametrize("since", ["opted_out", "bounces", "switched_off"])
def test_due_ones_are_suppressed_when_the_customer_opted_out_or_bounces_since(policy, active, since):
    nps = scheduled(active)
    if since == "opted_out":
        SurveyOptOut.objects.create(customer=active)
    elif since == "bounces":
        Suppression.objects.create(email=active.email, reason="550")
    else:
        policy.enabled = False
        policy.save()

    assert services.nps_send_due() == 0
    nps.refresh_from_db()
    assert nps.status == Status.SUPPRESSED and nps.reason
    assert not OutgoingEmail.objects.filter(kind="nps_survey").exists()


# --- the throttle table -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("other", ["csat", "resurvey"])
def test_an_nps_waits_14_days_after_a_csat_or_resurvey_email_and_then_goes(queue, policy, active, other):
    sent = AT - timedelta(days=3)
    if other == "csat":
        InvitationFactory(customer=active, queue=queue, sent_at=sent)
    else:
        followup = FollowUpFactory(queue=QueueFactory())
        policy.excluded_queues.add(followup.queue)  # its own customer is not the one asked here
        Resurvey.objects.create(followup=followup, customer=active, queue=queue, status=Resurvey.Status.SENT,
                                send_after=sent, sent_at=sent, expires_at=sent + timedelta(days=14))  # fmt: skip
    nps = scheduled(active)

    assert services.nps_send_due() == 0  # it waits, it is not dropped
    nps.refresh_from_db()
    assert nps.status == Status.SCHEDULED and nps.send_after == sent + timedelta(days=14)
    with time_machine.travel(nps.send_after, tick=False):
        assert services.nps_send_due() == 1


def test_the_quiet_days_are_a_setting_and_a_queued_survey_counts_as_sent_now(settings, queue, active):
    settings.NPS_QUIET_DAYS_AFTER_SURVEY = 5
    InvitationFactory(customer=active, queue=queue, sent_at=AT - timedelta(days=6))
    assert survey_wait_until(customer_id=active.pk, kind=SurveyKind.NPS, now=AT) is None

    InvitationFactory(customer=active, queue=queue, status=SurveyInvitation.Status.QUEUED, sent_at=None)
    assert survey_wait_until(customer_id=active.pk, kind=SurveyKind.NPS, now=AT) == AT + timedelta(days=5)


def test_a_resurvey_waits_two_days_after_an_nps_email(policy, active):
    emailed(scheduled(active))

    assert survey_wait_until(customer_id=active.pk, kind=SurveyKind.RESURVEY, now=AT) == AT + RESURVEY_QUIET
    later = AT + RESURVEY_QUIET + timedelta(seconds=1)
    assert survey_wait_until(customer_id=active.pk, kind=SurveyKind.RESURVEY, now=later) is None


def test_csat_is_never_held_back_by_an_nps_and_an_nps_email_does_not_hold_the_next_nps(policy, active):
    nps = scheduled(active)
    assert services.nps_send_due() == 1  # queued: counts as sent now

    assert survey_wait_until(customer_id=active.pk, kind=SurveyKind.CSAT, now=AT) is None
    assert survey_wait_until(customer_id=active.pk, kind=SurveyKind.NPS, now=AT) is None  # the interval does that
    assert nps.pk


# --- the email and the page --------------------------------------------------------------------------------------


def test_the_email_goes_through_the_outbox_with_eleven_one_click_links_and_unsubscribe(queue, policy, active):
    link = emailed(scheduled(active))

    message = mail.outbox[-1]
    assert "How likely are you to recommend us to a friend or colleague?" in message.body
    assert sorted(int(n) for n in re.findall(r"/n/[^/\s?]+/\?score=(\d+)", message.body)) == list(range(11))
    assert "This link works until 26 March 2025" in message.body
    assert queue.reply_from_email in message.from_email
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = re.search(r"<https?://[^/]+(/s/[^>]+)>", message.extra_headers["List-Unsubscribe"]).group(1)
    assert Client().post(one_click).status_code == 200
    assert SurveyOptOut.objects.filter(customer=active).exists()
    assert Client().get(link).status_code == 200  # the survey itself stays answerable


def test_a_bouncing_address_leaves_it_not_emailed(policy, active):
    nps = scheduled(active)
    assert services.nps_send_due() == 1
    Suppression.objects.create(email=active.email, reason="550")
    assert outbox_deliver(at=AT + timedelta(minutes=1)) == 0

    nps.refresh_from_db()
    assert nps.status == Status.NOT_EMAILED and nps.reason


def test_one_click_as_a_link_scanner_records_nothing_then_as_a_person(client, policy, active):
    link = emailed(scheduled(active))

    page = client.get(link, {"score": "7"})  # a link scanner only GETs
    assert page.status_code == 200
    assert "How likely are you to recommend us to a friend or colleague?" in page.text
    assert 'data-autosubmit="7" data-autosubmit-field="score"' in page.text
    assert re.search(r'value="7"[^>]*checked', page.text)
    assert "What is the main reason for your score?" in page.text
    nps = NpsSurvey.objects.get()
    assert nps.score is None and nps.answered_at is None

    # survey.js posts the clicked score …
    assert client.post(link, {"score": "7", "via": "auto"}, HTTP_ACCEPT="application/json").json() == {"recorded": True}
    nps.refresh_from_db()
    assert (nps.status, nps.score, nps.comment, nps.flagged_automated) == (Status.ANSWERED, 7, "", False)
    # … and the person adds why
    thanks = client.post(link, {"score": "8", "comment": "  Quick and kind.  ", "via": "person"})
    assert thanks.status_code == 200 and "Thank you!" in thanks.text
    nps.refresh_from_db()
    assert (nps.score, nps.comment) == (8, "Quick and kind.")
    assert "Update my answer" in client.get(link).text


def test_score_zero_is_preselected_and_posted_too(client, policy, active):
    link = emailed(scheduled(active))

    assert 'data-autosubmit="0"' in client.get(link, {"score": "0"}).text
    assert "data-autosubmit=" not in client.get(link, {"score": "11"}).text


def test_a_scanner_clicking_every_score_is_flagged_and_a_persons_answer_is_not(client, policy, active):
    link = emailed(scheduled(active))
    for score in ("10", "9", "0"):
        client.post(link, {"score": score, "via": "auto"}, HTTP_ACCEPT="application/json")

    nps = NpsSurvey.objects.get()
    assert nps.flagged_automated and not nps.counts

    client.post(link, {"score": "9", "comment": "", "via": "person"})
    nps.refresh_from_db()
    assert nps.counts and nps.score == 9


def test_bad_input_expiry_and_csrf(client, policy, active):
    link = emailed(scheduled(active))

    assert client.post(link, {"score": "11"}).status_code == 400
    assert client.post(link, {"score": "x"}, HTTP_ACCEPT="application/json").json()["recorded"] is False
    assert client.get("/n/" + "x" * 43 + "/").status_code == 404
    assert Client(enforce_csrf_checks=True).post(link, {"score": "4"}).status_code == 403
    nps = NpsSurvey.objects.get()
    with time_machine.travel(nps.expires_at + timedelta(minutes=1), tick=False):
        assert client.get(link).status_code == 404
        assert client.post(link, {"score": "4"}).status_code == 404
        assert services.nps_expire() == 1
    nps.refresh_from_db()
    assert (nps.status, nps.score) == (Status.EXPIRED, None)


def test_the_page_get_keeps_the_public_budget(client, policy, active, django_assert_max_num_queries):
    link = emailed(scheduled(active))

    with django_assert_max_num_queries(4):
        assert client.get(link, {"score": "9"}).status_code == 200


def test_the_unsubscribe_page_takes_an_nps_token(client, policy, active):
    link = emailed(scheduled(active))
    token = link.strip("/").split("/")[-1]

    unsubscribe = reverse("surveys:unsubscribe", args=[token])
    assert unsubscribe in client.get(link).text
    assert client.get(unsubscribe).status_code == 200
    assert client.post(unsubscribe).status_code == 200
    assert SurveyOptOut.objects.filter(customer=active).exists()


def test_erasure_deletes_the_nps_surveys_and_empties_their_emails(client, admin_user, policy, active):
    link = emailed(scheduled(active))
    email_address = active.email
    nps = NpsSurvey.objects.get()
    services.nps_answer(nps_id=nps.pk, score=3, comment="Rude agent, Jane Doe", via="person")

    assert customer_erase(customer_id=active.pk, by=admin_user)

    assert not NpsSurvey.objects.exists()
    # Emptied, then deleted with the survey (its GenericRelation), as the re-survey's
    assert not OutgoingEmail.objects.filter(kind="nps_survey").exists()
    assert not OutgoingEmail.objects.filter(to_email=email_address).exists()
    assert client.get(link).status_code == 404


# --- the NPS figure -----------------------------------------------------------------------------------------------


def test_the_interval_by_hand():
    # 5 promoters, 3 passives, 2 detractors: NPS 30; Var = .5 + .2 − .3² = .61; 1.96·√(.61/10) = .4841 → ±48.4
    assert Nps(5, 3, 2).interval == (-18.4, 78.4)
    # 9 promoters, 1 detractor: NPS 80; Var = 1 − .64 = .36; 1.96·√(.036) = .3719 → 42.8 … 117.2, clipped to 100
    assert Nps(9, 0, 1).interval == (42.8, 100.0)
    assert Nps(10, 0, 0).interval == (100.0, 100.0)  # no spread
    assert Nps(0, 0, 0).interval is None
    assert (Nps(5, 3, 2).score, Nps(5, 3, 2).n, Nps().score) == (30.0, 10, None)


def answered(queue, score, *, days_ago=1, flagged=False) -> NpsSurvey:
    at = AT - timedelta(days=days_ago)
    return NpsSurvey.objects.create(
        customer=CustomerFactory(), queue=queue, status=Status.ANSWERED, send_after=at, sent_at=at,
        expires_at=at + timedelta(days=14), score=score, answered_at=at, flagged_automated=flagged,
    )  # fmt: skip


def test_the_nps_figure_from_hand_made_data(queue, lead, agent, admin_user):
    for score in (10, 10, 9, 9, 9, 8, 7, 7, 6, 0):  # 5 promoters, 3 passives, 2 detractors
        answered(queue, score)
    answered(queue, 10, flagged=True)  # a link scanner: not an answer
    answered(queue, 3, days_ago=100)  # outside the default period (90 days)
    other = QueueFactory(name="Zz other")
    answered(other, 0)  # another queue: not the lead's

    card = client_for(lead).get(reverse("surveys:team-nps")).text
    assert "<strong>30.0</strong>" in card and "95% interval -18.4 to 78.4" in card and "n=10" in card
    assert "Zz other" not in card
    assert reverse("surveys:team-nps") in client_for(lead).get(reverse("surveys:team")).text
    assert client_for(agent).get(reverse("surveys:team-nps")).status_code == 404  # leads and admins only
    assert "Zz other" in client_for(admin_user).get(reverse("surveys:team-nps")).text

    api = client_for(lead).get(reverse("v1:stats-queue", args=[queue.pk])).json()
    assert api["nps"] == {"promoters": 5, "passives": 3, "detractors": 2, "n": 10, "score": 30.0,
                          "score_ci": {"low": -18.4, "high": 78.4}}  # fmt: skip
    assert "nps" not in client_for(agent).get(reverse("v1:stats-agent", args=[agent.pk])).json()


def test_the_nps_per_month_over_the_last_six_months(queue):
    answered(queue, 10, days_ago=1)  # March 2025
    answered(queue, 0, days_ago=1)
    answered(queue, 9, days_ago=40)  # January
    answered(queue, 9, days_ago=200)  # August 2024: before the six months

    months = nps_by_month(surveys=NpsSurvey.objects.all(), now=AT)

    assert [month.isoformat() for month, _ in months] == [
        "2024-10-01", "2024-11-01", "2024-12-01", "2025-01-01", "2025-02-01", "2025-03-01"
    ]  # fmt: skip
    assert [(nps.n, nps.score) for _, nps in months] == [(0, None)] * 3 + [(1, 100.0), (0, None), (2, 0.0)]


# --- admin ---------------------------------------------------------------------------------------------------------


def test_the_admin_edits_one_policy_and_only_reads_the_surveys(admin_user, policy, active):
    admin = client_for(admin_user)
    assert admin.get(reverse("admin:surveys_npspolicy_change", args=[policy.pk])).status_code == 200
    assert admin.get(reverse("admin:surveys_npspolicy_add")).status_code == 403  # there is one already
    nps = scheduled(active)
    page = admin.get(reverse("admin:surveys_npssurvey_change", args=[nps.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.text
