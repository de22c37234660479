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


# --- the pages -----------------------------------------------------------------------------------------------------


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_the_ticket_page_adds_and_removes_tags_with_post_forms(agent_client, agent, queue):
    ticket = make_ticket(queue)
    add, remove = reverse("tickets:tag-add", args=[ticket.pk]), reverse("tickets:tag-remove", args=[ticket.pk])

    assert agent_client.get(add).status_code == 405  # GET never writes
    response = agent_client.post(add, {"name": "Refund <b>"}, follow=True)
    assert response.status_code == 400 and "letters, digits" in response.text and not Tag.objects.exists()

    response = agent_client.post(add, {"name": "Refund"}, follow=True)
    assert "Tagged Refund." in response.text
    assert 'class="tag"' in response.text and "Tagged Refund" in response.text  # the tag and its event in the thread

    response = agent_client.post(remove, {"name": "refund"}, follow=True)
    assert "Tag refund removed." in response.text
    assert [kind for kind, *_ in tag_events(ticket)] == ["tag_added", "tag_removed"]


def test_another_queue_s_ticket_cannot_be_tagged_from_its_page(client, outsider, queue):
    ticket = make_ticket(queue)
    client.force_login(outsider)

    assert client.post(reverse("tickets:tag-add", args=[ticket.pk]), {"name": "x"}).status_code == 404
    assert not Tag.objects.exists() and not tag_events(ticket)


def test_the_list_filters_by_tag_and_shows_the_tags_of_each_row(agent_client, agent, queue):
    vpn, other, untagged = make_ticket(queue, "VPN down"), make_ticket(queue, "Other"), make_ticket(queue, "Plain")
    services.ticket_tag_add(ticket_id=vpn.pk, name="VPN", by=agent)
    services.ticket_tag_add(ticket_id=vpn.pk, name="urgent", by=agent)
    services.ticket_tag_add(ticket_id=other.pk, name="billing", by=agent)

    by_name = agent_client.get(LIST, {"view": "all", "tag": "vpn"})
    by_slug = agent_client.get(LIST, {"view": "all", "tag": "billing"})
    everything = agent_client.get(LIST, {"view": "all"})

    assert list(by_name.context["tickets"]) == [vpn]
    assert list(by_slug.context["tickets"]) == [other]
    rows = {row["subject"]: [tag["name"] for tag in row["tags"]] for row in everything.context["rows"]}
    assert rows == {"VPN down": ["urgent", "VPN"], "Other": ["billing"], "Plain": []}
    assert 'href="?tag=VPN&amp;view=all"' in everything.text
    assert untagged.subject in everything.text


@pytest.mark.parametrize("rows", [5, 50])
def test_the_list_keeps_its_budget_with_tags_on_every_row(
    agent_client, agent, queue, rows, django_assert_max_num_queries
):
    for n in range(rows):
        ticket = make_ticket(queue, f"Printers {n}")
        services.ticket_tag_add(ticket_id=ticket.pk, name=f"tag {n % 3}", by=agent)
        services.ticket_tag_add(ticket_id=ticket.pk, name="printer", by=agent)

    for params in ({"view": "all"}, {"view": "all", "tag": "printer", "q": "printers", "sort": "customer"}):
        with django_assert_max_num_queries(8):  # the ticket list's budget (test_views.py)
            page = agent_client.get(LIST, params)
        assert len(page.context["rows"]) == rows
        assert all(len(row["tags"]) == 2 for row in page.context["rows"])


def test_the_ticket_page_keeps_its_budget_with_tags(agent_client, agent, queue, django_assert_max_num_queries):
    ticket = make_ticket(queue)
    for name in ("one", "two", "three"):
        services.ticket_tag_add(ticket_id=ticket.pk, name=name, by=agent)

    with django_assert_max_num_queries(12):
        page = agent_client.get(reverse("tickets:detail", args=[ticket.pk]))

    assert [tag.name for tag in page.context["tags"]] == ["one", "three", "two"]


# --- the admin -----------------------------------------------------------------------------------------------------


def test_the_tag_admin_lists_uses_renames_and_deletes_only_unused_tags(client, admin_user, agent, queue):
    ticket = make_ticket(queue)
    services.ticket_tag_add(ticket_id=ticket.pk, name="vpn", by=agent)
    used = Tag.objects.get()
    unused = Tag.objects.create(name="old", slug="old")
    client.force_login(admin_user)

    listing = client.get(reverse("admin:tickets_tag_changelist"))
    bad = client.post(reverse("admin:tickets_tag_add"), {"name": "a,b", "slug": "a-b"})
    renamed = client.post(reverse("admin:tickets_tag_change", args=[used.pk]), {"name": "VPN", "slug": "vpn"})

    assert listing.status_code == 200 and "vpn" in listing.text
    assert bad.status_code == 200 and "letters, digits" in bad.text
    assert renamed.status_code == 302 and Tag.objects.get(pk=used.pk).name == "VPN"
    assert client.post(reverse("admin:tickets_tag_delete", args=[used.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:tickets_tag_delete", args=[unused.pk]), {"post": "yes"}).status_code == 302
    assert list(Tag.objects.values_list("name", flat=True)) == ["VPN"]
