"""The unsubscribe links of a survey email outlive its survey: their own token, valid at least 60 days."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from surveys.models import SurveyOptOut
from surveys.tests.test_surveys import close_ticket, deliver_all, send_due, survey_link

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.mark.parametrize("link_days", [None, 30], ids=["default", "set-below-the-60-day-floor"])
def test_the_unsubscribe_links_work_59_days_later_although_the_survey_link_is_dead(
    settings, queue, agent, customer, mailoutbox, link_days
):
    # given a survey emailed with the default 28-day expiry (and the unsubscribe link's setting, if set)
    if link_days is not None:
        settings.SURVEY_UNSUBSCRIBE_LINK_DAYS = link_days
    close_ticket(queue, agent, customer)
    send_due()
    [message] = deliver_all(mailoutbox)
    survey = survey_link(message)
    page = path_of(re.search(r"Unsubscribe: (\S+)", message.body).group(1))
    one_click = path_of(re.fullmatch(r"<(\S+)>", message.extra_headers["List-Unsubscribe"]).group(1))

    # when the customer comes back 59 days later
    with time_machine.travel(timezone.now() + timedelta(days=59)):
        dead = Client().get(survey)
        form = Client().get(page)
        done = Client(enforce_csrf_checks=True).post(one_click, {"List-Unsubscribe": "One-Click"})

    # then the survey link is dead, but the unsubscribe page and the one-click POST work
    assert dead.status_code == 404
    assert form.status_code == 200 and "Stop satisfaction surveys?" in form.text
    assert done.status_code == 200
    assert SurveyOptOut.objects.filter(customer=customer).exists()
    assert survey.split("/")[2] not in page + one_click  # a token of its own, not the survey's


def test_the_unsubscribe_page_posts_the_opt_out_59_days_later(queue, agent, customer, mailoutbox):
    close_ticket(queue, agent, customer)
    send_due()
    [message] = deliver_all(mailoutbox)
    page = path_of(re.search(r"Unsubscribe: (\S+)", message.body).group(1))
    client = Client(enforce_csrf_checks=True)

    with time_machine.travel(timezone.now() + timedelta(days=59)):
        client.get(page)
        response = client.post(page, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})

    assert "You are unsubscribed" in response.text
    assert SurveyOptOut.objects.filter(customer=customer).exists()
