"""A survey counts as emailed when the outbox sent its email, told by the outbox's outcome callback; a survey whose
email was cancelled or failed is not emailed, says why, and is not in the response rate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from outbox.kinds import EmailOutcome
from outbox.models import OutgoingEmail, Suppression
from outbox.services import outbox_cancel, outbox_retry
from outbox.tests.sending import outbox_deliver
from surveys import services as surveys
from surveys.emails import survey_email_outcomes
from surveys.models import SurveyInvitation, SurveyPolicy
from surveys.selectors import feedback_stats
from tickets import services as tickets
from tickets.models import CloseReason
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
Status = SurveyInvitation.Status


@pytest.fixture
def queued(queue, agent) -> SurveyInvitation:
    """A closed ticket's survey, handed to the outbox (not sent yet)."""
    SurveyPolicy.objects.create(queue=None, delay_minutes=0, throttle_days=0)
    customer = CustomerFactory(email="pat@example.org")
    ticket = tickets.ticket_create(
        queue=queue, customer=customer, subject="Help", body="Please", by=None, assignee=agent
    )
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert surveys.invitation_send(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    return invitation


def email_of(invitation: SurveyInvitation) -> OutgoingEmail:
    return OutgoingEmail.objects.get(kind="survey", related_id=invitation.pk)


def sent_count(invitation: SurveyInvitation) -> int:
    now = timezone.now()
    stats = feedback_stats(
        invitations=SurveyInvitation.objects.filter(pk=invitation.pk),
        start=now - timedelta(days=1),
        end=now + timedelta(days=1),
    )
    return stats.invitations_sent


def test_a_survey_handed_to_the_outbox_is_not_emailed_until_the_outbox_sent_it(queued, mailoutbox):
    assert (queued.status, queued.sent_at) == (Status.QUEUED, None)
    assert sent_count(queued) == 0

    assert outbox_deliver() == 1

    queued.refresh_from_db()
    email = email_of(queued)
    assert (queued.status, queued.sent_at, queued.not_emailed_reason) == (Status.SENT, email.sent_at, "")
    assert sent_count(queued) == 1
    assert len(mailoutbox) == 1


def test_a_survey_to_a_bouncing_address_is_cancelled_by_the_outbox_and_never_counts_as_emailed(queued, mailoutbox):
    # given the customer's address bounced since the survey was queued
    Suppression.objects.create(email="PAT@example.org", reason="5.1.1 user unknown")

    # when the outbox comes to send it
    assert outbox_deliver() == 0

    # then the email is cancelled, and the invitation is not emailed, says why, and is not in the response rate
    queued.refresh_from_db()
    assert email_of(queued).status == OutgoingEmail.Status.CANCELLED
    assert (queued.status, queued.sent_at) == (Status.NOT_EMAILED, None)
    assert "pat@example.org bounces" in queued.not_emailed_reason
    assert sent_count(queued) == 0
    assert mailoutbox == []


def test_a_survey_whose_email_failed_after_its_last_attempt_is_not_emailed(queued, settings, smtp_sink):
    # given the SMTP server refuses it for now, and one attempt is all an email gets
    settings.OUTBOX_MAX_ATTEMPTS = 1
    smtp_sink.rcpt_responses = ["450 mailbox busy"]

    assert outbox_deliver() == 0

    queued.refresh_from_db()
    assert email_of(queued).status == OutgoingEmail.Status.FAILED
    assert (queued.status, queued.sent_at) == (Status.NOT_EMAILED, None)
    assert "450" in queued.not_emailed_reason
    assert sent_count(queued) == 0


def test_a_survey_past_its_maximum_age_fails_and_is_not_emailed(queued, mailoutbox):
    assert outbox_deliver(at=timezone.now() + timedelta(days=4)) == 0  # the survey kind's maximum age is 3 days

    queued.refresh_from_db()
    assert queued.status == Status.NOT_EMAILED
    assert queued.not_emailed_reason.startswith("Expired")
    assert mailoutbox == []


def test_an_admin_cancel_says_so_and_a_retry_that_goes_out_makes_the_survey_emailed(queued, mailoutbox):
    email = email_of(queued)
    assert outbox_cancel(email_id=email.pk)
    queued.refresh_from_db()
    assert (queued.status, queued.not_emailed_reason) == (Status.NOT_EMAILED, "Cancelled by an admin")

    assert outbox_retry(email_id=email.pk)
    assert outbox_deliver() == 1

    queued.refresh_from_db()
    assert (queued.status, queued.sent_at, queued.not_emailed_reason) == (Status.SENT, email_of(queued).sent_at, "")


def test_a_survey_withdrawn_while_queued_stays_withdrawn_whatever_the_outbox_says(queued, agent, mailoutbox):
    tickets.ticket_reopen(ticket_id=queued.ticket_id, by=agent)  # its email is cancelled by surveys itself

    outbox_deliver()

    queued.refresh_from_db()
    assert (queued.status, queued.sent_at) == (Status.CANCELLED, None)
    assert mailoutbox == []


def test_a_survey_answered_between_its_send_and_the_outcome_still_gets_its_send_time(queued):
    # given the customer clicked the link the moment it arrived, before the outbox recorded the send
    SurveyInvitation.objects.filter(pk=queued.pk).update(status=Status.ANSWERED)
    sent_at = timezone.now()

    # when the outbox's outcome comes
    survey_email_outcomes(
        [EmailOutcome(email_id=1, related_id=queued.pk, status=OutgoingEmail.Status.SENT, reason="", at=sent_at)]
    )

    # then it stays answered and counts as emailed at the send time
    queued.refresh_from_db()
    assert (queued.status, queued.sent_at) == (Status.ANSWERED, sent_at)
    assert sent_count(queued) == 1


def test_an_address_copied_on_the_ticket_never_gets_the_survey(queue, agent, mailoutbox):
    # given a ticket with an address copied on it (it gets the public replies)
    SurveyPolicy.objects.create(queue=None, delay_minutes=0, throttle_days=0)
    ticket = tickets.ticket_create(
        queue=queue, customer=CustomerFactory(email="pat@example.org"), subject="Help", body="Hi", by=None
    )
    tickets.ticket_cc_add(ticket_id=ticket.pk, email="boss@example.org", by=agent)

    # when it is closed and its survey goes out
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    assert surveys.invitation_send(invitation_id=SurveyInvitation.objects.get(ticket=ticket).pk)
    outbox_deliver()

    # then only the customer got it
    assert [message.to for message in mailoutbox] == [["pat@example.org"]]
    assert not OutgoingEmail.objects.filter(to_email__iexact="boss@example.org").exists()
