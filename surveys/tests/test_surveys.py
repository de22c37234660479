"""Surveys: scheduling at close, sending through the outbox, one-click rating pages, settling and follow-ups."""

import re
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from outbox.models import OutgoingEmail
from outbox.services import email_jobs
from outbox.tasks import send_outgoing_emails, sweep_outbox
from surveys import services
from surveys.models import FollowUp, SurveyInvitation, SurveyOptOut, SurveyPolicy, SurveyResponse, TicketRating
from tickets import services as tickets
from tickets.models import CloseReason, Customer, QueueMembership
from tickets.tests.factories import CalendarFactory, MembershipFactory

pytestmark = pytest.mark.django_db
Status = SurveyInvitation.Status


def close_ticket(queue, agent, customer, reason=CloseReason.SOLVED, ticket=None):
    if ticket is None:
        ticket = tickets.ticket_create(
            queue=queue,
            customer=customer,
            subject="Invoice <b>missing</b>",
            body="Where is it?",
            by=None,
            assignee=agent,
        )
    return tickets.ticket_close(ticket_id=ticket.pk, reason=reason, by=agent)


def invitation_of(ticket, round=1) -> SurveyInvitation:
    return SurveyInvitation.objects.get(ticket=ticket, round=round)


def send_due(after=timedelta(hours=1, seconds=1)):
    """Run the invitation beat task as it would run `after` from now; returns how many were handed to the outbox."""
    with time_machine.travel(timezone.now() + after):
        return services.invitations_send_due()


def deliver_all(mailoutbox):
    """What the outbox sweep + worker do: claim due rows and send them (in this process)."""
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        token, ids = email_jobs.claim_due()
        send_outgoing_emails(ids, token)
    return mailoutbox


def survey_link(message) -> str:
    """The landing URL of the 'Very dissatisfied' link in the text part, as a path."""
    url = re.search(r"Very dissatisfied \(1\): (\S+)", message.body).group(1)
    return url.removeprefix("http://127.0.0.1:8000")


@pytest.fixture
def sent_invitation(queue, agent, customer, mailoutbox):
    ticket = close_ticket(queue, agent, customer)
    send_due()
    deliver_all(mailoutbox)
    invitation = invitation_of(ticket)
    assert invitation.status == Status.SENT
    return invitation, survey_link(mailoutbox[-1])


# --- scheduling at close ---


def test_close_schedules_an_invitation_with_a_snapshot_in_the_same_transaction(queue, agent, customer):
    ticket = close_ticket(queue, agent, customer)

    invitation = invitation_of(ticket)
    assert invitation.status == Status.SCHEDULED
    assert (invitation.agent, invitation.queue, invitation.customer) == (agent, queue, customer)
    assert invitation.send_after == ticket.closed_at + timedelta(hours=1)  # the default policy's delay
    assert OutgoingEmail.objects.count() == 0  # nothing is sent from the close itself


def test_reassignment_after_close_does_not_move_the_rating(queue, agent, lead, customer):
    ticket = close_ticket(queue, agent, customer)
    tickets.ticket_assign(ticket_id=ticket.pk, assignee=lead, by=lead)

    assert invitation_of(ticket).agent == agent


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda queue, customer: SurveyPolicy.objects.create(queue=queue, enabled=False), "policy_off"),
        (lambda queue, customer: None, "close_reason"),
        (lambda queue, customer: Customer.objects.filter(pk=customer.pk).update(email=""), "no_email"),
        (lambda queue, customer: services.customer_opt_out(customer_id=customer.pk), "opted_out"),
    ],
    ids=["policy-off", "close-reason", "no-email", "opted-out"],
)
def test_suppressed_invitations_are_recorded_with_their_reason(queue, agent, customer, setup, reason, mailoutbox):
    setup(queue, customer)
    close_reason = CloseReason.SPAM if reason == "close_reason" else CloseReason.SOLVED

    ticket = close_ticket(queue, agent, customer, reason=close_reason)
    send_due()
    deliver_all(mailoutbox)

    invitation = invitation_of(ticket)
    assert (invitation.status, invitation.suppression_reason) == (Status.SUPPRESSED, reason)
    assert mailoutbox == []


