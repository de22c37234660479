"""The Held email page of the agents' and leads' queues: its rows, the four actions (add, copy the sender and add,
new ticket, discard), permission (another queue's held email is a 404: page and every action), double submits, the
ticket events, the navigation count (cached, never a query of the page) and the ticket page's notice."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.errors import DomainError
from inbound.held import HELD_EVENT, held_add, held_discard
from inbound.models import InboundEmail
from inbound.routing import inbound_route
from inbound.store import inbound_store
from tickets import nav_counts, services
from tickets.models import CloseReason, Message, Status, Ticket, TicketCC, TicketEvent
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory

from .mail import email_bytes

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"
HELD = reverse("inbound:held-list")
NAV_COUNT = reverse("tickets:nav-count") + "?entry=inbound:held-list"
ACTIONS = ("add", "trust", "new", "discard")


@pytest.fixture(autouse=True)
def fresh_cache():
    """The navigation counts live in the process's cache, keyed by user id (ids repeat across tests)."""
    from django.core.cache import cache

    cache.clear()
    nav_counts.outage_reset()
    yield
    cache.clear()
    nav_counts.outage_reset()


@pytest.fixture
def ticket(queue):
    customer = CustomerFactory(email="jo@customer.example", name="Jo")
    return services.ticket_create(queue=queue, customer=customer, subject="Printer on fire", body="Help", by=None)


def held_email(ticket, *, sender="Jo <jo@customer.example>", body="It is fixed, thanks.", subject=None):
    """An email with only the ticket's subject tag (no In-Reply-To): it cannot be verified, so it is held."""
    raw = email_bytes(sender=sender, subject=subject or f"Re: [{ticket.reference}] Printer on fire", body=body)
    row, _ = inbound_store(raw=raw, queue=ticket.queue, channel="smtp", recipient=ticket.queue.reply_from_email)
    inbound_route(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD, row.outcome
    return row


def held_without_ticket(queue, *, sender="Sam <sam@elsewhere.example>"):
    """A held email claiming no ticket (as an agent's unproven forward is)."""
    raw = email_bytes(sender=sender, subject="Fwd: my laptop", body="Please look at this.")
    row, _ = inbound_store(raw=raw, queue=queue, channel="smtp", recipient=queue.reply_from_email)
    InboundEmail.objects.filter(pk=row.pk).update(status=InboundEmail.Status.HELD, outcome="Held: a forward")
    row.refresh_from_db()
    return row


def act(client, row, action):
    return client.post(reverse("inbound:held-act", args=[row.pk, action]))


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent):
    return client_of(agent)


def held_events(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket, kind=HELD_EVENT).values_list("new_value", "actor_id"))


# --- the page ------------------------------------------------------------------------------------------------------


def test_the_page_lists_each_held_email_with_sender_subject_ticket_reason_and_actions(agent_client, ticket):
    row = held_email(ticket, sender="Mallory <mallory@elsewhere.example>", subject=f"Re: [{ticket.reference}] {XSS}")

    page = agent_client.get(HELD)

    text = page.text
    assert page.status_code == 200
    assert "mallory@elsewhere.example" in text and XSS not in text
    assert f"Re: [{ticket.reference}] &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert reverse("tickets:detail", args=[ticket.pk]) in text and row.outcome in text
    for action in ("trust", "new", "discard"):
        assert reverse("inbound:held-act", args=[row.pk, action]) in text
    assert reverse("inbound:held-act", args=[row.pk, "add"]) not in text  # a stranger joins only by a copy
    assert '<th scope="col">Why held</th>' in text
    assert 'aria-label="Discard the email from Mallory' in text


def test_the_customers_own_address_offers_no_copy(agent_client, ticket):
    row = held_email(ticket)  # from the customer, subject tag only

    text = agent_client.get(HELD).text

    assert reverse("inbound:held-act", args=[row.pk, "add"]) in text
    assert reverse("inbound:held-act", args=[row.pk, "trust"]) not in text


