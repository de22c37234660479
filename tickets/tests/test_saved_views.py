"""The ticket list's saved views: the built-in ones are registered by tickets itself (tickets.saved_views) through
the registry other apps add theirs to, in their order, with "All tickets" after every other."""

import pytest
from django.urls import reverse

from tickets import extensions, services
from tickets.models import Priority
from tickets.saved_views import BUILT_IN_VIEWS
from tickets.selectors import list_view_choices
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("tickets:list")
TABS = [
    ("mine", "My open tickets"),
    ("unassigned", "Unassigned"),
    ("queues", "Open in my queues"),
    ("pending", "Pending"),
    ("on_hold", "On hold"),
    ("closed", "Recently closed"),
    ("sla_soon", "Breaching in the next hour"),
    ("sla_breached", "Breached"),
]


def make_ticket(queue, *, subject, priority=Priority.NORMAL):
    return services.ticket_create(
        queue=queue, customer=CustomerFactory(), subject=subject, body="Hi", by=None, priority=priority
    )


@pytest.fixture
def only_built_in(monkeypatch):
    """The registry as tickets alone fills it (no other app's views)."""
    monkeypatch.setattr(extensions, "_views", {view.key: view for view in BUILT_IN_VIEWS})


def test_the_built_in_views_are_registered_in_their_order_all_tickets_last(only_built_in):
    assert list(list_view_choices().items()) == [*TABS, ("all", "All tickets")]
    assert [view.key for view in extensions.list_views()] == [key for key, _ in TABS] + ["all"]


def test_another_apps_view_comes_before_all_tickets_and_narrows_the_list(client, agent, queue, only_built_in):
    urgent = extensions.ListView(
        key="urgent", label="Urgent", narrow=lambda tickets, user: tickets.filter(priority=Priority.URGENT)
    )
    extensions.list_view_register(urgent)
    make_ticket(queue, subject="Calm")
    make_ticket(queue, subject="On fire", priority=Priority.URGENT)
    client.force_login(agent)

    page = client.get(LIST, {"view": "urgent"})

    assert list(list_view_choices())[-2:] == ["urgent", "all"]
    assert [ticket.subject for ticket in page.context["tickets"]] == ["On fire"]
    text = page.text
    hrefs = [f'href="?view={key}"' for key in [*(key for key, _ in TABS), "urgent", "all"]]
    assert [text.index(href) for href in hrefs] == sorted(text.index(href) for href in hrefs)


def test_a_built_in_key_cannot_be_taken_by_another_app(only_built_in):
    with pytest.raises(ValueError, match="already registered"):
        extensions.list_view_register(extensions.ListView(key="mine", label="Mine", narrow=lambda t, u: t))