def test_reopen_before_send_cancels_and_sends_no_email(queue, agent, customer, mailoutbox):
    ticket = close_ticket(queue, agent, customer)

    tickets.ticket_reopen(ticket_id=ticket.pk, by=agent)
    send_due()
    deliver_all(mailoutbox)

    assert invitation_of(ticket).status == Status.CANCELLED
    assert mailoutbox == []


def test_close_send_reopen_close_throttles_the_second_round(queue, agent, customer, mailoutbox):
    ticket = close_ticket(queue, agent, customer)
    send_due()
    deliver_all(mailoutbox)  # emailed before the reopen (a survey still in the outbox is withdrawn with it)
    tickets.ticket_reopen(ticket_id=ticket.pk, by=agent)
    close_ticket(queue, agent, customer, ticket=ticket)
    send_due()
    deliver_all(mailoutbox)

    assert invitation_of(ticket, 1).status == Status.SENT
    second = invitation_of(ticket, 2)
    assert (second.status, second.suppression_reason) == (Status.SUPPRESSED, "throttled")
    assert len(mailoutbox) == 1


def test_close_send_reopen_close_sends_again_without_throttle(queue, agent, customer, mailoutbox):
    SurveyPolicy.objects.create(queue=queue, throttle_days=0)
    ticket = close_ticket(queue, agent, customer)
    send_due()
    deliver_all(mailoutbox)
    tickets.ticket_reopen(ticket_id=ticket.pk, by=agent)
    close_ticket(queue, agent, customer, ticket=ticket)
    send_due()
    deliver_all(mailoutbox)

    assert [i.status for i in SurveyInvitation.objects.order_by("round")] == [Status.SENT, Status.SENT]
    assert len(mailoutbox) == 2


def test_close_while_the_broker_is_unreachable_then_the_sweep_sends_exactly_one_email(
    queue, agent, customer, mailoutbox, django_capture_on_commit_callbacks
):
    # given the broker is down: every publish fails
    broker_down = mock.patch.object(send_outgoing_emails, "delay", side_effect=OperationalError("broker down"))
    with broker_down:
        ticket = close_ticket(queue, agent, customer)
        assert invitation_of(ticket).status == Status.SCHEDULED  # the close itself never needs the broker
        send_due()
        with (
            time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)),
            pytest.raises(OperationalError),
            django_capture_on_commit_callbacks(execute=True),
        ):
            sweep_outbox()  # claims the row, then cannot hand it to a worker
    email = OutgoingEmail.objects.get()
    assert email.status == OutgoingEmail.Status.SENDING and mailoutbox == []

    # when the broker is back and the lease has expired, the next sweeps run (twice, to prove no duplicate)
    def broker_delivers(ids, token):
        send_outgoing_emails(ids, token)

    with mock.patch.object(send_outgoing_emails, "delay", side_effect=broker_delivers):
        for minutes in (10, 11):
            with (
                time_machine.travel(timezone.now() + timedelta(hours=1, minutes=minutes)),
                django_capture_on_commit_callbacks(execute=True),
            ):
                sweep_outbox()

    # then exactly one email went out
    assert len(mailoutbox) == 1
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT


# --- the email ---