def test_newest_first_and_50_per_page(agent_client, ticket):
    rows = [held_email(ticket, body=f"email {n}", subject=f"Re: [{ticket.reference}] n{n}") for n in range(51)]

    first = agent_client.get(HELD)
    second = agent_client.get(HELD, {"page": 2})

    assert [item["row"].pk for item in first.context["rows"]][:2] == [rows[-1].pk, rows[-2].pk]
    assert len(first.context["rows"]) == 50 and len(second.context["rows"]) == 1
    assert "51 held emails" in first.text and "page=2" in first.text


def test_the_empty_state(agent_client, ticket):
    row = held_email(ticket)
    act(agent_client, row, "discard")

    assert "No held email in your queues." in agent_client.get(HELD).text


@pytest.mark.parametrize("rows", [2, 20])
def test_the_page_query_count_does_not_grow_with_rows(agent_client, ticket, rows, django_assert_max_num_queries):
    for n in range(rows):
        held_email(ticket, body=f"email {n}", subject=f"Re: [{ticket.reference}] n{n}")

    with django_assert_max_num_queries(7):
        page = agent_client.get(HELD)

    assert len(page.context["rows"]) == rows


def test_a_lead_sees_the_queues_held_email_too(lead, ticket):
    row = held_email(ticket)

    assert reverse("inbound:held-act", args=[row.pk, "add"]) in client_of(lead).get(HELD).text


def test_the_email_text_loads_into_its_row(agent_client, ticket):
    row = held_email(ticket, body=f"Pay here {XSS}")

    partial = agent_client.get(reverse("inbound:held-text", args=[row.pk]), headers={"HX-Request": "true"})
    page = agent_client.get(reverse("inbound:held-text", args=[row.pk]))

    assert "Pay here &lt;script&gt;" in partial.text and XSS not in partial.text and "<html" not in partial.text
    assert "Pay here &lt;script&gt;" in page.text and "<html" in page.text


# --- permission ----------------------------------------------------------------------------------------------------


def test_another_queues_held_email_is_a_404_for_the_page_and_every_action(outsider, ticket):
    row = held_email(ticket, sender="Sam <sam@customer.example>")
    loose = held_without_ticket(ticket.queue)
    client = client_of(outsider)

    page = client.get(HELD)
    assert "No held email in your queues." in page.text and "sam@" not in page.text
    for held in (row, loose):
        assert client.get(reverse("inbound:held-text", args=[held.pk])).status_code == 404
        for action in ACTIONS:
            assert act(client, held, action).status_code == 404, action
        held.refresh_from_db()
        assert held.status == InboundEmail.Status.HELD and held.decided_by is None
    assert not TicketCC.objects.exists() and Ticket.objects.count() == 1 and ticket.messages.count() == 1


def test_an_email_claiming_a_ticket_follows_the_tickets_queue(ticket):
    """An email to queue B's address claiming a ticket of queue A is for A's agents (who see the ticket), not B's."""
    other = QueueFactory()
    raw = email_bytes(sender="Sam <sam@customer.example>", subject=f"Re: [{ticket.reference}] Printer on fire")
    row, _ = inbound_store(raw=raw, queue=other, channel="smtp", recipient=other.reply_from_email)
    inbound_route(email_id=row.pk)
    b_agent = MembershipFactory(queue=other).user

    assert act(client_of(b_agent), row, "add").status_code == 404
    assert "sam@customer.example" not in client_of(b_agent).get(HELD).text


def test_a_held_email_claiming_no_ticket_is_for_its_queues_members(agent_client, outsider, queue):
    row = held_without_ticket(queue)

    assert "sam@elsewhere.example" in agent_client.get(HELD).text
    assert act(client_of(outsider), row, "new").status_code == 404


def test_the_services_refuse_an_agent_of_another_queue(outsider, ticket):
    row = held_email(ticket)

    with pytest.raises(PermissionDenied):
        held_add(email_id=row.pk, by=outsider)
    with pytest.raises(PermissionDenied):
        held_discard(email_id=row.pk, by=outsider)


def test_writes_are_post_with_csrf_only(agent, agent_client, ticket):
    row = held_email(ticket)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)

    for action in ACTIONS:
        assert agent_client.get(reverse("inbound:held-act", args=[row.pk, action])).status_code == 405
        assert act(strict, row, action).status_code == 403
    assert act(agent_client, row, "forward").status_code == 404
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD


