"""The invitation's copy of its counted response (answer_counted / answer_csat / answer_ces / answer_commented), which
the feedback figures read instead of joining the responses: every change of the response moves the figures."""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from surveys import services as surveys
from surveys.models import SurveyInvitation, SurveyPolicy, SurveyResponse
from surveys.selectors import feedback_for_agent, latest_comments
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
    assert surveys.invitation_send(invitation_id=invitation.pk)
    return invitation


def figures(agent):
    now = timezone.now()
    return feedback_for_agent(agent_id=agent.pk, start=now - timedelta(days=1), end=now + timedelta(minutes=1))


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


def test_flagging_and_unflagging_an_existing_response_moves_the_figures(queue, agent):
    response = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=2, ces=3, comment="Slow")
    response.flagged_automated = True
    response.save(update_fields=["flagged_automated"])
    flagged = copy_of(response.invitation)
    response.flagged_automated = False
    response.save(update_fields=["flagged_automated"])

    assert flagged == (False, None, None, False)
    assert copy_of(response.invitation) == (True, 2, 3, True)


def test_saving_other_fields_keeps_the_copy(queue, agent):
    response = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=5, ces=None)
    response.settled_at = timezone.now()
    response.save(update_fields=["settled_at"])

    assert copy_of(response.invitation) == (True, 5, None, False)


def test_deleting_a_response_clears_the_copy(queue, agent):
    response = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=5, comment="Thanks")
    invitation = response.invitation
    response.delete()

    assert copy_of(invitation) == (False, None, None, False)


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


def test_demo_data_holds_the_same_copy_as_the_responses():
    """seed_demo bulk-creates (no save()): it sets the copy itself, as the migration's backfill would."""
    call_command("seed_demo", tickets=200, stdout=StringIO())
    written = list(SurveyInvitation.objects.order_by("pk").values_list(*ANSWER_COPY))
    SurveyInvitation.objects.update(answer_counted=False, answer_csat=None, answer_ces=None, answer_commented=False)
    importlib.import_module("surveys.migrations.0003_invitation_answer_copy").copy_answers(apps, None)

    assert SurveyResponse.objects.exists()
    assert list(SurveyInvitation.objects.order_by("pk").values_list(*ANSWER_COPY)) == written