def test_the_survey_email_is_personal_with_five_links_and_unsubscribe_headers(queue, agent, customer, mailoutbox):
    ticket = close_ticket(queue, agent, customer)
    send_due()
    deliver_all(mailoutbox)

    [message] = mailoutbox
    assert message.subject == f"How did we do? [{ticket.reference}] Invoice <b>missing</b>"
    assert message.from_email == f"{queue.name} <{queue.reply_from_email}>"
    assert message.to == [customer.email]
    assert f"Hi {customer.first_name}," in message.body
    assert f"{agent.first_name} recently helped you" in message.body
    for label in (
        "Very dissatisfied",
        "Dissatisfied",
        "Neither satisfied nor dissatisfied",
        "Satisfied",
        "Very satisfied",
    ):
        assert re.search(rf"{label} \(\d\): http://\S+/s/\S+/\?csat=\d", message.body)
    html = message.alternatives[0].content
    assert "Invoice &lt;b&gt;missing&lt;/b&gt;" in html  # escaped
    assert "<img" not in html  # no tracking pixel
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://\S+/unsubscribe/one-click/>", message.extra_headers["List-Unsubscribe"])


def test_only_the_token_hash_is_stored(sent_invitation):
    from common.models import AccessToken

    invitation, link = sent_invitation
    raw = link.split("/")[2]

    stored = AccessToken.objects.get(purpose="survey")
    assert raw not in stored.token_hash
    assert len(stored.token_hash) == 64
    assert stored.expires_at == invitation.expires_at
    unsubscribe = AccessToken.objects.get(purpose="survey_unsubscribe")
    assert (unsubscribe.target, unsubscribe.expires_at > invitation.expires_at) == (invitation.customer, True)


# --- the customer pages ---


def test_get_on_a_rating_link_records_nothing(client, sent_invitation):
    invitation, link = sent_invitation

    page = client.get(link)

    assert page.status_code == 200
    assert "Invoice &lt;b&gt;missing&lt;/b&gt;" in page.text
    assert 'data-autosubmit="1"' in page.text
    assert re.search(r'name="csat" value="1"[^>]*checked', page.text)  # the clicked score is preselected
    assert SurveyResponse.objects.count() == 0
    assert SurveyInvitation.objects.get(pk=invitation.pk).status == Status.SENT


def test_post_records_and_a_second_post_updates_and_keeps_history(client, sent_invitation):
    invitation, link = sent_invitation

    first = client.post(link, {"csat": "1", "via": "auto"}, headers={"Accept": "application/json"})
    second = client.post(link, {"csat": "4", "ces": "6", "comment": "Fixed after all", "via": "person"})

    assert first.json() == {"recorded": True}
    assert second.status_code == 302
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.csat, response.ces, response.comment) == (4, 6, "Fixed after all")
    assert [(c.csat, c.ces, c.via) for c in response.changes.all()] == [(1, None, "auto"), (4, 6, "person")]
    assert SurveyInvitation.objects.get(pk=invitation.pk).status == Status.ANSWERED
    thanks = client.get(second.url)
    assert "Thank you for your feedback" in thanks.text
    assert "Fixed after all" in thanks.text


def test_an_expired_token_is_refused_with_the_same_page_as_an_unknown_one(client, sent_invitation):
    invitation, link = sent_invitation

    with time_machine.travel(invitation.expires_at + timedelta(seconds=1)):
        expired_get = client.get(link)
        expired_post = client.post(link, {"csat": "5", "via": "person"})
    unknown = client.get("/s/not-a-real-token/?csat=5")
    tampered = client.get(link.replace(link.split("/")[2], link.split("/")[2][:-1] + "x"))

    assert {expired_get.status_code, expired_post.status_code, unknown.status_code, tampered.status_code} == {404}
    assert expired_get.text == unknown.text == tampered.text
    assert SurveyResponse.objects.count() == 0


def test_a_token_cannot_touch_another_invitation(client, queue, agent, customer, mailoutbox):
    first = close_ticket(queue, agent, customer)
    SurveyPolicy.objects.create(queue=queue, throttle_days=0)
    second = close_ticket(queue, agent, customer)
    send_due()
    deliver_all(mailoutbox)
    link_of_first = next(survey_link(m) for m in mailoutbox if first.reference in m.subject)

    client.post(link_of_first, {"csat": "2", "via": "person"})

    assert SurveyResponse.objects.get().invitation == invitation_of(first)
    assert not SurveyResponse.objects.filter(invitation=invitation_of(second)).exists()


