"""Erasing a customer's personal data (tickets.erasure): the tickets and their figures stay, the person's data goes;
the retention beat erases only customers past the period. The whole-database check, surveys included, is
helpdesk/tests/test_erasure.py; these run without surveys too."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from common.errors import DomainError
from common.models import AccessToken
from outbox.models import OutgoingEmail
from outbox.services import email_jobs, outbox_send
from tickets import services
from tickets.erasure import customer_erase, customers_erase_past_retention, erased_email
from tickets.models import CloseReason, Customer, Message, Status, Ticket, TicketEvent
from tickets.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

NAME, EMAIL = "Zelphine Quarrington", "zq.private@example.org"
SECRETS = ("Zelphine", "Quarrington", "zq.private", "passport QX-4471", "Flux capacitor")


@pytest.fixture
def conversation(queue, agent, admin_user):
    """A request from the public form (confirmation emailed), an agent's reply and note, closed; one reply email
    still queued; an admin edited the customer once."""
    ticket = services.request_submit(
        queue=queue, email=EMAIL, name=NAME, subject="Flux capacitor broken", body="My passport QX-4471 was stolen"
    )
    token, ids = email_jobs.claim_due()  # the confirmation is sent (its link made then)
    outbox_send(email_ids=ids, claim_token=token)
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Hello Zelphine, sorry!", by=agent)
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Zelphine called twice", by=agent)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    customer = Customer.objects.get(email=EMAIL)
    LogEntry.objects.log_actions(
        user_id=admin_user.pk, queryset=[customer], action_flag=CHANGE, change_message="[]", single_object=True
    )
    return Ticket.objects.get(pk=ticket.pk)


def link_of(kind: str) -> str:
    """The conversation link of the email of this kind as it was sent (no stored row holds it)."""
    subject = OutgoingEmail.objects.get(kind=kind).subject
    body = next(message.body for message in mail.outbox if message.subject == subject)
    return re.search(r"https?://[^/\s]+(/support/c/[^/\s]+/)", body).group(1)  # type: ignore[union-attr]


def traces(customer_id: int) -> list[str]:
    """Where the secrets still are, among the rows tickets, outbox, tokens and the admin's history keep."""
    texts = [
        *Customer.objects.filter(pk=customer_id).values_list("email", "name"),
        *Ticket.objects.filter(customer_id=customer_id).values_list("subject"),
        *Message.objects.filter(ticket__customer_id=customer_id).values_list("body"),
        *OutgoingEmail.objects.values_list("to_email", "subject", "body_text", "body_html", "headers", "last_error"),
        *LogEntry.objects.values_list("object_repr"),
    ]
    flat = " ".join(str(value) for row in texts for value in row)
    return [secret for secret in SECRETS if secret.lower() in flat.lower()]


def test_an_erasure_replaces_the_customers_data_and_keeps_the_tickets(conversation, admin_user):
    customer = conversation.customer
    before = Ticket.objects.values().get(pk=conversation.pk)
    assert traces(customer.pk) == list(SECRETS)  # the check finds them

    assert customer_erase(customer_id=customer.pk, by=admin_user)

    assert traces(customer.pk) == []
    customer.refresh_from_db()
    assert (customer.email, customer.name) == (erased_email(customer.pk), "")
    assert customer.erased_at is not None
    after = Ticket.objects.values().get(pk=conversation.pk)
    assert after == {**before, "subject": "[erased]"}  # status, metrics, counts: all kept
    assert list(Message.objects.filter(ticket=conversation).values_list("kind", "body")) == [
        (Message.Kind.CUSTOMER_MESSAGE, "[erased]"),
        (Message.Kind.PUBLIC_REPLY, "[erased]"),
        (Message.Kind.INTERNAL_NOTE, "[erased]"),
    ]


def test_each_ticket_records_the_erasure_as_an_event(conversation, admin_user, queue):
    other = services.ticket_create(queue=queue, customer=conversation.customer, subject="B", body="C", by=admin_user)
    services.ticket_close(ticket_id=other.pk, reason=CloseReason.DUPLICATE, by=admin_user)

    customer_erase(customer_id=conversation.customer_id, by=admin_user)

    erased = TicketEvent.objects.filter(kind=TicketEvent.Kind.ERASED, actor=admin_user)
    assert sorted(erased.values_list("ticket_id", flat=True)) == [conversation.pk, other.pk]


def test_the_old_conversation_link_answers_the_invalid_link_page(client, conversation, admin_user):
    link = link_of("confirmation")
    assert client.get(link).status_code == 200

    customer_erase(customer_id=conversation.customer_id, by=admin_user)

    response = client.get(link)
    assert response.status_code == 404
    assert "This link can no longer be used" in response.content.decode()
    assert not AccessToken.objects.filter(target_id=conversation.pk).exists()


def test_unsent_emails_to_the_customer_are_cancelled_and_sent_ones_emptied(conversation, admin_user):
    reply = OutgoingEmail.objects.get(kind="reply_notification")
    assert reply.status == OutgoingEmail.Status.QUEUED
    OutgoingEmail.objects.filter(pk=reply.pk).update(
        status=OutgoingEmail.Status.FAILED, last_error=f"SMTPRecipientsRefused: {{'{EMAIL}': (550, b'unknown')}}"
    )

    customer_erase(customer_id=conversation.customer_id, by=admin_user)

    emails = {e.kind: e for e in OutgoingEmail.objects.all()}
    placeholder = erased_email(conversation.customer_id)
    assert emails["reply_notification"].status == OutgoingEmail.Status.CANCELLED
    assert emails["reply_notification"].last_error == (f"SMTPRecipientsRefused: {{'{placeholder}': (550, b'unknown')}}")
    assert emails["confirmation"].status == OutgoingEmail.Status.SENT
    for email in emails.values():
        assert (email.to_email, email.subject, email.body_html, email.headers) == (
            erased_email(conversation.customer_id),
            "[erased]",
            "",
            {},
        )


