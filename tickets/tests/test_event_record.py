"""Another app records a ticket event of a kind it registered; an unregistered kind is refused, nothing written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tickets.event_kinds import TicketEventKind, ticket_event_kinds
from tickets.models import TicketEvent
from tickets.services import ticket_event_record

from .factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tag_kind(monkeypatch):
    kind = TicketEventKind(
        key="tag_added", label="Tag added", app_label="tags", render=lambda e: f"Tagged {e.new_value}"
    )
    monkeypatch.setitem(ticket_event_kinds._entries, kind.key, kind)
    return kind


def test_a_registered_kind_is_recorded_and_shown_by_its_render(tag_kind, client, agent, queue):
    ticket = TicketFactory(queue=queue)
    client.force_login(agent)

    event = ticket_event_record(ticket=ticket, kind="tag_added", actor=agent, new_value="billing")

    assert (event.kind, event.actor, event.new_value) == ("tag_added", agent, "billing")
    assert "Tagged billing" in client.get(reverse("tickets:detail", args=[ticket.pk])).text


def test_an_unregistered_kind_is_refused_and_nothing_is_written():
    ticket = TicketFactory()
    before = TicketEvent.objects.count()

    with pytest.raises(ValueError, match="not a registered event"):
        ticket_event_record(ticket=ticket, kind="tag_addded")

    assert TicketEvent.objects.count() == before
