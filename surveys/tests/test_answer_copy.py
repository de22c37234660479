"""The invitation's copy of its counted response (answer_counted / answer_csat / answer_ces / answer_commented), which
the feedback figures read instead of joining the responses: every change of the response moves the figures."""

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys import services as surveys
from surveys.models import SurveyInvitation, SurveyPolicy, SurveyResponse, TicketRating
from surveys.selectors import feedback_stats, latest_comments
from surveys.tests.emailing import invitation_emailed
from surveys.tests.factories import InvitationFactory, ResponseFactory
from tickets import services as tickets
from tickets.models import CloseReason
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
PERSON = SurveyResponse.Via.PERSON
ANSWER_COPY = ("pk", "answer_counted", "answer_csat", "answer_ces", "answer_commented")


@pytest.fixture
def invitation(queue, agent) -> SurveyInvitation:
    """An emailed survey of a ticket `agent` closed, not answered yet."""
    SurveyPolicy.objects.create(queue=None, delay_minutes=0, throttle_days=0)
    ticket = tickets.ticket_create(
        queue=queue, customer=CustomerFactory(), subject="Help", body="Please", by=None, assignee=agent
    )
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation_emailed(invitation_id=invitation.pk)
    return invitation


def figures(agent):
    now = timezone.now()
    return feedback_stats(
        invitations=SurveyInvitation.objects.filter(agent_id=agent.pk),
        start=now - timedelta(days=1),
        end=now + timedelta(minutes=1),
    )


def copy_of(invitation) -> tuple:
    invitation.refresh_from_db()
    return (invitation.answer_counted, invitation.answer_csat, invitation.answer_ces, invitation.answer_commented)


def test_an_unanswered_invitation_counts_as_sent_only(invitation, agent):
    stats = figures(agent)

    assert copy_of(invitation) == (False, None, None, False)
    assert (stats.invitations_sent, stats.responses, stats.csat_responses) == (1, 0, 0)


def test_changing_an_answer_from_1_to_5_moves_the_figures(invitation, agent):
    surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=1)
    before = figures(agent)
    surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=5, ces=6)
    after = figures(agent)

    assert (before.responses, before.csat_satisfied, before.csat_mean, before.ces_responses) == (1, 0, 1.0, 0)
    assert (after.responses, after.csat_satisfied, after.csat_mean, after.ces_responses) == (1, 1, 5.0, 1)
    assert (after.ces_agree, after.ces_mean) == (1, 6.0)
    assert copy_of(invitation) == (True, 5, 6, False)


def test_a_comment_is_copied_and_listed(invitation, agent):
    surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=4, comment="Quick and kind")
    now = timezone.now()
    invitations = SurveyInvitation.objects.filter(agent_id=agent.pk)

    comments = latest_comments(invitations=invitations, start=now - timedelta(days=1), end=now + timedelta(minutes=1))

    assert copy_of(invitation) == (True, 4, None, True)
    assert [response.comment for response in comments] == ["Quick and kind"]


def test_a_link_scanners_burst_is_not_counted(invitation, agent):
    for score in (1, 2, 3, 4, 5):  # different scores within seconds: flagged as automated
        surveys.response_submit(invitation_id=invitation.pk, via=SurveyResponse.Via.AUTO, csat=score)

    assert SurveyResponse.objects.get(invitation=invitation).flagged_automated
    assert copy_of(invitation) == (False, None, None, False)
    assert (figures(agent).invitations_sent, figures(agent).responses) == (1, 0)


def test_a_person_answering_after_a_burst_is_counted_again(invitation, agent):
    for score in (1, 2, 3):
        surveys.response_submit(invitation_id=invitation.pk, via=SurveyResponse.Via.AUTO, csat=score)
    flagged = copy_of(invitation)

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=2, ces=3, comment="Slow")

    assert flagged == (False, None, None, False)
    assert copy_of(invitation) == (True, 2, 3, True)
    assert TicketRating.objects.get(ticket_id=invitation.ticket_id).poor


def test_a_rating_post_writes_the_response_and_the_invitation_once_each(client, invitation):
    """One writer per fact: the answer service writes each row once (no model save() writes another table)."""
    surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=4)  # the first click (auto-submitted)
    with CaptureQueriesContext(connection) as captured:
        surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=2, ces=2, comment="Too slow")
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]

    def count(table: str) -> int:
        return sum(1 for sql in writes if f'"{table}"' in sql.split(" WHERE ")[0])

    assert count("surveys_surveyresponse") == 1
    assert count("surveys_surveyinvitation") == 1
    assert count("surveys_ticketrating") == 1
    assert count("surveys_followup") == 1  # the confirmed poor answer opened its follow-up


def test_settling_later_leaves_the_copies_alone(invitation, agent):
    surveys.response_submit(invitation_id=invitation.pk, via=SurveyResponse.Via.AUTO, csat=5)
    before = copy_of(invitation)

    assert surveys.responses_settle_due(now=timezone.now() + timedelta(hours=1)) == 1
    assert copy_of(invitation) == before == (True, 5, None, False)


def test_the_migration_backfills_the_copy_from_the_responses(queue, agent):
    migration = importlib.import_module("surveys.migrations.0003_invitation_answer_copy")
    counted = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=3, ces=None, comment="Fine")
    flagged = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=1, flagged_automated=True)
    unanswered = InvitationFactory(queue=queue, agent=agent)
    SurveyInvitation.objects.update(answer_counted=False, answer_csat=None, answer_ces=None, answer_commented=False)

    migration.copy_answers(apps, None)

    assert copy_of(counted.invitation) == (True, 3, None, True)
    assert copy_of(flagged.invitation) == (False, None, None, False)
    assert copy_of(unanswered) == (False, None, None, False)


def test_an_older_rounds_answer_leaves_the_tickets_later_rating(invitation, agent):
    # given round 1 answered 1 before the ticket was reopened, closed again, and round 2 emailed and answered 5
    surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=1)
    ticket_id = invitation.ticket_id
    tickets.ticket_reopen(ticket_id=ticket_id, by=agent)
    tickets.ticket_close(ticket_id=ticket_id, reason=CloseReason.SOLVED, by=agent)
    round_2 = SurveyInvitation.objects.get(ticket_id=ticket_id, round=2)
    assert invitation_emailed(invitation_id=round_2.pk)
    surveys.response_submit(invitation_id=round_2.pk, via=PERSON, csat=5)

    # when round 1's copies are written again (a reopened round takes no new answer: this is the writer's own rule)
    round_1_response = SurveyResponse.objects.get(invitation=invitation)
    policy = SurveyPolicy.objects.get(queue=None)
    surveys.answer_copies_write(invitation=invitation, response=round_1_response, policy=policy)

    # then the ticket's rating stays round 2's, and round 1's own copy holds its answer
    rating = TicketRating.objects.get(ticket_id=ticket_id)
    assert (rating.csat, rating.poor) == (5, False)
    assert copy_of(invitation) == (True, 1, None, False)
    assert copy_of(round_2) == (True, 5, None, False)


def test_the_latest_rounds_changed_answer_still_moves_the_tickets_rating(invitation, agent):
    surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=5)
    surveys.response_submit(invitation_id=invitation.pk, via=PERSON, csat=2)

    rating = TicketRating.objects.get(ticket_id=invitation.ticket_id)
    assert (rating.csat, rating.poor) == (2, True)
