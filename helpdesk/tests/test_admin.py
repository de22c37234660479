"""The Django admin: every registered model's changelist and change form render; actions go through the services."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingEmail
from outbox.services import email_enqueue
from surveys.models import FollowUp, SurveyInvitation, SurveyResponse
from surveys.services import response_submit, responses_settle_due
from tickets import services as tickets
from tickets.models import CloseReason, Message, Priority, SlaPolicy, Status, TicketEvent
from tickets.tests.factories import CalendarFactory, MembershipFactory
from webhooks.events import webhook_events
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(queue, agent, customer, admin_user):
    """One of everything: a closed ticket with metrics and SLA targets under a policy, a survey answered 1 with a
    follow-up, an email, a webhook endpoint with its deliveries."""
    MembershipFactory(queue=queue, role="lead")
    WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.org/hooks", events=list(webhook_events.keys()))
    CalendarFactory()
    SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, business_hours=False)
    ticket = tickets.ticket_create(
        queue=queue, customer=customer, subject="Login", body="Help", by=agent, assignee=agent
    )
    tickets.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Try again", by=agent)
    tickets.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        from surveys.services import invitations_send_due

        invitations_send_due()
        response_submit(invitation_id=invitation.pk, via="person", csat=1, ces=2, comment="Slow")
        responses_settle_due()
    email_enqueue(kind="system", to="x@example.org", subject="Hi", text="Hello")
    return ticket


def test_every_changelist_and_change_form_renders(client, admin_user, desk):
    # given an admin and one row of every model
    client.force_login(admin_user)
    assert FollowUp.objects.exists() and WebhookDelivery.objects.exists()

    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        # when the changelist opens, then it renders
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        # and so does the change form of its first row
        obj = model_admin.get_queryset(response.wsgi_request).first()
        if obj is not None:
            response = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert response.status_code == 200, info


def test_closed_tickets_show_first_reply_and_resolution_in_calendar_and_business_time(client, admin_user, desk):
    client.force_login(admin_user)

    page = client.get(reverse("admin:tickets_ticket_changelist")).content.decode()

    for heading in ("First reply time (calendar)", "First reply time (business)", "Full resolution time (calendar)"):
        assert heading in page


def test_close_action_goes_through_the_service_and_records_an_event(client, admin_user, queue, agent, customer):
    ticket = tickets.ticket_create(queue=queue, customer=customer, subject="A", body="B", by=agent)
    client.force_login(admin_user)

    client.post(
        reverse("admin:tickets_ticket_changelist"),
        {"action": "close_tickets", "_selected_action": [ticket.pk], "close_reason": "duplicate"},
    )

    ticket.refresh_from_db()
    assert (ticket.status, ticket.close_reason) == (Status.CLOSED, CloseReason.DUPLICATE)
    assert ticket.resolution_seconds is not None
    assert TicketEvent.objects.filter(ticket=ticket, kind="status", new_value="closed", actor=admin_user).exists()


def test_assign_action_refuses_a_non_member_and_changes_nothing(client, admin_user, queue, agent, outsider, customer):
    ticket = tickets.ticket_create(queue=queue, customer=customer, subject="A", body="B", by=agent)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:tickets_ticket_changelist"),
        {"action": "assign_tickets", "_selected_action": [ticket.pk], "assignee": outsider.pk},
        follow=True,
    )

    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert "not a member of this queue" in response.content.decode()


def test_the_ticket_form_is_read_only_so_nothing_bypasses_the_services(client, admin_user, queue, customer, agent):
    ticket = tickets.ticket_create(queue=queue, customer=customer, subject="Original", body="B", by=agent)
    client.force_login(admin_user)

    client.post(reverse("admin:tickets_ticket_change", args=[ticket.pk]), {"subject": "Changed", "status": "closed"})

    ticket.refresh_from_db()
    assert (ticket.subject, ticket.status) == ("Original", Status.NEW)
    assert client.get(reverse("admin:tickets_ticket_add")).status_code == 403


def test_deactivate_agent_unassigns_their_open_tickets_with_events(client, admin_user, queue, agent, customer):
    ticket = tickets.ticket_create(queue=queue, customer=customer, subject="A", body="B", by=agent, assignee=agent)
    client.force_login(admin_user)

    client.post(reverse("admin:auth_user_changelist"), {"action": "deactivate_agents", "_selected_action": [agent.pk]})

    agent.refresh_from_db()
    ticket.refresh_from_db()
    assert not agent.is_active
    assert ticket.assignee is None
    assert TicketEvent.objects.filter(ticket=ticket, kind="assignee", old_value=agent.username, new_value="").exists()


def test_retry_action_requeues_a_failed_email(client, admin_user):
    email = email_enqueue(kind="system", to="x@example.org", subject="Hi", text="Hello")
    OutgoingEmail.objects.filter(pk=email.pk).update(status=OutgoingEmail.Status.FAILED, last_error="550 no")
    client.force_login(admin_user)

    client.post(reverse("admin:outbox_outgoingemail_changelist"), {"action": "retry", "_selected_action": [email.pk]})

    email.refresh_from_db()
    assert (email.status, email.last_error) == (OutgoingEmail.Status.QUEUED, "")


def test_responses_cannot_be_deleted_in_the_admin_not_even_in_bulk(client, admin_user, desk):
    response_row = SurveyResponse.objects.get()
    model_admin = admin.site._registry[SurveyResponse]
    client.force_login(admin_user)
    changelist = reverse("admin:surveys_surveyresponse_changelist")

    page = client.get(changelist)
    posted = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [response_row.pk], "post": "yes"}, follow=True
    )

    assert model_admin.has_delete_permission(page.wsgi_request, response_row) is False
    assert "delete_selected" not in model_admin.get_actions(page.wsgi_request)
    assert 'value="delete_selected"' not in page.content.decode()
    assert posted.status_code == 200
    assert SurveyResponse.objects.filter(pk=response_row.pk).exists()
    assert client.get(reverse("admin:surveys_surveyresponse_delete", args=[response_row.pk])).status_code == 403
