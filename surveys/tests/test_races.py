"""Races of the survey services on Postgres: real transactions at once, each in a thread with its own connection
(conftest.run_queued_behind makes each race certain). Skipped on SQLite, which runs one write transaction at a time."""

from datetime import timedelta

from django.utils import timezone

from conftest import run_queued_behind
from surveys import services as surveys
from surveys.models import FollowUp, SurveyInvitation, SurveyPolicy, SurveyResponse
from surveys.tests.emailing import invitation_emailed
from tickets import services as tickets
from tickets.models import CloseReason, Customer

Status = SurveyInvitation.Status


def test_two_closes_of_one_customers_tickets_at_once_schedule_one_survey(postgres_race, queue, agent, customer):
    SurveyPolicy.objects.create(queue=None, throttle_days=30)
    first, second = (
        tickets.ticket_create(queue=queue, customer=customer, subject=f"Issue {n}", body="Help", by=agent)
        for n in (1, 2)
    )

    def close(ticket):
        return lambda: tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)

    def hold() -> None:
        # Holds each close at its first use of the customer's row: before, that was the invitation's insert (its
        # foreign key check), after both had found no recent survey; now it is the close hook's lock, before that.
        Customer.objects.select_for_update().get(pk=customer.pk)

    errors = run_queued_behind(hold, close(first), close(second))

    assert errors == []
    invitations = SurveyInvitation.objects.order_by("status").values_list("status", "suppression_reason")
    assert list(invitations) == [(Status.SCHEDULED, ""), (Status.SUPPRESSED, "throttled")]


def test_a_submission_and_the_settling_of_one_answer_at_once_do_not_deadlock(postgres_race, queue, agent, customer):
    # given an emailed survey answered 1 by the auto-submit: poor, not settled yet
    SurveyPolicy.objects.create(queue=None, delay_minutes=0, throttle_days=0)
    ticket = tickets.ticket_create(queue=queue, customer=customer, subject="Help", body="Please", by=agent)
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation_emailed(invitation_id=invitation.pk)
    surveys.response_submit(invitation_id=invitation.pk, via=SurveyResponse.Via.AUTO, csat=1)
    later = timezone.now() + timedelta(hours=1)

    def submit() -> None:
        surveys.response_submit(invitation_id=invitation.pk, via=SurveyResponse.Via.AUTO, csat=2)

    def settle() -> None:
        surveys.responses_settle_due(now=later)

    def hold() -> None:
        # The submission queues first for the invitation's row lock; the settling then queues behind it, before:
        # holding the response's lock already (and wanting the invitation for its follow-up: a deadlock), now:
        # for the invitation's lock first, as the submission does.
        SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)

    # when a submission and the settle beat run at once
    errors = run_queued_behind(hold, submit, settle)

    # then both finish (no "deadlock detected"), one after the other
    assert errors == []
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.csat, response.settled_at) == (2, later)
    assert FollowUp.objects.filter(invitation=invitation).count() == 1