def test_an_erased_customer_gets_no_new_ticket_message_or_email(client, conversation, admin_user, agent, queue):
    customer_erase(customer_id=conversation.customer_id, by=admin_user)
    customer = Customer.objects.get(pk=conversation.customer_id)

    with pytest.raises(DomainError):
        services.ticket_create_for_email(
            queue=queue, email=customer.email, name="", subject="Hi", body="Again", by=agent
        )
    with pytest.raises(PermissionDenied):
        services.message_add(
            ticket_id=conversation.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body="Me again", customer=customer
        )
    services.ticket_reopen(ticket_id=conversation.pk, by=agent)
    queued = OutgoingEmail.objects.count()
    services.message_add(ticket_id=conversation.pk, kind=Message.Kind.PUBLIC_REPLY, body="Anything else?", by=agent)
    assert OutgoingEmail.objects.count() == queued  # no reply notification to a placeholder

    # the person writing again from their real address is a new customer
    new = services.request_submit(queue=queue, email=EMAIL, name=NAME, subject="Hello", body="Me")
    assert new.customer_id != customer.pk


def test_a_customer_with_an_open_ticket_is_refused_and_nothing_changes(conversation, admin_user, queue):
    services.ticket_create(queue=queue, customer=conversation.customer, subject="Open", body="Still", by=admin_user)

    with pytest.raises(DomainError, match="open tickets"):
        customer_erase(customer_id=conversation.customer_id, by=admin_user)

    assert Customer.objects.get(pk=conversation.customer_id).email == EMAIL
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.ERASED).exists()


def test_only_admins_erase(conversation, agent):
    with pytest.raises(PermissionDenied):
        customer_erase(customer_id=conversation.customer_id, by=agent)

    assert Customer.objects.get(pk=conversation.customer_id).erased_at is None


def test_erasing_twice_changes_nothing_the_second_time(conversation, admin_user):
    assert customer_erase(customer_id=conversation.customer_id, by=admin_user)

    assert not customer_erase(customer_id=conversation.customer_id, by=admin_user)
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.ERASED).count() == 1


def test_the_admin_action_asks_then_erases(client, conversation, admin_user):
    client.force_login(admin_user)
    changelist = reverse("admin:tickets_customer_changelist")
    chosen = {"action": "erase_personal_data", "_selected_action": [conversation.customer_id]}

    asked = client.post(changelist, chosen)
    assert Customer.objects.get(pk=conversation.customer_id).erased_at is None
    done = client.post(changelist, {**chosen, "confirmed": "yes"}, follow=True)

    assert "This cannot be undone" in asked.content.decode()
    assert "Erased the personal data of 1 customer(s)." in done.content.decode()
    customer = Customer.objects.get(pk=conversation.customer_id)
    assert customer.erased_at is not None
    assert TicketEvent.objects.get(kind=TicketEvent.Kind.ERASED).actor == admin_user
    assert admin.site._registry[Customer].get_readonly_fields(done.wsgi_request, customer) == (
        "email",
        "name",
        "created_at",
        "erased_at",
    )


# --- retention ------------------------------------------------------------------------------------------------------


def customer_with_ticket_closed(queue, agent, *, days_ago: int | None, created_days_ago: int = 400) -> Customer:
    """A customer with one ticket, created `created_days_ago` and closed `days_ago` (None: still open)."""
    start = timezone.now() - timedelta(days=created_days_ago)
    with time_machine.travel(start, tick=False):
        customer = CustomerFactory()
        ticket = services.ticket_create(queue=queue, customer=customer, subject="S", body="B", by=agent)
    if days_ago is not None:
        with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
            services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    return customer


def test_the_retention_beat_erases_only_customers_past_the_period(settings, queue, agent):
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    past = customer_with_ticket_closed(queue, agent, days_ago=40)
    recent = customer_with_ticket_closed(queue, agent, days_ago=10)
    still_open = customer_with_ticket_closed(queue, agent, days_ago=None)
    both = customer_with_ticket_closed(queue, agent, days_ago=40)
    later = services.ticket_create(queue=queue, customer=both, subject="S", body="B", by=agent)
    services.ticket_close(ticket_id=later.pk, reason=CloseReason.SOLVED, by=agent)  # closed today
    no_tickets_old = CustomerFactory(created_at=timezone.now() - timedelta(days=40))
    no_tickets_new = CustomerFactory(created_at=timezone.now() - timedelta(days=5))

    assert customers_erase_past_retention() == 2

    erased = set(Customer.objects.filter(erased_at__isnull=False).values_list("pk", flat=True))
    assert erased == {past.pk, no_tickets_old.pk}
    assert {recent.pk, still_open.pk, both.pk, no_tickets_new.pk}.isdisjoint(erased)
    assert Ticket.objects.filter(customer=past, status=Status.CLOSED).exists()  # the ticket stays
    assert customers_erase_past_retention() == 0  # nothing left to do


def test_retention_0_keeps_personal_data(settings, queue, agent):
    settings.PERSONAL_DATA_RETENTION_DAYS = 0
    customer_with_ticket_closed(queue, agent, days_ago=4000, created_days_ago=5000)

    assert customers_erase_past_retention() == 0
    assert not Customer.objects.filter(erased_at__isnull=False).exists()


def test_the_retention_task_is_on_beats_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "tickets.tasks.erase_personal_data_past_retention" in tasks
