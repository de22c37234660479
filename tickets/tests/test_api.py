"""REST API v1: tickets, their messages, customers; token auth, permissions, errors, query budgets."""

from datetime import timedelta
from unittest.mock import ANY

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tickets import services
from tickets.models import Attachment, Message, Priority, SlaPolicy, Status, Ticket, TicketEvent
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()  # throttle histories live in the cache
    yield
    cache.clear()


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def make_ticket(queue, customer, subject="Printer on fire", **kwargs) -> Ticket:
    return services.ticket_create(queue=queue, customer=customer, subject=subject, body="Help!", by=None, **kwargs)


def error_attrs(response) -> set:
    return {error["attr"] for error in response.json()["errors"]}


@pytest.fixture
def ticket(queue, customer):
    return make_ticket(queue, customer)


# --- permissions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("agent", 200), ("lead", 200), ("admin_user", 200), ("outsider", 404), (None, 401)],
)
def test_ticket_detail_permission_matrix(request, ticket, role, expected):
    user = request.getfixturevalue(role) if role else None

    response = client_for(user).get(f"{TICKETS}{ticket.pk}/")

    assert response.status_code == expected
    if expected == 200:
        assert response.json()["reference"] == ticket.reference


@pytest.mark.parametrize(
    ("role", "expected"),
    [("agent", 200), ("lead", 200), ("admin_user", 200), ("outsider", 404), (None, 401)],
)
def test_ticket_write_permission_matrix(request, ticket, role, expected):
    user = request.getfixturevalue(role) if role else None

    response = client_for(user).post(f"{TICKETS}{ticket.pk}/set-status/", {"status": "pending"})

    assert response.status_code == expected
    ticket.refresh_from_db()
    assert ticket.status == (Status.PENDING if expected == 200 else Status.NEW)


def test_anonymous_token_client_gets_401_with_www_authenticate(ticket):
    response = APIClient().get(TICKETS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["type"] == "client_error"


def test_list_shows_only_tickets_of_the_users_queues(queue, agent, outsider, admin_user, customer):
    mine = make_ticket(queue, customer)
    theirs = make_ticket(outsider.queue_memberships.get().queue, customer)

    agent_ids = [t["id"] for t in client_for(agent).get(TICKETS).json()["results"]]
    outsider_ids = [t["id"] for t in client_for(outsider).get(TICKETS).json()["results"]]
    admin_ids = [t["id"] for t in client_for(admin_user).get(TICKETS).json()["results"]]

    assert agent_ids == [mine.pk]
    assert outsider_ids == [theirs.pk]
    assert sorted(admin_ids) == sorted([mine.pk, theirs.pk])


def test_a_service_permission_denied_is_a_403_with_its_message(monkeypatch, ticket, agent):
    from django.core.exceptions import PermissionDenied

    def refuse(**kwargs):
        raise PermissionDenied("Not today.")

    monkeypatch.setattr(services, "ticket_reopen", refuse)

    response = client_for(agent).post(f"{TICKETS}{ticket.pk}/reopen/")

    assert response.status_code == 403
    assert response.json()["errors"][0]["detail"] == "Not today."


# --- list, filters, search ----------------------------------------------------------------------------------------


def test_list_filters_and_search(queue, agent, customer):
    other_customer = CustomerFactory()
    printer = make_ticket(queue, customer, subject="Printer jam", priority="high")
    invoice = make_ticket(queue, other_customer, subject="Invoice missing", assignee=agent)
    services.ticket_set_status(ticket_id=invoice.pk, status=Status.PENDING, by=agent)
    old = make_ticket(queue, customer, subject="Old one")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client = client_for(agent)

    def ids(**params):
        response = client.get(TICKETS, params)
        assert response.status_code == 200, response.json()
        return {t["id"] for t in response.json()["results"]}

    assert ids(status="pending") == {invoice.pk}
    assert ids(status=["pending", "new"]) == {printer.pk, invoice.pk, old.pk}
    assert ids(priority="high") == {printer.pk}
    assert ids(assignee=agent.pk) == {invoice.pk}
    assert ids(unassigned="true") == {printer.pk, old.pk}
    assert ids(customer=other_customer.pk) == {invoice.pk}
    assert ids(queue=queue.pk) == {printer.pk, invoice.pk, old.pk}
    assert ids(created_before=(timezone.localdate() - timedelta(days=30)).isoformat()) == {old.pk}
    assert ids(created_after=(timezone.localdate() - timedelta(days=1)).isoformat()) == {printer.pk, invoice.pk}
    assert ids(search="invoice") == {invoice.pk}


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"status": "exploded"}, "status"),
        ({"queue": "abc"}, "queue"),
        ({"queue": "1.5"}, "queue"),
        ({"queue": str(2**70)}, "queue"),
        ({"created_after": "yesterday"}, "created"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"search": "a\x00b"}, "search"),
    ],
)
def test_malformed_query_parameters_are_400_with_the_field(agent, ticket, params, attr):
    response = client_for(agent).get(TICKETS, params)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert attr in error_attrs(response), response.json()


