"""Scoring after the write, for every channel; a failing scorer or broker; mixed signals; moves; erasure; the sweep."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from helpdesk.celery import app as celery_app
from inbound.routing import inbound_route
from inbound.store import inbound_store
from inbound.tests.mail import email_bytes
from sentiment import services as sentiment_services
from sentiment import tasks
from sentiment.models import SentimentPolicy, TextSentiment, TicketSentiment
from sentiment.services import texts_score_unscored
from surveys import services as surveys
from surveys.models import FollowUp, NpsSurvey, SurveyInvitation, SurveyPolicy
from surveys.tests.emailing import invitation_emailed
from tickets import services as tickets
from tickets.erasure import customer_erase
from tickets.models import CloseReason, Message, Ticket
from tickets.tests.factories import CustomerFactory, QueueFactory
from tickets.tests.test_public import conversation_link

pytestmark = pytest.mark.django_db

ANGRY = "This is the third time I am writing. Still not fixed and nobody answers. Unacceptable!"
HAPPY = "Thank you so much, that fixed it. Great help!"


@pytest.fixture
def eager():
    """The on-commit tasks run at once, in this process (as a worker would run them)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_rate_limits(fresh_rate_limits):
    return fresh_rate_limits


def new_ticket(queue, body: str = ANGRY) -> Ticket:
    return tickets.ticket_create(queue=queue, customer=CustomerFactory(), subject="Help", body=body, by=None)


def test_a_request_from_the_web_form_is_scored_on_commit(client, queue, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("support:new"),
            {"name": "Ada", "email": "ada@example.org", "queue": queue.pk, "subject": "Help", "message": ANGRY},
        )

    assert response.status_code == 302
    row = TextSentiment.objects.get()
    assert (row.label, row.language, row.version) == ("negative", "en", sentiment_services.VERSION)
    assert row.score is not None and row.score < 0
    assert row.message.channel == "web" and row.queue == queue
    assert TicketSentiment.objects.get(ticket=row.ticket).label == "negative"


