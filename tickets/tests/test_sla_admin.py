"""The admin of SLA policies: its validation (through the add form) and the rule it states for edits; a ticket's
SLA targets on its admin page."""

import pytest
from django.urls import reverse

from tickets import services
from tickets.models import Priority, SlaPolicy
from tickets.sla.admin import EDIT_RULE
from tickets.tests.factories import CalendarFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:tickets_slapolicy_add")


def _post(client, queue, **fields):
    data = {
        "queue": queue.pk,
        "priority": Priority.NORMAL,
        "first_reply_minutes": "",
        "next_reply_minutes": "",
        "resolution_minutes": "",
        "pause_while_waiting": "on",
        "warn_at_percent": 80,
        **fields,
    }
    return client.post(ADD, {key: value for key, value in data.items() if value is not None})


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "Set at least one target."),
        ({"first_reply_minutes": 0}, "Ensure this value is greater than or equal to 1."),
        ({"resolution_minutes": -5}, "Ensure this value is greater than or equal to 0."),
        ({"first_reply_minutes": 60, "warn_at_percent": 100}, "Ensure this value is less than or equal to 99."),
        (
            {"first_reply_minutes": 60, "business_hours": "on"},
            "The queue&#x27;s business calendar has no working hours",
        ),
    ],
)
def test_an_invalid_policy_is_refused_with_the_reason(client, admin_user, queue, fields, error):
    client.force_login(admin_user)

    response = _post(client, queue, **fields)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not SlaPolicy.objects.exists()


def test_business_hours_need_a_calendar_with_working_hours(client, admin_user, queue):
    client.force_login(admin_user)
    queue.business_calendar = CalendarFactory(weekdays_9_to_5=False)
    queue.save()

    assert "has no working hours" in _post(client, queue, first_reply_minutes=60, business_hours="on").content.decode()

    queue.business_calendar = CalendarFactory()
    queue.save()
    response = _post(client, queue, first_reply_minutes=60, business_hours="on")
    assert response.status_code == 302
    assert SlaPolicy.objects.get().business_hours


def test_the_form_says_an_edit_applies_to_clocks_that_start_after_it(client, admin_user, queue):
    client.force_login(admin_user)
    SlaPolicy.objects.create(queue=queue, priority=Priority.HIGH, resolution_minutes=90, business_hours=False)

    assert EDIT_RULE in client.get(ADD).content.decode()
    listing = client.get(reverse("admin:tickets_slapolicy_changelist")).content.decode()
    assert "1 h 30 min" in listing


def test_the_ticket_admin_page_shows_its_sla_targets(client, admin_user, queue, customer):
    client.force_login(admin_user)
    SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, first_reply_minutes=45, business_hours=False)
    ticket = services.ticket_create(queue=queue, customer=customer, subject="S", body="B", by=None)

    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    assert "SLA targets" in page and "45 min (calendar hours)" in page and "First reply" in page