def test_cursor_pagination_walks_every_ticket_once(queue, agent, customer):
    created = {make_ticket(queue, customer, subject=f"T{i}").pk for i in range(7)}
    client, seen, url = client_for(agent), [], f"{TICKETS}?page_size=3"

    while url:
        page = client.get(url).json()
        seen += [t["id"] for t in page["results"]]
        url = page["next"]

    assert sorted(seen) == sorted(created)
    assert len(seen) == len(created)


@pytest.mark.parametrize("rows", [5, 50])
def test_ticket_list_query_budget_does_not_grow_with_rows(django_assert_max_num_queries, queue, agent, rows):
    SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, business_hours=False)
    for i in range(rows):
        make_ticket(queue, CustomerFactory(), subject=f"T{i}", assignee=agent)
    client = client_for(agent)

    with django_assert_max_num_queries(2):
        response = client.get(TICKETS, {"page_size": 50, "status": "new", "search": "T"})

    assert len(response.json()["results"]) == rows
    assert all(row["sla_due_at"] and "sla_targets" not in row for row in response.json()["results"])


# --- create, patch, actions -----------------------------------------------------------------------------------------


def test_create_ticket_goes_through_the_service(queue, agent):
    payload = {
        "queue": queue.pk,
        "customer_email": "Ada@Example.org",
        "customer_name": "Ada",
        "subject": "Cannot log in",
        "body": "It says no.",
        "priority": "high",
        "assignee": agent.pk,
    }

    response = client_for(agent).post(TICKETS, payload)

    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.subject, ticket.priority, ticket.assignee, ticket.status) == ("Cannot log in", "high", agent, "new")
    assert ticket.customer.email == "Ada@Example.org"
    assert ticket.messages.get().kind == Message.Kind.CUSTOMER_MESSAGE
    assert set(ticket.events.values_list("kind", flat=True)) == {"created", "message", "assignee"}
    assert response.json()["customer"]["email"] == "Ada@Example.org"


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"subject": ""}, "subject"),
        ({"customer_email": "not-an-email"}, "customer_email"),
        ({"priority": "whenever"}, "priority"),
        ({"queue": "abc"}, "queue"),
        ({"assignee": 10**9}, "assignee"),
        ({"subject": "x" * 251}, "subject"),
        ({"body": "nul \x00 byte"}, "body"),
    ],
)
def test_create_ticket_with_bad_input_is_400_with_field_errors_and_creates_nothing(queue, agent, change, attr):
    payload = {"queue": queue.pk, "customer_email": "a@example.org", "subject": "S", "body": "B", **change}

    response = client_for(agent).post(TICKETS, payload)

    assert response.status_code == 400
    assert attr in error_attrs(response)
    assert not Ticket.objects.exists()


def test_create_ticket_in_a_queue_of_someone_else_is_refused(agent, outsider):
    other_queue = outsider.queue_memberships.get().queue
    payload = {"queue": other_queue.pk, "customer_email": "a@example.org", "subject": "S", "body": "B"}

    response = client_for(agent).post(TICKETS, payload)

    assert response.status_code == 400
    assert "queue" in error_attrs(response)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"a string"'])
def test_malformed_json_is_400_never_500(agent, ticket, body):
    client = client_for(agent)

    for method, url in [
        ("post", TICKETS),
        ("patch", f"{TICKETS}{ticket.pk}/"),
        ("post", f"{TICKETS}{ticket.pk}/close/"),
    ]:
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 400, (method, url, response.content)


def test_patch_changes_assignee_and_priority_through_the_services(ticket, agent, lead):
    response = client_for(agent).patch(f"{TICKETS}{ticket.pk}/", {"assignee": lead.pk, "priority": "urgent"})

    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (lead, "urgent")
    assert list(ticket.events.filter(kind__in=["assignee", "priority"]).values_list("kind", "new_value")) == [
        ("assignee", lead.username),
        ("priority", "urgent"),
    ]

    response = client_for(agent).patch(f"{TICKETS}{ticket.pk}/", {"assignee": None})
    assert response.status_code == 200
    assert response.json()["assignee"] is None


