"""Tags on tickets: the services (events, permissions, names), the ticket page's forms, the list's filter and rows."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from common.errors import DomainError
from tickets import services
from tickets.event_kinds import ticket_event_text
from tickets.models import Tag, TicketEvent, TicketTag
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("tickets:list")


def make_ticket(queue, subject="Printer on fire", **kwargs):
    return services.ticket_create(
        queue=queue, customer=CustomerFactory(), subject=subject, body="It burns.", by=None, **kwargs
    )


def tag_events(ticket):
    kinds = (TicketEvent.Kind.TAG_ADDED, TicketEvent.Kind.TAG_REMOVED)
    return list(ticket.events.filter(kind__in=kinds).values_list("kind", "old_value", "new_value", "actor"))


def test_adding_and_removing_a_tag_records_an_event_each(agent, queue):
    ticket = make_ticket(queue)

    assert services.ticket_tag_add(ticket_id=ticket.pk, name="  VPN   access ", by=agent) is True
    assert services.ticket_tag_add(ticket_id=ticket.pk, name="vpn ACCESS", by=agent) is False  # the same tag
    assert services.ticket_tag_remove(ticket_id=ticket.pk, name="Vpn Access", by=agent) is True
    assert services.ticket_tag_remove(ticket_id=ticket.pk, name="vpn access", by=agent) is False

    assert tag_events(ticket) == [
        ("tag_added", "", "VPN access", agent.pk),
        ("tag_removed", "VPN access", "", agent.pk),
    ]
    texts = [ticket_event_text(event) for event in ticket.events.filter(kind__startswith="tag_")]
    assert texts == ["Tagged VPN access", "Tag removed: VPN access"]
    assert list(Tag.objects.values_list("name", "slug")) == [("VPN access", "vpn-access")]  # the tag stays
    assert not TicketTag.objects.exists()


def test_tag_names_are_one_tag_whatever_their_case_and_slugs_stay_unique(agent, queue):
    first, second = make_ticket(queue), make_ticket(queue)
    services.ticket_tag_add(ticket_id=first.pk, name="Billing", by=agent)
    services.ticket_tag_add(ticket_id=second.pk, name="BILLING", by=agent)
    services.ticket_tag_add(ticket_id=second.pk, name="billing-", by=agent)  # another name, the same slugify()

    assert list(Tag.objects.order_by("id").values_list("name", "slug")) == [
        ("Billing", "billing"),
        ("billing-", "billing-2"),
    ]


@pytest.mark.parametrize("name", ["", "   ", "a,b", "<script>", "x" * 51, "!!!"])
def test_invalid_tag_names_are_refused_and_nothing_is_written(agent, queue, name):
    ticket = make_ticket(queue)

    with pytest.raises(DomainError):
        services.ticket_tag_add(ticket_id=ticket.pk, name=name, by=agent)

    assert not Tag.objects.exists() and not tag_events(ticket)


def test_an_agent_of_another_queue_cannot_tag_and_nothing_is_written(outsider, queue):
    ticket = make_ticket(queue)

    with pytest.raises(PermissionDenied):
        services.ticket_tag_add(ticket_id=ticket.pk, name="vip", by=outsider)
    with pytest.raises(PermissionDenied):
        services.ticket_tag_remove(ticket_id=ticket.pk, name="vip", by=outsider)

    assert not Tag.objects.exists() and not tag_events(ticket)


def test_tag_names_parse_a_comma_separated_list_each_once():
    assert services.tag_names_parse(" vpn, VPN ,billing,, Late  reply ") == ["vpn", "billing", "Late reply"]
    with pytest.raises(DomainError):
        services.tag_names_parse("ok, <b>")