def test_nothing_is_scored_inside_the_request(client, queue, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(
            reverse("support:new"),
            {"name": "Ada", "email": "ada@example.org", "queue": queue.pk, "subject": "Help", "message": ANGRY},
        )

    assert Message.objects.count() == 1 and not TextSentiment.objects.exists()  # scored only once committed
    assert callbacks


def test_a_reply_on_the_conversation_page_is_scored_and_becomes_the_tickets_label(
    client, queue, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket(queue)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(conversation_link(ticket), {"body": HAPPY}).status_code == 302

    assert TextSentiment.objects.filter(ticket=ticket).count() == 2
    assert TicketSentiment.objects.get(ticket=ticket).label == "positive"  # the latest customer message


def test_an_email_is_scored_once_routed(queue, eager, django_capture_on_commit_callbacks):
    row, _ = inbound_store(  # its routing task is not sent here (on commit): routed below as the worker would
        raw=email_bytes(subject="Broken again", body=ANGRY),
        queue=queue,
        channel="smtp",
        recipient=queue.reply_from_email,
    )
    with django_capture_on_commit_callbacks(execute=True):
        inbound_route(email_id=row.pk)

    scored = TextSentiment.objects.get()
    assert scored.message.channel == "email" and scored.label == "negative"


def test_agent_replies_and_notes_are_not_scored(queue, agent, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket(queue)
        tickets.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="This is awful news", by=agent)
        tickets.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Angry customer", by=agent)

    assert TextSentiment.objects.count() == 1


def test_a_scorer_error_stores_the_text_not_scored_and_logs_it(
    queue, eager, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(text: str):
        raise RuntimeError("lexicon missing")

    monkeypatch.setattr(sentiment_services, "text_score", broken)
    with caplog.at_level(logging.ERROR, logger="sentiment.services"), django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket(queue)

    assert Message.objects.get(ticket=ticket).body == ANGRY  # the text itself is untouched
    row = TextSentiment.objects.get()
    assert (row.label, row.score, row.reason) == ("not_scored", None, "scorer error")
    assert "sentiment scorer failed" in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "Das ist wirklich eine Katastrophe, seit drei Wochen funktioniert nichts mehr.",
        "Je suis très déçu, le service ne répond jamais à mes messages.",
        "Estoy muy contento con la ayuda, gracias por todo.",
    ],
)
def test_another_language_is_not_scored_never_neutral(queue, eager, django_capture_on_commit_callbacks, text):
    with django_capture_on_commit_callbacks(execute=True):
        new_ticket(queue, body=text)

    row = TextSentiment.objects.get()
    assert row.label == "not_scored" and row.score is None
    assert row.language in {"de", "fr", "es"} and row.reason


def test_a_dead_broker_loses_nothing_the_sweep_scores_it(
    queue, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def refused(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.score_message, "delay", refused)
    with (
        caplog.at_level(logging.WARNING, logger="sentiment.receivers"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = new_ticket(queue)

    assert Message.objects.filter(ticket=ticket).exists() and not TextSentiment.objects.exists()
    assert "the sweep will score it" in caplog.text
    assert texts_score_unscored() == 1
    assert TextSentiment.objects.get().label == "negative"
    assert texts_score_unscored() == 0  # scored once


# --- mixed signals ---------------------------------------------------------------------------------------------


@pytest.fixture
def invitation(queue, agent) -> SurveyInvitation:
    SurveyPolicy.objects.create(queue=None, delay_minutes=0, throttle_days=0)
    ticket = tickets.ticket_create(queue=queue, customer=CustomerFactory(), subject="Help", body="Please", by=None,
                                   assignee=agent)  # fmt: skip
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation_emailed(invitation_id=invitation.pk)
    return invitation


MIXED = "5 stars for Sophie, but I lost a whole day of work because of this outage. Terrible."


def answer(invitation, capture, **kwargs):
    with capture(execute=True):
        return surveys.response_submit(invitation_id=invitation.pk, via="person", **kwargs)


def test_a_good_score_with_a_negative_comment_opens_one_follow_up_with_its_reason(
    invitation, eager, django_capture_on_commit_callbacks
):
    answer(invitation, django_capture_on_commit_callbacks, csat=5, comment=MIXED)

    followup = FollowUp.objects.get(invitation=invitation)
    assert followup.reason.startswith("comment reads negative (−0.") and followup.reason.endswith("despite CSAT 5")
    assert followup.events.get().note == followup.reason

    answer(invitation, django_capture_on_commit_callbacks, comment=MIXED + " Really terrible, awful.")
    answer(invitation, django_capture_on_commit_callbacks, comment="Awful. I am furious and disappointed.")

    assert FollowUp.objects.filter(invitation=invitation).count() == 1  # edited twice: still one
    assert TextSentiment.objects.get(response__invitation=invitation).label == "negative"  # rescored, one row


def test_a_good_score_with_a_kind_comment_opens_nothing(invitation, eager, django_capture_on_commit_callbacks):
    answer(invitation, django_capture_on_commit_callbacks, csat=5, comment=HAPPY)

    assert not FollowUp.objects.exists()
    assert TextSentiment.objects.get().label == "positive"


def test_a_poor_score_keeps_its_own_follow_up(invitation, eager, django_capture_on_commit_callbacks):
    answer(invitation, django_capture_on_commit_callbacks, csat=1, comment=MIXED)

    assert FollowUp.objects.get().reason == ""  # opened by the poor score, not a second time by the comment


def test_the_queue_policy_switches_mixed_signals_off(invitation, eager, django_capture_on_commit_callbacks):
    SentimentPolicy.objects.create(queue=invitation.queue, followup_on_negative_comment=False)

    answer(invitation, django_capture_on_commit_callbacks, csat=5, comment=MIXED)

    assert not FollowUp.objects.exists()


def test_a_removed_comment_removes_its_score(invitation, eager, django_capture_on_commit_callbacks):
    answer(invitation, django_capture_on_commit_callbacks, csat=4, comment=HAPPY)
    answer(invitation, django_capture_on_commit_callbacks, comment="")

    assert not TextSentiment.objects.exists()


# --- a passive NPS answer whose reason reads negative --------------------------------------------------------------


def nps_emailed(queue) -> NpsSurvey:
    now = timezone.now()
    return NpsSurvey.objects.create(
        customer=CustomerFactory(), queue=queue, status=NpsSurvey.Status.SENT, send_after=now, sent_at=now,
        expires_at=now + timedelta(days=14),
    )  # fmt: skip


def nps_answer(nps, capture, **kwargs):
    with capture(execute=True):
        return surveys.nps_answer(nps_id=nps.pk, via="person", **kwargs)


def test_a_passive_whose_reason_reads_negative_opens_one_follow_up_with_the_reason(
    queue, lead, eager, django_capture_on_commit_callbacks
):
    nps = nps_emailed(queue)
    nps_answer(nps, django_capture_on_commit_callbacks, score=7, comment=ANGRY)

    followup = FollowUp.objects.get(nps_survey=nps)
    assert followup.reason.startswith("reason reads negative (−0.") and followup.reason.endswith("beside NPS 7")
    assert (followup.owner, followup.ticket) == (lead, None)
    nps_answer(nps, django_capture_on_commit_callbacks, score=8, comment=ANGRY + " Awful.")
    assert FollowUp.objects.count() == 1  # edited: still one
    assert not TextSentiment.objects.exists()  # scored, not kept: it belongs to no ticket


@pytest.mark.parametrize(("score", "comment"), [(8, HAPPY), (9, ANGRY)])  # a kind passive; a promoter: none
def test_a_kind_passive_or_any_promoter_opens_nothing(queue, lead, eager, django_capture_on_commit_callbacks, score,
                                                      comment):  # fmt: skip
    nps_answer(nps_emailed(queue), django_capture_on_commit_callbacks, score=score, comment=comment)
    assert not FollowUp.objects.exists()


def test_the_queue_policy_switches_the_passives_follow_up_off(queue, eager, django_capture_on_commit_callbacks):
    SentimentPolicy.objects.create(queue=queue, followup_on_negative_comment=False)
    nps_answer(nps_emailed(queue), django_capture_on_commit_callbacks, score=7, comment=ANGRY)
    assert not FollowUp.objects.exists()


def test_a_dead_broker_leaves_the_passive_to_the_sweep(queue, django_capture_on_commit_callbacks, monkeypatch):
    def refused(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.score_nps_reason, "delay", refused)
    nps = nps_emailed(queue)
    nps_answer(nps, django_capture_on_commit_callbacks, score=7, comment=ANGRY)
    assert not FollowUp.objects.exists()

    texts_score_unscored()
    assert FollowUp.objects.get().nps_survey == nps
    texts_score_unscored()
    assert FollowUp.objects.count() == 1


# --- moves and erasure -------------------------------------------------------------------------------------------


def test_a_moved_ticket_s_texts_count_in_its_new_queue(queue, lead, eager, django_capture_on_commit_callbacks):
    other = QueueFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket(queue)
    lead.is_superuser = True
    lead.save()

    tickets.ticket_move(ticket_id=ticket.pk, queue=other, by=lead)

    assert TextSentiment.objects.get().queue == other


def test_erasure_removes_the_customer_s_scores(invitation, admin_user, eager, django_capture_on_commit_callbacks):
    answer(invitation, django_capture_on_commit_callbacks, csat=5, comment=MIXED)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.message_add(
            ticket_id=invitation.ticket_id,
            kind=Message.Kind.CUSTOMER_MESSAGE,
            body=ANGRY,
            customer=invitation.customer,
            reopen=False,
        )
    assert TextSentiment.objects.count() == 2 and TicketSentiment.objects.exists()

    assert customer_erase(customer_id=invitation.customer_id, by=admin_user)

    assert not TextSentiment.objects.exists() and not TicketSentiment.objects.exists()