def test_status_cannot_be_patched(ticket, agent):
    response = client_for(agent).patch(f"{TICKETS}{ticket.pk}/", {"status": "closed", "priority": "low"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "non_field_errors"
    assert "not: status" in response.json()["errors"][0]["detail"]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("new", "normal")  # nothing changed, not even the priority


def test_put_is_not_allowed(ticket, agent):
    assert client_for(agent).put(f"{TICKETS}{ticket.pk}/", {"priority": "low"}).status_code == 405


def test_patch_to_an_assignee_outside_the_queue_is_a_400_with_the_domain_message(ticket, agent, outsider):
    response = client_for(agent).patch(f"{TICKETS}{ticket.pk}/", {"assignee": outsider.pk})

    assert response.status_code == 400
    assert "is not a member of this queue" in response.json()["errors"][0]["detail"]
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_close_reopen_and_set_status_actions(ticket, agent):
    client = client_for(agent)

    assert client.post(f"{TICKETS}{ticket.pk}/set-status/", {"status": "on_hold"}).json()["status"] == "on_hold"
    closed = client.post(f"{TICKETS}{ticket.pk}/close/", {"reason": "solved"})
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["close_reason"]) == ("closed", "solved")
    assert closed.json()["resolution_seconds"] is not None

    refused = client.post(f"{TICKETS}{ticket.pk}/set-status/", {"status": "open"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["detail"] == "This ticket is closed: reopen it first."

    reopened = client.post(f"{TICKETS}{ticket.pk}/reopen/")
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "open"
    assert reopened.json()["reopen_count"] == 1
    assert list(TicketEvent.objects.filter(ticket=ticket, kind="status").values_list("new_value", flat=True)) == [
        "on_hold",
        "closed",
        "open",
    ]


@pytest.mark.parametrize(
    ("url", "payload", "attr"),
    [
        ("close/", {}, "reason"),
        ("close/", {"reason": "bored"}, "reason"),
        ("set-status/", {"status": "closed"}, "status"),
        ("set-status/", {"status": "new"}, "status"),
    ],
)
def test_action_input_errors(ticket, agent, url, payload, attr):
    response = client_for(agent).post(f"{TICKETS}{ticket.pk}/{url}", payload)

    assert response.status_code == 400
    assert attr in error_attrs(response)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


# --- messages ---------------------------------------------------------------------------------------------------


def test_messages_list_and_create(ticket, agent):
    client = client_for(agent)
    url = f"{TICKETS}{ticket.pk}/messages/"

    reply = client.post(url, {"kind": "public_reply", "body": "On it."})
    note = client.post(url, {"kind": "internal_note", "body": "Customer is VIP."})
    listed = client.get(url)

    assert (reply.status_code, note.status_code, listed.status_code) == (201, 201, 200)
    assert [(m["kind"], m["body"]) for m in listed.json()["results"]] == [
        ("customer_message", "Help!"),
        ("public_reply", "On it."),
        ("internal_note", "Customer is VIP."),
    ]
    assert reply.json()["author_user"] == agent.pk
    ticket.refresh_from_db()
    assert (ticket.status, ticket.public_reply_count) == ("open", 1)


def test_messages_refuse_customer_kind_and_replies_on_closed_tickets(ticket, agent):
    client = client_for(agent)
    url = f"{TICKETS}{ticket.pk}/messages/"

    assert "kind" in error_attrs(client.post(url, {"kind": "customer_message", "body": "fake"}))
    services.ticket_close(ticket_id=ticket.pk, reason="solved", by=agent)
    closed = client.post(url, {"kind": "public_reply", "body": "Hello?"})

    assert closed.status_code == 400
    assert closed.json()["errors"][0]["detail"] == "This ticket is closed: reopen it before replying."
    assert ticket.messages.count() == 1


@pytest.mark.parametrize(
    ("role", "expected"),
    [("agent", 200), ("lead", 200), ("admin_user", 200), ("outsider", 404), (None, 401)],
)
def test_messages_permission_matrix(request, ticket, role, expected):
    user = request.getfixturevalue(role) if role else None
    url = f"{TICKETS}{ticket.pk}/messages/"

    assert client_for(user).get(url).status_code == expected
    created = client_for(user).post(url, {"kind": "internal_note", "body": "n"})
    assert created.status_code == (201 if expected == 200 else expected)


def test_messages_of_a_missing_or_malformed_ticket_id_are_404(agent):
    assert client_for(agent).get(f"{TICKETS}999999/messages/").status_code == 404
    assert client_for(agent).get(f"{TICKETS}abc/messages/").status_code == 404


@pytest.mark.parametrize("rows", [5, 50])
def test_message_list_query_budget(django_assert_max_num_queries, ticket, agent, rows):
    for i in range(rows):
        message = services.message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body=f"n{i}", by=agent)
        Attachment.objects.create(message=message, file=f"a/{i}", filename=f"{i}.pdf", content_type="x/y", size=i)
    client = client_for(agent)

    with django_assert_max_num_queries(3):  # the page, the ticket's visibility, the page's attachments
        response = client.get(f"{TICKETS}{ticket.pk}/messages/", {"page_size": 100})

    assert len(response.json()["results"]) == rows + 1
    assert response.json()["results"][-1]["attachments"] == [
        {"id": ANY, "filename": f"{rows - 1}.pdf", "content_type": "x/y", "size": rows - 1}
    ]


# --- customers ------------------------------------------------------------------------------------------------


def test_customers_are_those_of_visible_tickets_admins_see_all(queue, agent, outsider, admin_user, customer):
    make_ticket(queue, customer)
    elsewhere = CustomerFactory()
    make_ticket(outsider.queue_memberships.get().queue, elsewhere)
    no_tickets = CustomerFactory()

    def ids(user):
        return {c["id"] for c in client_for(user).get("/api/v1/customers/").json()["results"]}

    assert ids(agent) == {customer.pk}
    assert ids(admin_user) == {customer.pk, elsewhere.pk, no_tickets.pk}
    assert client_for(agent).get(f"/api/v1/customers/{elsewhere.pk}/").status_code == 404
    assert client_for(agent).get(f"/api/v1/customers/{customer.pk}/").json()["email"] == customer.email
    assert client_for(None).get("/api/v1/customers/").status_code == 401
    assert client_for(agent).get("/api/v1/customers/", {"search": customer.email[:6]}).json()["results"]


@pytest.mark.parametrize("rows", [5, 50])
def test_customer_list_query_budget(django_assert_max_num_queries, queue, agent, rows):
    for i in range(rows):
        make_ticket(queue, CustomerFactory(), subject=f"T{i}")
    client = client_for(agent)

    with django_assert_max_num_queries(1):
        response = client.get("/api/v1/customers/", {"page_size": 100})

    assert len(response.json()["results"]) == rows


# --- tokens (django-rest-knox) and throttling -----------------------------------------------------------------


def test_token_login_stores_only_a_hash_and_a_revoked_token_is_401(agent, ticket):
    login = APIClient().post("/api/v1/auth/login/", HTTP_AUTHORIZATION=basic_auth(agent.username, "pw"))

    assert login.status_code == 200, login.content
    token = login.json()["token"]
    stored = AuthToken.objects.get(user=agent)
    assert token not in {stored.digest, stored.token_key}  # the key itself is never stored
    assert not AuthToken.objects.filter(digest=token).exists()

    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{TICKETS}{ticket.pk}/").status_code == 200

    stored.delete()  # what an admin does in the admin ("revoke")
    revoked = client.get(f"{TICKETS}{ticket.pk}/")
    assert revoked.status_code == 401
    assert revoked["WWW-Authenticate"] == "Token"


def test_logout_revokes_the_token(agent):
    token = APIClient().post("/api/v1/auth/login/", HTTP_AUTHORIZATION=basic_auth(agent.username, "pw")).json()["token"]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")

    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get(TICKETS).status_code == 401
    assert not AuthToken.objects.filter(user=agent).exists()


def test_expired_token_is_401(agent):
    _, token = AuthToken.objects.create(user=agent, expiry=timedelta(seconds=-1))

    assert APIClient(HTTP_AUTHORIZATION=f"Token {token}").get(TICKETS).status_code == 401


def test_login_with_a_wrong_password_is_401_and_issues_nothing(agent):
    response = APIClient().post("/api/v1/auth/login/", HTTP_AUTHORIZATION=basic_auth(agent.username, "nope"))

    assert response.status_code == 401
    assert not AuthToken.objects.exists()


def test_session_authenticated_user_can_use_the_api(client, agent, ticket):
    client.force_login(agent)

    assert client.get(f"{TICKETS}{ticket.pk}/").status_code == 200


def test_per_user_throttling(monkeypatch, agent):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "2/minute"})
    client = client_for(agent)

    codes = [client.get(TICKETS).status_code for _ in range(4)]
    anonymous = [APIClient().get("/api/schema/").status_code for _ in range(3)]

    assert codes == [200, 200, 200, 429]
    assert anonymous == [200, 200, 429]


def basic_auth(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/tickets/" in schema.content
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert b"swagger-ui" in docs.content
    redoc = client.get("/api/redoc/")
    assert redoc.status_code == 200 and b"redoc.standalone.js" in redoc.content
    assert b"https://" not in redoc.content  # no Google Fonts either (the CSP refuses other sites' stylesheets)


def test_token_login_is_locked_after_repeated_wrong_passwords(agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        APIClient().post("/api/v1/auth/login/", HTTP_AUTHORIZATION=basic_auth(agent.username, "nope"))

    response = APIClient().post("/api/v1/auth/login/", HTTP_AUTHORIZATION=basic_auth(agent.username, "pw"))

    assert response.status_code in (401, 403, 429)
    assert not AuthToken.objects.filter(user=agent).exists()
