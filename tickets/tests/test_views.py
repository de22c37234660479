"""Agent web UI: ticket list, detail, actions and new ticket."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutgoingEmail
from tickets import services
from tickets.email_in import EmailDetails, IncomingFile
from tickets.models import CloseReason, Customer, Message, Priority, SlaPolicy, Status, Ticket, TicketEvent
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
LIST = reverse("tickets:list")


def make_ticket(queue, *, subject="Printer on fire", body="It is burning.", customer=None, **kwargs):
    return services.ticket_create(
        queue=queue, customer=customer or CustomerFactory(), subject=subject, body=body, by=None, **kwargs
    )


def detail_url(ticket):
    return reverse("tickets:detail", args=[ticket.pk])


def row_count():
    return (Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count(), OutgoingEmail.objects.count())


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


# --- list ----------------------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(client, queue):
    ticket = make_ticket(queue)
    for url in (LIST, detail_url(ticket), reverse("tickets:new")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_home_still_resolves_and_links_to_the_list(agent_client):
    page = agent_client.get(reverse("home"))
    assert page.status_code == 200
    assert f'href="{LIST}"' in page.text


def test_default_view_is_my_open_tickets(agent_client, agent, queue):
    mine = make_ticket(queue, subject="Assigned to me", assignee=agent)
    make_ticket(queue, subject="Nobody's")
    closed = make_ticket(queue, subject="Mine but closed", assignee=agent)
    services.ticket_close(ticket_id=closed.pk, reason=CloseReason.SOLVED, by=agent)

    page = agent_client.get(LIST)

    assert page.status_code == 200
    assert list(page.context["tickets"]) == [mine]
    assert "Nobody&#x27;s" not in page.text


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("unassigned", {"unassigned"}),
        ("queues", {"unassigned", "mine", "pending", "on hold"}),
        ("pending", {"pending"}),
        ("on_hold", {"on hold"}),
        ("closed", {"closed"}),
        ("all", {"unassigned", "mine", "pending", "on hold", "closed", "closed long ago"}),
    ],
)
def test_built_in_views(agent_client, agent, queue, view, expected):
    make_ticket(queue, subject="unassigned")
    make_ticket(queue, subject="mine", assignee=agent)
    for subject, status in (("pending", Status.PENDING), ("on hold", Status.ON_HOLD)):
        ticket = make_ticket(queue, subject=subject, assignee=agent)
        services.ticket_set_status(ticket_id=ticket.pk, status=status, by=agent)
    for subject in ("closed", "closed long ago"):
        ticket = make_ticket(queue, subject=subject, assignee=agent)
        services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    Ticket.objects.filter(subject="closed long ago").update(closed_at=timezone.now() - timedelta(days=90))

    page = agent_client.get(LIST, {"view": view})

    assert {t.subject for t in page.context["tickets"]} == expected


def test_another_queues_tickets_never_appear(client, outsider, queue):
    make_ticket(queue, subject="Secret of another queue")
    client.force_login(outsider)

    page = client.get(LIST, {"view": "all", "q": "Secret"})

    assert list(page.context["tickets"]) == []
    assert "No tickets match these filters." in page.text


def test_filters(agent_client, agent, queue):
    other_queue = MembershipFactory(user=agent).queue
    alice = CustomerFactory(email="alice@example.org", name="Alice")
    target = make_ticket(queue, subject="target", customer=alice, priority=Priority.HIGH, assignee=agent)
    make_ticket(other_queue, subject="other queue", customer=alice, priority=Priority.HIGH, assignee=agent)
    make_ticket(queue, subject="low", customer=alice, priority=Priority.LOW, assignee=agent)
    make_ticket(queue, subject="someone else", priority=Priority.HIGH, assignee=agent)
    old = make_ticket(queue, subject="old", customer=alice, priority=Priority.HIGH, assignee=agent)
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.now().date()

    page = agent_client.get(
        LIST,
        {
            "view": "all",
            "queue": queue.pk,
            "priority": "high",
            "status": "new",
            "assignee": "me",
            "customer": "ALICE@",
            "created_from": (today - timedelta(days=1)).isoformat(),
            "created_to": today.isoformat(),
        },
    )

    assert list(page.context["tickets"]) == [target]


def test_assignee_filter_unassigned_and_by_agent(agent_client, agent, queue):
    colleague = MembershipFactory(queue=queue).user
    make_ticket(queue, subject="nobody")
    make_ticket(queue, subject="colleague", assignee=colleague)

    unassigned = agent_client.get(LIST, {"view": "all", "assignee": "none"})
    theirs = agent_client.get(LIST, {"view": "all", "assignee": colleague.pk})

    assert [t.subject for t in unassigned.context["tickets"]] == ["nobody"]
    assert [t.subject for t in theirs.context["tickets"]] == ["colleague"]


def test_search_matches_subject_and_message_bodies_once_per_ticket(agent_client, agent, queue):
    by_subject = make_ticket(queue, subject="Invoice missing", body="hello")
    by_body = make_ticket(queue, subject="Question", body="Where is my invoice?")
    for _ in range(3):  # several matching messages must not repeat the row
        services.message_add(ticket_id=by_body.pk, kind=Message.Kind.INTERNAL_NOTE, body="invoice again", by=agent)
    make_ticket(queue, subject="Unrelated", body="nothing")

    page = agent_client.get(LIST, {"view": "all", "q": "invoice"})

    assert sorted(t.pk for t in page.context["tickets"]) == sorted([by_subject.pk, by_body.pk])
    assert page.context["page"].paginator.count == 2


def test_search_by_reference(agent_client, queue):
    ticket = make_ticket(queue, subject="Something")
    make_ticket(queue, subject="Else")

    page = agent_client.get(LIST, {"view": "all", "q": ticket.reference})

    assert list(page.context["tickets"]) == [ticket]


def test_sort_by_whitelisted_column_and_ignore_others(agent_client, queue):
    for subject in ("banana", "apple", "cherry"):
        make_ticket(queue, subject=subject)

    ascending = agent_client.get(LIST, {"view": "all", "sort": "subject"})
    descending = agent_client.get(LIST, {"view": "all", "sort": "-subject"})
    bogus = agent_client.get(LIST, {"view": "all", "sort": "customer__password"})

    assert [t.subject for t in ascending.context["tickets"]] == ["apple", "banana", "cherry"]
    assert [t.subject for t in descending.context["tickets"]] == ["cherry", "banana", "apple"]
    assert bogus.status_code == 200
    assert [t.subject for t in bogus.context["tickets"]] == ["cherry", "apple", "banana"]  # newest update first


def test_sort_by_priority_uses_its_rank(agent_client, queue):
    for priority in (Priority.NORMAL, Priority.URGENT, Priority.LOW, Priority.HIGH):
        make_ticket(queue, subject=priority.value, priority=priority)

    page = agent_client.get(LIST, {"view": "all", "sort": "-priority"})

    assert [t.subject for t in page.context["tickets"]] == ["urgent", "high", "normal", "low"]


def test_pagination_50_per_page(agent_client, queue):
    customer = CustomerFactory()
    for n in range(51):
        make_ticket(queue, subject=f"t{n}", customer=customer)

    first = agent_client.get(LIST, {"view": "all"})
    second = agent_client.get(LIST, {"view": "all", "page": 2})

    assert len(first.context["tickets"]) == 50
    assert len(second.context["tickets"]) == 1
    assert "page=2" in first.text and "view=all" in first.text


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_does_not_grow_with_rows(agent_client, agent, queue, rows, django_assert_max_num_queries):
    SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, business_hours=False)
    for n in range(rows):
        make_ticket(queue, subject=f"Printers {n}", assignee=agent if n % 2 else None)

    with django_assert_max_num_queries(8):
        page = agent_client.get(LIST, {"view": "all", "q": "printer", "sort": "customer"})

    assert len(page.context["tickets"]) == rows
    assert page.text.count("due in 1 h") == rows


def test_htmx_list_request_gets_only_the_results(agent_client, queue, agent):
    make_ticket(queue, subject="Visible", assignee=agent)

    page = agent_client.get(LIST, headers={"HX-Request": "true"})

    assert "<html" not in page.text
    assert "Visible" in page.text
    assert "HX-Request" in page["Vary"]


def test_list_escapes_user_content(agent_client, agent, queue):
    make_ticket(queue, subject=XSS, customer=CustomerFactory(name=XSS), assignee=agent)

    page = agent_client.get(LIST)

    assert XSS not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_get_never_writes(agent_client, agent, queue):
    ticket = make_ticket(queue, assignee=agent)
    before = row_count()

    agent_client.get(LIST, {"view": "all", "q": "x"})
    agent_client.get(detail_url(ticket))
    for action in ("reply", "note", "assign", "status", "priority", "close", "reopen"):
        assert agent_client.get(reverse(f"tickets:{action}", args=[ticket.pk])).status_code == 405

    assert row_count() == before


# --- detail --------------------------------------------------------------------------------------------------------


def test_detail_shows_thread_with_notes_and_events(agent_client, agent, queue):
    ticket = make_ticket(queue, body="First message from the customer")
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body="Check the logs", by=agent)
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="We are on it", by=agent)
    services.ticket_set_priority(ticket_id=ticket.pk, priority=Priority.HIGH, by=agent)

    page = agent_client.get(detail_url(ticket))

    text = page.text
    assert page.status_code == 200
    assert text.index("First message") < text.index("Check the logs") < text.index("We are on it")
    assert "Internal note" in text and "msg-internal_note" in text
    assert "Priority: Normal → High" in text
    assert "Status: New → Open" in text


def test_detail_of_another_queues_ticket_is_404(client, outsider, queue):
    ticket = make_ticket(queue)
    client.force_login(outsider)

    assert client.get(detail_url(ticket)).status_code == 404
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "hi"})
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert not Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY).exists()


def test_admin_sees_any_ticket(client, admin_user, queue):
    ticket = make_ticket(queue)
    client.force_login(admin_user)

    assert client.get(detail_url(ticket)).status_code == 200


@pytest.mark.parametrize("messages", [5, 50])
def test_detail_query_count_does_not_grow_with_thread(
    agent_client, agent, queue, messages, media_root, django_assert_max_num_queries
):
    SlaPolicy.objects.create(
        queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, next_reply_minutes=30, business_hours=False
    )
    ticket = make_ticket(queue, assignee=agent)
    for n in range(messages):
        if n % 5 == 4:  # the customer's emails, each with two files, and the ticket's CCs
            files = tuple(IncomingFile(f"file{n}-{i}.pdf", "application/pdf", b"%PDF-1.4") for i in range(2))
            email = EmailDetails(message_id=f"<m{n}@example.org>", full_body=f"email {n}\n> quoted", files=files)
            services.message_add(
                ticket_id=ticket.pk, kind=Message.Kind.CUSTOMER_MESSAGE, body=f"email {n}", customer=ticket.customer,
                email=email,
            )  # fmt: skip
            services.ticket_cc_add(ticket_id=ticket.pk, email=f"cc{n}@example.org", by=agent)
            continue
        kind = Message.Kind.PUBLIC_REPLY if n % 2 else Message.Kind.INTERNAL_NOTE
        services.message_add(ticket_id=ticket.pk, kind=kind, body=f"message {n}", by=agent)

    with django_assert_max_num_queries(12):
        page = agent_client.get(detail_url(ticket))

    assert page.text.count('class="msg ') == messages + 1
    assert page.text.count("/attachments/") == 2 * (messages // 5)
    assert page.text.count("Show the full email") == messages // 5
    assert page.text.count('class="sla-target ') == ticket.sla_targets.count() >= 2


def test_detail_escapes_user_content(agent_client, agent, queue):
    ticket = make_ticket(queue, subject=XSS, body=XSS, customer=CustomerFactory(name=XSS))
    services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body=XSS, by=agent)

    page = agent_client.get(detail_url(ticket))

    assert XSS not in page.text
    assert page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # title, heading, customer, messages


# --- actions -------------------------------------------------------------------------------------------------------


def test_reply_redirects_flashes_and_queues_the_notification(agent_client, agent, queue):
    ticket = make_ticket(queue, subject="Broken")

    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Try turning it off"})

    assert response.status_code == 302 and response["Location"] == detail_url(ticket)
    reply = Message.objects.get(kind=Message.Kind.PUBLIC_REPLY)
    assert (reply.author_user, reply.body) == (agent, "Try turning it off")
    email = OutgoingEmail.objects.get()
    assert (email.kind, email.render_spec) == ("reply_notification", {"message_id": reply.pk})
    page = agent_client.get(response["Location"])
    assert "Reply sent to the customer." in page.text


def test_empty_reply_is_refused_inline_and_writes_nothing(agent_client, queue):
    ticket = make_ticket(queue)
    before = row_count()

    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "   "})

    assert response.status_code == 400
    assert "This field is required." in response.text
    assert row_count() == before


def test_domain_error_is_shown_inline(agent_client, agent, queue):
    ticket = make_ticket(queue)
    services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SOLVED, by=agent)
    before = row_count()

    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "hello?"})

    assert response.status_code == 400
    assert "This ticket is closed: reopen it before replying." in response.text
    assert row_count() == before


def test_permission_denied_from_a_service_is_403(agent_client, queue, monkeypatch):
    ticket = make_ticket(queue)

    def refuse(**kwargs):
        raise PermissionDenied("no")

    monkeypatch.setattr("tickets.views.actions.ticket_set_priority", refuse)
    response = agent_client.post(reverse("tickets:priority", args=[ticket.pk]), {"priority": "high"})

    assert response.status_code == 403
    assert "You can't do that" in response.text


def test_internal_note_sends_no_email(agent_client, queue):
    ticket = make_ticket(queue)

    agent_client.post(reverse("tickets:note", args=[ticket.pk]), {"body": "Customer is a VIP"})

    assert Message.objects.filter(kind=Message.Kind.INTERNAL_NOTE, body="Customer is a VIP").exists()
    assert not OutgoingEmail.objects.exists()


def test_assign_to_me_to_a_member_and_unassign(agent_client, agent, queue, outsider):
    colleague = MembershipFactory(queue=queue).user
    ticket = make_ticket(queue)
    url = reverse("tickets:assign", args=[ticket.pk])

    agent_client.post(url, {"assignee": agent.pk})
    assert Ticket.objects.get().assignee == agent
    agent_client.post(url, {"assignee": colleague.pk})
    assert Ticket.objects.get().assignee == colleague
    agent_client.post(url, {"assignee": ""})
    assert Ticket.objects.get().assignee is None
    refused = agent_client.post(url, {"assignee": outsider.pk})
    assert refused.status_code == 400
    assert Ticket.objects.get().assignee is None
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.ASSIGNEE).count() == 3


def test_status_and_priority(agent_client, queue):
    ticket = make_ticket(queue)

    agent_client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "pending"})
    agent_client.post(reverse("tickets:priority", args=[ticket.pk]), {"priority": "urgent"})
    refused = agent_client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "closed"})

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.PENDING, Priority.URGENT)
    assert refused.status_code == 400


def test_close_needs_confirmation_then_closes_with_reason_and_reopens(agent_client, queue):
    ticket = make_ticket(queue)
    url = reverse("tickets:close", args=[ticket.pk])

    unconfirmed = agent_client.post(url, {"reason": "duplicate"})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm closing the ticket." in unconfirmed.text
    assert Ticket.objects.get().status == Status.NEW

    agent_client.post(url, {"reason": "duplicate", "confirm": "on"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.close_reason) == (Status.CLOSED, CloseReason.DUPLICATE)
    page = agent_client.get(detail_url(ticket))
    assert "Ticket closed (Duplicate)." in page.text
    assert "Reopen ticket" in page.text

    agent_client.post(reverse("tickets:reopen", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_htmx_action_returns_the_ticket_part_with_the_flash(agent_client, queue):
    ticket = make_ticket(queue)

    response = agent_client.post(
        reverse("tickets:note", args=[ticket.pk]), {"body": "via htmx"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="ticket"' in response.text
    assert "Internal note added." in response.text
    assert "via htmx" in response.text


def test_htmx_action_error_is_swapped_in_with_200(agent_client, queue):
    ticket = make_ticket(queue)

    url = reverse("tickets:reply", args=[ticket.pk])
    response = agent_client.post(url, {"body": ""}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "This field is required." in response.text
    assert not Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY).exists()


def test_csrf_is_enforced(agent, queue):
    ticket = make_ticket(queue)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    url = reverse("tickets:note", args=[ticket.pk])

    assert client.post(url, {"body": "no token"}).status_code == 403
    assert not Message.objects.filter(kind=Message.Kind.INTERNAL_NOTE).exists()

    client.get(detail_url(ticket))
    token = client.cookies["csrftoken"].value
    assert client.post(url, {"body": "with token", "csrfmiddlewaretoken": token}).status_code == 302
    assert Message.objects.filter(kind=Message.Kind.INTERNAL_NOTE, body="with token").exists()


# --- new ticket ----------------------------------------------------------------------------------------------------


def test_new_ticket_form_offers_only_my_queues(agent_client, queue):
    QueueFactory(name="Not mine")

    page = agent_client.get(reverse("tickets:new"))

    assert page.status_code == 200
    assert queue.name in page.text
    assert "Not mine" not in page.text


def test_new_ticket_on_behalf_of_a_customer(agent_client, agent, queue):
    response = agent_client.post(
        reverse("tickets:new"),
        {
            "queue": queue.pk,
            "customer_email": "New.Person@example.org",
            "customer_name": "New Person",
            "subject": "Phoned in",
            "body": "Customer called about the router.",
            "priority": "high",
            "assignee": agent.pk,
        },
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(ticket)
    assert (ticket.subject, ticket.priority, ticket.assignee, ticket.queue) == ("Phoned in", "high", agent, queue)
    assert ticket.customer.name == "New Person"
    assert ticket.events.get(kind=TicketEvent.Kind.CREATED).actor == agent


def test_new_ticket_reuses_the_customer_case_insensitively(agent_client, queue):
    existing = CustomerFactory(email="known@example.org")

    agent_client.post(
        reverse("tickets:new"),
        {"queue": queue.pk, "customer_email": "KNOWN@example.org", "subject": "s", "body": "b", "priority": "normal"},
    )

    assert Ticket.objects.get().customer == existing
    assert Customer.objects.count() == 1


def test_new_ticket_refuses_another_queue_and_a_non_member_assignee(agent_client, agent, queue):
    other = QueueFactory()
    shared = MembershipFactory(user=agent).queue
    stranger = MembershipFactory(queue=shared).user  # offered as assignee (shared queue), not a member of `queue`
    data = {"customer_email": "c@example.org", "subject": "s", "body": "b", "priority": "normal"}

    wrong_queue = agent_client.post(reverse("tickets:new"), {**data, "queue": other.pk})
    wrong_assignee = agent_client.post(reverse("tickets:new"), {**data, "queue": queue.pk, "assignee": stranger.pk})

    assert wrong_queue.status_code == 400
    assert wrong_assignee.status_code == 400
    assert "is not a member of this queue" in wrong_assignee.text
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()


# --- error pages ---------------------------------------------------------------------------------------------------


def test_error_pages_render(agent_client):
    assert "Page not found" in agent_client.get("/no/such/page/").text
    html = render_to_string("500.html")  # Django renders it without a request or context
    assert "Something went wrong" in html


def test_search_pages_count_with_their_rows_and_past_the_end_shows_the_last_page(agent_client, queue):
    customer = CustomerFactory()
    for n in range(51):
        make_ticket(queue, subject=f"Invoice {n}", customer=customer)
    make_ticket(queue, subject="Unrelated", customer=customer)

    first = agent_client.get(LIST, {"view": "all", "q": "invoice"})
    second = agent_client.get(LIST, {"view": "all", "q": "invoice", "page": 2})
    past = agent_client.get(LIST, {"view": "all", "q": "invoice", "page": 9})
    bogus = agent_client.get(LIST, {"view": "all", "q": "invoice", "page": "x"})
    none = agent_client.get(LIST, {"view": "all", "q": "nomatchatall"})

    assert len(first.context["tickets"]) == 50 and first.context["page"].paginator.count == 51
    assert [t.subject for t in second.context["tickets"]] == ["Invoice 0"]
    assert second.context["page"].number == 2 and not second.context["page"].has_next()
    assert past.context["page"].number == 2 and [t.subject for t in past.context["tickets"]] == ["Invoice 0"]
    assert bogus.context["page"].number == 1 and len(bogus.context["tickets"]) == 50
    assert none.context["page"].paginator.count == 0 and "No tickets match" in none.text


def test_search_with_an_absurd_page_number_shows_the_last_page(agent_client, agent, queue):
    make_ticket(queue, subject="Printer on fire", assignee=agent)

    response = agent_client.get(LIST, {"view": "queues", "q": "printer", "page": "9" * 30})

    assert response.status_code == 200
    assert len(response.context["tickets"]) == 1


def test_a_search_that_finds_nothing_searches_once(agent_client, queue):
    make_ticket(queue, subject="Invoice overdue")
    with CaptureQueriesContext(connection) as found:
        agent_client.get(LIST, {"view": "all", "q": "invoice"})
    with CaptureQueriesContext(connection) as nothing:
        response = agent_client.get(LIST, {"view": "all", "q": "nomatchatall"})

    assert "No tickets match" in response.text
    assert len(nothing) == len(found)  # no second search for a COUNT of the empty page
