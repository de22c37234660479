"""Survey emails withdrawn before they go: an opt-out or a reopen cancels what still waits in the outbox, and the
survey of a reopened round takes no more answers."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from outbox.models import OutgoingEmail
from outbox.services import email_jobs, outbox_send
from outbox.tests.sending import outbox_deliver
from surveys import services
from surveys.models import SurveyPolicy, SurveyResponse
from surveys.tests.test_surveys import Status, close_ticket, deliver_all, invitation_of, send_due, survey_link
from tickets import services as tickets

pytestmark = pytest.mark.django_db
Queued = OutgoingEmail.Status.QUEUED


def test_opting_out_while_survey_emails_are_queued_sends_none_of_them(queue, agent, customer, mailoutbox):
    # given a survey emailed, then its reminder and a second ticket's survey queued in the outbox, not sent yet
    SurveyPolicy.objects.create(queue=queue, throttle_days=0, reminder_after_days=3)
    first = close_ticket(queue, agent, customer)
    send_due()
    [emailed] = deliver_all(mailoutbox)
    second = close_ticket(queue, agent, customer)
    later = timezone.now() + timedelta(days=3, hours=2)
    with time_machine.travel(later, tick=False):
        assert services.invitations_remind_due() == 1 and services.invitations_send_due() == 1
    assert OutgoingEmail.objects.filter(status=Queued).count() == 2

    # when the customer unsubscribes with the first email's one-click link, and the outbox runs
    one_click = re.search(r"<https?://[^/]+(/\S+)>", emailed.extra_headers["List-Unsubscribe"]).group(1)
    with time_machine.travel(later, tick=False):
        assert Client().post(one_click, {"List-Unsubscribe": "One-Click"}).status_code == 200
    outbox_deliver(at=later + timedelta(minutes=1))

    # then nothing more was sent: the queued rows are cancelled and the second survey was never emailed
    assert mailoutbox == [emailed]
    assert set(OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT).values_list("status", flat=True)) == {
        OutgoingEmail.Status.CANCELLED
    }
    assert invitation_of(first).status == Status.SENT
    never = invitation_of(second)
    assert (never.status, never.suppression_reason, never.sent_at) == (Status.SUPPRESSED, "opted_out", None)


def test_reopening_after_the_survey_was_emailed_closes_its_link_with_a_reopened_page(
    queue, agent, customer, mailoutbox
):
    # given a survey emailed for the first close, under a policy with a reminder after 3 days
    SurveyPolicy.objects.create(queue=queue, reminder_after_days=3)
    ticket = close_ticket(queue, agent, customer)
    send_due()
    link = survey_link(deliver_all(mailoutbox)[0])

    # when the ticket is reopened and the customer then clicks and posts a score
    tickets.ticket_reopen(ticket_id=ticket.pk, by=agent)
    page = Client().get(link)
    posted = Client().post(link, {"csat": "1", "via": "auto"}, headers={"Accept": "application/json"})

    # then the page says the request was reopened, nothing is recorded, and no reminder follows
    assert page.status_code == posted.status_code == 410
    assert "This request was reopened" in page.text and ticket.reference in page.text
    assert 'name="csat"' not in page.text
    assert not SurveyResponse.objects.exists()
    assert invitation_of(ticket).reopened_at is not None
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        assert services.invitations_remind_due() == 0


def test_reopening_while_the_survey_email_is_queued_sends_nothing(queue, agent, customer, mailoutbox):
    ticket = close_ticket(queue, agent, customer)
    send_due()  # the survey email waits in the outbox

    tickets.ticket_reopen(ticket_id=ticket.pk, by=agent)
    deliver_all(mailoutbox)

    assert mailoutbox == []
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.CANCELLED
    invitation = invitation_of(ticket)
    assert (invitation.status, invitation.sent_at) == (Status.CANCELLED, None)  # never emailed


def test_an_answered_survey_keeps_its_answer_but_takes_no_change_after_a_reopen(queue, agent, customer, mailoutbox):
    ticket = close_ticket(queue, agent, customer)
    send_due()
    link = survey_link(deliver_all(mailoutbox)[0])
    assert Client().post(link, {"csat": "2", "via": "person"}).status_code == 302

    tickets.ticket_reopen(ticket_id=ticket.pk, by=agent)
    changed = Client().post(link, {"csat": "5", "via": "person"})

    assert changed.status_code == 410
    assert SurveyResponse.objects.get().csat == 2 and invitation_of(ticket).status == Status.ANSWERED


def test_a_survey_email_already_claimed_by_the_sweep_when_the_ticket_is_reopened_is_not_sent(
    queue, agent, customer, mailoutbox
):
    # given the survey email claimed by a sweep, its send task not run yet
    ticket = close_ticket(queue, agent, customer)
    send_due()
    later = timezone.now() + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        claim, ids = email_jobs.claim_due()

    # when the ticket is reopened (the row cannot be cancelled while it is being sent), then the send task runs
    tickets.ticket_reopen(ticket_id=ticket.pk, by=agent)
    with time_machine.travel(later, tick=False):
        outbox_send(email_ids=ids, claim_token=claim)

    # then the renderer's check stopped it: nothing sent, the row cancelled with the reason
    assert mailoutbox == []
    email = OutgoingEmail.objects.get()
    assert (email.status, email.last_error) == (OutgoingEmail.Status.CANCELLED, "Not sent: the ticket was reopened")
