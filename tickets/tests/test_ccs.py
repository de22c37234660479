"""Addresses copied on a ticket: an event for each added or removed, the public replies emailed to them as to the
customer but without the conversation link, and erased with the customer."""

import pytest
from django.core import mail
from django.urls import reverse

from outbox.models import OutgoingEmail
from outbox.tests.sending import outbox_deliver
from tickets import services
from tickets.erasure import customer_erase
from tickets.models import CloseReason, Message, TicketCC, TicketEvent
from tickets.tests.factories import AdminFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def make_ticket(queue):
    customer = CustomerFactory(email="jo@customer.example")
    return services.ticket_create(queue=queue, customer=customer, subject="Printer", body="Fire.", by=None)


def test_adding_and_removing_a_cc_in_the_ticket_page_records_an_event_each(client, agent, queue):
    ticket = make_ticket(queue)
    client.force_login(agent)

    client.post(reverse("tickets:cc-add", args=[ticket.pk]), {"email": "boss@example.org"})
    client.post(reverse("tickets:cc-add", args=[ticket.pk]), {"email": "Boss@example.org"})  # there already: no event
    client.post(reverse("tickets:cc-remove", args=[ticket.pk]), {"cc": TicketCC.objects.get().pk})

    events = TicketEvent.objects.filter(ticket=ticket, kind__startswith="cc_")
    assert [(e.kind, e.new_value, e.old_value, e.actor) for e in events] == [
        (TicketEvent.Kind.CC_ADDED, "boss@example.org", "", agent),
        (TicketEvent.Kind.CC_REMOVED, "", "boss@example.org", agent),
    ]
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).text
    assert "Copied boss@example.org" in page and "No longer copied: boss@example.org" in page


def test_a_public_reply_is_emailed_to_the_ccs_without_the_conversation_link(agent, queue):
    ticket = make_ticket(queue)
    services.ticket_cc_add(ticket_id=ticket.pk, email="boss@example.org", by=agent)
    services.ticket_cc_add(ticket_id=ticket.pk, email="gone@example.org", by=agent)

    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Unplug it.", by=agent)
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Sigh.", by=agent)
    services.ticket_cc_remove(ticket_id=ticket.pk, cc_id=TicketCC.objects.get(email="gone@example.org").pk, by=agent)
    outbox_deliver()

    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {"jo@customer.example", "boss@example.org"}  # removed before it was sent: not wanted
    assert "/support/c/" in sent["jo@customer.example"].body
    boss = sent["boss@example.org"]
    assert "Unplug it." in boss.body and "/support/c/" not in boss.body
    assert "/support/c/" not in boss.alternatives[0][0]
    assert ticket.mail_refs.filter(purpose="reply").count() == 3  # the CC's reply to it threads to the ticket


def test_erasing_the_customer_erases_the_ccs_and_their_events(agent, queue):
    ticket = make_ticket(queue)
    services.ticket_cc_add(ticket_id=ticket.pk, email="boss@example.org", by=agent)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)

    assert customer_erase(customer_id=ticket.customer_id, by=AdminFactory())

    assert not TicketCC.objects.exists()
    assert not TicketEvent.objects.filter(new_value__icontains="boss").exists()
    assert not OutgoingEmail.objects.filter(to_email__icontains="boss").exists()