def test_bad_scores_get_a_clear_error_and_record_nothing(client, sent_invitation):
    _, link = sent_invitation

    page = client.post(link, {"csat": "9", "via": "person"})
    empty = client.post(link, {"via": "person", "comment": ""})

    assert page.status_code == 400 and "Select a valid choice" in page.text
    assert empty.status_code == 400 and "Choose a score" in empty.text
    assert SurveyResponse.objects.count() == 0


def test_one_click_unsubscribe_works_without_csrf_and_only_with_a_valid_token(sent_invitation, customer):
    from django.test import Client

    _, link = sent_invitation
    token = link.split("/")[2]
    client = Client(enforce_csrf_checks=True)

    refused = client.post("/s/forged-token/unsubscribe/one-click/", {"List-Unsubscribe": "One-Click"})
    assert refused.status_code == 404
    assert not SurveyOptOut.objects.filter(customer=customer).exists()

    done = client.post(f"/s/{token}/unsubscribe/one-click/", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert SurveyOptOut.objects.filter(customer=customer).exists()


def test_unsubscribe_page_needs_csrf_and_then_suppresses_later_surveys(sent_invitation, customer, queue, agent):
    from django.test import Client

    _, link = sent_invitation
    url = reverse("surveys:unsubscribe", args=[link.split("/")[2]])
    client = Client(enforce_csrf_checks=True)

    page = client.get(url)
    assert "Unsubscribe from surveys" in page.text
    assert client.post(url).status_code == 403  # no CSRF token
    csrf = client.cookies["csrftoken"].value
    assert "You are unsubscribed" in client.post(url, {"csrfmiddlewaretoken": csrf}).text

    later = close_ticket(queue, agent, customer)
    assert invitation_of(later).suppression_reason == "opted_out"


def test_public_pages_are_rate_limited_per_ip(client, settings, sent_invitation):
    settings.PUBLIC_RATE_LIMIT = "3/m"
    _, link = sent_invitation

    codes = [client.get(link).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


# --- settling and follow-ups ---


def test_a_burst_of_five_different_scores_opens_no_follow_up(client, sent_invitation):
    _, link = sent_invitation

    for score in (1, 2, 3, 4, 5):  # a link scanner that runs the script on every link
        client.post(link.replace("csat=1", f"csat={score}"), {"csat": str(score), "via": "auto"})
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        services.responses_settle_due()

    response = SurveyResponse.objects.get()
    assert response.flagged_automated
    assert response.settled_at is not None
    assert FollowUp.objects.count() == 0


def test_a_settled_1_opens_exactly_one_follow_up(client, sent_invitation, agent):
    invitation, link = sent_invitation
    client.post(link, {"csat": "1", "via": "auto"})

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert services.responses_settle_due() == 0  # not settled yet
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        services.responses_settle_due()
        services.responses_settle_due()

    followup = FollowUp.objects.get()
    assert (followup.invitation, followup.owner, followup.status) == (invitation, agent, FollowUp.Status.OPEN)
    assert followup.due_at == followup.created_at + timedelta(hours=8)  # 24/7 queue: 8 business hours = 8 hours


def test_a_persons_own_action_settles_at_once(client, sent_invitation):
    _, link = sent_invitation

    client.post(link, {"csat": "2", "ces": "2", "comment": "Took forever", "via": "person"})

    assert FollowUp.objects.count() == 1
    assert SurveyResponse.objects.get().confirmed_at is not None


def test_a_rating_that_improves_keeps_the_follow_up_and_marks_it(client, sent_invitation):
    _, link = sent_invitation
    client.post(link, {"csat": "1", "comment": "Bad", "via": "person"})

    client.post(link, {"csat": "5", "comment": "Sorted now, thanks", "via": "person"})

    followup = FollowUp.objects.get()
    assert followup.rating_improved_at is not None
    assert followup.status == FollowUp.Status.OPEN


def test_a_poor_ces_alone_opens_a_follow_up(client, sent_invitation):
    _, link = sent_invitation

    client.post(link, {"csat": "4", "ces": "3", "via": "person"})

    assert FollowUp.objects.count() == 1


@pytest.mark.parametrize(
    ("owner_rule", "agent_active", "has_lead", "expected"),
    [
        ("agent", True, True, "agent"),
        ("lead", True, True, "lead"),
        ("agent", False, True, "lead"),
        ("agent", False, False, None),
    ],
)
def test_follow_up_owner_falls_back_agent_lead_unassigned(
    client, queue, agent, customer, mailoutbox, owner_rule, agent_active, has_lead, expected
):
    SurveyPolicy.objects.create(queue=queue, followup_owner=owner_rule)
    lead = MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user if has_lead else None
    ticket = close_ticket(queue, agent, customer)
    if not agent_active:
        agent.is_active = False
        agent.save()
    send_due()
    deliver_all(mailoutbox)

    client.post(survey_link(mailoutbox[0]), {"csat": "1", "comment": "No", "via": "person"})

    owner = FollowUp.objects.get(ticket=ticket).owner
    assert owner == {"agent": agent, "lead": lead, None: None}[expected]


def test_follow_up_due_time_uses_business_hours(client, queue, agent, customer, mailoutbox):
    queue.business_calendar = CalendarFactory(timezone="UTC")  # Mon-Fri 09:00-17:00 UTC
    queue.save()
    close_ticket(queue, agent, customer)
    send_due()
    deliver_all(mailoutbox)
    link = survey_link(mailoutbox[0])

    with time_machine.travel("2026-11-27 16:00:00Z", tick=False):  # a Friday, one business hour left
        client.post(link, {"csat": "1", "comment": "No", "via": "person"})

    assert FollowUp.objects.get().due_at.isoformat() == "2026-11-30T16:00:00+00:00"  # Monday 16:00


# --- expiry and reminders ---


def test_unanswered_invitations_expire_once(sent_invitation):
    invitation, _ = sent_invitation

    with time_machine.travel(invitation.expires_at + timedelta(seconds=1)):
        assert services.invitations_expire() == 1
        assert services.invitations_expire() == 0

    assert SurveyInvitation.objects.get(pk=invitation.pk).status == Status.EXPIRED


def test_one_reminder_with_its_own_token_when_the_policy_asks(queue, agent, customer, mailoutbox):
    from common.models import AccessToken

    SurveyPolicy.objects.create(queue=queue, reminder_after_days=3)
    ticket = close_ticket(queue, agent, customer)
    send_due()
    deliver_all(mailoutbox)

    with time_machine.travel(timezone.now() + timedelta(days=3, hours=2)):
        assert services.invitations_remind_due() == 1
        assert services.invitations_remind_due() == 0
    deliver_all(mailoutbox)
    with time_machine.travel(timezone.now() + timedelta(days=3, hours=3)):
        token, ids = email_jobs.claim_due()
        send_outgoing_emails(ids, token)

    assert [m.subject.startswith("Reminder:") for m in mailoutbox] == [False, True]
    assert invitation_of(ticket).reminded_at is not None
    assert AccessToken.objects.count() == 4  # a survey and an unsubscribe token per email


def test_an_answer_is_kept_on_the_ticket_for_the_list_and_a_burst_is_not_marked_poor(client, sent_invitation):
    invitation, link = sent_invitation

    client.post(link, {"csat": 2, "ces": 6, "via": "person"})

    rating = TicketRating.objects.get(ticket_id=invitation.ticket_id)
    assert (rating.csat, rating.ces, rating.poor) == (2, 6, True)

    # a scanner's burst of different scores ending on 1 is not shown as a poor rating
    for score in (5, 4, 3, 1):
        client.post(link, {"csat": score, "via": "auto"})
    rating.refresh_from_db()
    assert (rating.csat, rating.poor) == (1, False)
