"""The ticket event kind registry: tickets' own kinds, one registered by an app above, and one no app registers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tickets import services
from tickets.event_kinds import TicketEventKind, ticket_event_kind_validate, ticket_event_kinds
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, customer):
    return services.ticket_create(queue=queue, customer=customer, subject="Printer", body="On fire", by=None)


def test_tickets_registers_each_of_its_own_kinds_with_its_label():
    assert {
        kind.key: kind.app_label for kind in ticket_event_kinds if kind.key in TicketEvent.Kind.values
    } == dict.fromkeys(TicketEvent.Kind.values, "tickets")
    assert ticket_event_kinds.label("sla_breach") == "SLA target breached"


def test_only_a_registered_kind_validates():
    ticket_event_kind_validate("status")
    with pytest.raises(ValidationError):
        ticket_event_kind_validate("not_a_kind")


def test_the_thread_shows_an_upper_apps_event_as_it_registered_and_an_unknown_one_by_its_key(
    monkeypatch, client, agent, ticket
):
    # given an app above tickets registered a kind with its own text, and another app's kind is no longer registered
    kind = TicketEventKind(
        key="test_nps", label="NPS", app_label="helpdesk", render=lambda event: f"NPS answered: {event.new_value}"
    )
    monkeypatch.setitem(ticket_event_kinds._entries, kind.key, kind)
    TicketEvent.objects.create(ticket=ticket, kind="test_nps", new_value="9")
    TicketEvent.objects.create(ticket=ticket, kind="gone_app_event", new_value="x")

    # when an agent opens the ticket
    client.force_login(agent)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    # then both are in the thread, the unknown one named, nothing crashed
    assert "NPS answered: 9" in page
    assert "unknown event (gone_app_event)" in page
    assert "Ticket submitted by the customer" in page