def test_anonymous_users_are_sent_to_login(client, ticket):
    row = held_email(ticket)

    for response in (client.get(HELD), act(client, row, "add"), client.get(NAV_COUNT)):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- the actions ---------------------------------------------------------------------------------------------------


def test_add_puts_the_customers_email_on_its_ticket(agent, agent_client, ticket):
    row = held_email(ticket)

    response = act(agent_client, row, "add")

    assert response.status_code == 302 and response["Location"] == HELD
    row.refresh_from_db()
    message = ticket.messages.last()
    assert (row.status, row.decided_by, row.ticket, row.ticket_message) == (
        InboundEmail.Status.ACCEPTED, agent, ticket, message,
    )  # fmt: skip
    assert row.outcome.startswith(f"Accepted by {agent.username}: Added to {ticket.reference}")
    assert (message.kind, message.body, message.author_customer) == (
        Message.Kind.CUSTOMER_MESSAGE, "It is fixed, thanks.", ticket.customer,
    )  # fmt: skip
    assert not TicketCC.objects.exists()
    assert held_events(ticket) == [("added", agent.pk)]
    page = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).text
    assert "Held email from Jo &lt;jo@customer.example&gt;: added" in page


def test_add_refuses_a_strangers_email_copy_them_instead(agent, agent_client, ticket):
    row = held_email(ticket, sender="Sam <sam@customer.example>")

    with pytest.raises(DomainError):
        held_add(email_id=row.pk, by=agent)
    response = act(agent_client, row, "add")

    assert response.status_code == 302
    assert "sam@customer.example is not on" in agent_client.get(HELD).text
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD and ticket.messages.count() == 1 and not TicketCC.objects.exists()


def test_add_to_a_closed_ticket_reopens_it(agent, agent_client, ticket):
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    row = held_email(ticket)

    act(agent_client, row, "add")

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.messages.last().body == "It is fixed, thanks."


def test_trust_copies_the_sender_on_that_ticket_and_adds_the_email(agent, agent_client, ticket):
    row = held_email(ticket, sender="Sam <sam@customer.example>")

    act(agent_client, row, "trust")

    assert list(ticket.ccs.values_list("email", flat=True)) == ["sam@customer.example"]
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.CC_ADDED, actor=agent).count() == 1
    assert ticket.messages.last().author_customer.email == "sam@customer.example"
    assert held_events(ticket) == [("added, its sender copied on the ticket", agent.pk)]
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.ACCEPTED


def test_new_ticket_is_made_for_the_sender_as_routing_makes_one(agent, agent_client, ticket):
    row = held_email(ticket, sender="Sam <sam@customer.example>", body="A new problem")

    act(agent_client, row, "new")

    row.refresh_from_db()
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert (new.queue, new.customer.email, new.messages.get().body) == (
        ticket.queue,
        "sam@customer.example",
        "A new problem",
    )
    assert (row.status, row.ticket, row.decided_by) == (InboundEmail.Status.ACCEPTED, new, agent)
    assert row.outcome.startswith(f"Made a new ticket by {agent.username}: New ticket {new.reference}")
    assert held_events(new) == [("a new ticket made of it", agent.pk)]
    assert held_events(ticket) == [(f"made into a new ticket, {new.reference}", agent.pk)]
    assert ticket.messages.count() == 1 and not TicketCC.objects.exists()


def test_new_ticket_of_an_email_claiming_none_goes_to_its_queue(agent_client, queue):
    row = held_without_ticket(queue)

    act(agent_client, row, "new")

    new = Ticket.objects.get()
    assert (new.queue, new.customer.email) == (queue, "sam@elsewhere.example")


def test_discard_adds_nothing_and_says_so_on_the_ticket(agent, agent_client, ticket):
    row = held_email(ticket)

    act(agent_client, row, "discard")

    row.refresh_from_db()
    assert (row.status, row.decided_by, row.outcome) == (
        InboundEmail.Status.REJECTED,
        agent,
        f"Discarded by {agent.username}",
    )
    assert ticket.messages.count() == 1
    assert held_events(ticket) == [("discarded", agent.pk)]


