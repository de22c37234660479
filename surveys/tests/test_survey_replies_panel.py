"""The survey panel of the ticket page shows the customer's emails answering a survey email, with the round whose
survey email they answered."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from surveys.models import SURVEY_MAIL_PURPOSE
from surveys.tests.factories import InvitationFactory, ResponseFactory
from surveys.ticket_pages import survey_panel_context
from tickets import services
from tickets.email_in import EmailDetails
from tickets.models import Message, Status
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def survey_reply(ticket, body, *, at=None):
    message = services.message_add(
        ticket_id=ticket.pk,
        kind=Message.Kind.CUSTOMER_MESSAGE,
        body=body,
        customer=ticket.customer,
        email=EmailDetails(message_id="<r@example.org>", reply_to_purpose=SURVEY_MAIL_PURPOSE),
        reopen=False,
    )
    if at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


def test_the_panel_shows_the_reply_next_to_the_answer(queue, agent):
    response = ResponseFactory(invitation__queue=queue, invitation__agent=agent, csat=4, comment="Fine")
    ticket = response.invitation.ticket
    survey_reply(ticket, f"Also, thanks a lot! {XSS}")
    client = Client()
    client.force_login(agent)

    page = client.get(reverse("tickets:detail", args=[ticket.pk])).text

    panel = page[page.index('id="survey-heading"') :]
    assert panel.index("4/5") < panel.index("The customer replied to the survey email:")
    assert "Also, thanks a lot! &lt;script&gt;alert(1)&lt;/script&gt;" in panel and XSS not in page
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_each_reply_goes_with_the_round_whose_survey_email_came_before_it(queue, agent):
    now = timezone.now()
    first = InvitationFactory(queue=queue, agent=agent, round=1, sent_at=now - timedelta(days=10))
    ticket = first.ticket
    second = InvitationFactory(
        queue=queue, agent=agent, ticket=ticket, customer=ticket.customer, round=2, sent_at=now - timedelta(days=2)
    )
    early = survey_reply(ticket, "too early", at=now - timedelta(days=20))
    to_first = survey_reply(ticket, "about round 1", at=now - timedelta(days=5))
    to_second = survey_reply(ticket, "about round 2", at=now - timedelta(days=1))
    services.message_add(
        ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body="not one", customer=ticket.customer
    )

    rounds = survey_panel_context(ticket)["rounds"]

    assert [(r["invitation"], [m.pk for m in r["replies"]]) for r in rounds] == [
        (second, [to_second.pk]),
        (first, [early.pk, to_first.pk]),
    ]


def test_no_survey_no_reply_query(queue):
    ticket = services.ticket_create(queue=queue, customer=CustomerFactory(), subject="s", body="b", by=None)

    with CaptureQueriesContext(connection) as captured:
        assert survey_panel_context(ticket) == {"rounds": []}

    assert len(captured) == 1