def test_an_email_claiming_no_ticket_cannot_be_added(agent_client, agent, queue):
    row = held_without_ticket(queue)

    with pytest.raises(DomainError):
        held_add(email_id=row.pk, by=agent)
    response = act(agent_client, row, "add")

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD


@pytest.mark.parametrize("second", ACTIONS)
def test_a_double_submit_changes_nothing(agent_client, ticket, second):
    row = held_email(ticket, sender="Sam <sam@customer.example>")
    act(agent_client, row, "trust")
    before = (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count(), TicketCC.objects.count())
    row.refresh_from_db()

    response = act(agent_client, row, second)

    after = (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count(), TicketCC.objects.count())
    assert response.status_code == 302 and after == before
    decided = InboundEmail.objects.get(pk=row.pk)
    assert (decided.status, decided.outcome) == (row.status, row.outcome)
    assert "Already decided" in agent_client.get(HELD).text


# --- the navigation count and the ticket page ----------------------------------------------------------------------


def test_the_nav_count_is_loaded_once_then_read_from_the_cache(agent_client, ticket):
    held_email(ticket)
    held_email(ticket, subject=f"Re: [{ticket.reference}] again")

    cold = agent_client.get(reverse("tickets:list")).text
    partial = agent_client.get(NAV_COUNT).text
    warm = agent_client.get(reverse("tickets:list")).text

    assert f'hx-get="{reverse("tickets:nav-count")}?entry=inbound%3Aheld-list"' in cold
    assert partial.strip() == '<span class="nav-count">2</span>'
    assert 'Held email <span class="nav-count">2</span>' in warm and "nav-count/?entry" not in warm


def test_the_nav_count_partial_knows_only_counted_entries(agent_client):
    response = agent_client.get(reverse("tickets:nav-count") + "?entry=tickets:list")

    assert response.status_code == 404


def test_an_action_forgets_the_actors_count(agent_client, ticket):
    row = held_email(ticket)
    agent_client.get(NAV_COUNT)

    act(agent_client, row, "discard")

    assert "nav-count/?entry" in agent_client.get(reverse("tickets:list")).text  # counted again
    assert agent_client.get(NAV_COUNT).text.strip() == ""  # nothing held: no badge


def queries_of(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("warm", [False, True])
def test_the_nav_count_costs_the_list_and_ticket_page_no_query(agent_client, ticket, warm):
    held_email(ticket)
    if warm:
        agent_client.get(NAV_COUNT)
    list_queries = queries_of(agent_client, reverse("tickets:list"))
    page_queries = queries_of(agent_client, reverse("tickets:detail", args=[ticket.pk]))

    assert not [sql for sql in list_queries if "inbound_inboundemail" in sql]
    assert not [sql for sql in page_queries if "COUNT(" in sql and "inbound_inboundemail" in sql]
    assert len(list_queries) <= 8 and len(page_queries) <= 12


@pytest.fixture
def dead_cache(fresh_cache):
    """The default cache on a Redis that refuses connections (set back before fresh_cache clears the real one)."""
    dead = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1},
    }
    with override_settings(CACHES={"default": dead}):
        yield


def test_a_dead_cache_shows_the_link_without_a_count_and_the_partial_counts(agent_client, ticket, dead_cache):
    held_email(ticket)

    page = agent_client.get(reverse("tickets:list"))
    partial = agent_client.get(NAV_COUNT)

    assert page.status_code == 200 and "Held email" in page.text
    assert partial.text.strip() == '<span class="nav-count">1</span>'


def test_the_ticket_page_says_at_the_top_of_the_thread_that_mail_is_held(agent_client, agent, ticket):
    row = held_email(ticket)
    url = reverse("tickets:detail", args=[ticket.pk])

    page = agent_client.get(url).text

    assert page.index("Unverified email waiting") < page.index('class="thread"') < page.index('id="held-heading"')
    assert 'href="#held-heading"' in page
    act(agent_client, row, "discard")
    assert "Unverified email waiting" not in agent_client.get(url).text
