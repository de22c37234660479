"""The migration path of the round that moved state between apps, walked on a database filled before it.

That round moved AccessToken from tickets to common (its table renamed, not rebuilt) and the ticket's latest rating
and the customer's survey opt-out from tickets' columns into tables of surveys (TicketRating, SurveyOptOut). The
first test migrates the test database back to the nodes before that round, fills it through the historical models as
a seeded database would be, migrates it forward to the latest nodes and checks with the current code that every
customer link still opens its target, every rating is kept and shows in the agent's ticket list, and every opt-out
holds. The second test runs the first on the other database backend (SQLite ↔ Postgres) in a subprocess, so one run
of the suite walks the path on both.
"""

from __future__ import annotations

import hashlib
import html
import os
import secrets
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from common.models import AccessToken
from common.tokens import token_resolve
from surveys.models import SurveyInvitation, SurveyOptOut, TicketRating
from tickets.extensions import list_columns
from tickets.models import Customer, Queue, Ticket, format_reference

# The state before that round: no common migration yet, AccessToken and the survey columns still in tickets.
BEFORE = [
    ("tickets", "0006_ticket_covering_indexes"),
    ("surveys", "0003_invitation_answer_copy"),
    ("outbox", "0001_initial"),
    ("webhooks", "0001_initial"),
]
BEFORE_TARGETS = [*BEFORE, ("common", None)]  # ("common", None): unapply every migration of common

# (last_csat, last_ces, rated_poor) of the rated tickets; the other tickets were never rated.
RATINGS = [(5, 6, False), (2, None, True), (None, 3, True), (4, None, False), (1, 1, True), (3, 7, False)]
UNRATED_TICKETS = 5
CUSTOMERS = 5
OPTED_OUT_AT = {  # customer number → when they opted out of surveys
    0: datetime(2026, 10, 1, 9, 30, 15, 123456, tzinfo=UTC),
    3: datetime(2026, 11, 2, 17, 5, 0, 42, tzinfo=UTC),
}

# Set in the subprocess of test_migration_path_on_the_other_backend to the backend it runs on (connection.vendor):
# that run checks it is on it, and starts no subprocess of its own.
OTHER_BACKEND_ENV = "HELPDESK_MIGRATION_PATH_SUBPROCESS"
AGENT_USERNAME = "agent-before-the-move"


@dataclass
class Seeded:
    """What was written before the migrations, as the test expects to find it after them."""

    ratings: dict[int, tuple[int | None, int | None, bool]] = field(default_factory=dict)  # ticket pk → rating
    unrated: list[int] = field(default_factory=list)
    opted_out: dict[int, datetime] = field(default_factory=dict)  # customer pk → opted_out_at
    links: list[tuple[str, str, int]] = field(default_factory=list)  # (raw token, purpose, target pk)
    expired_link: tuple[str, str] = ("", "")
    counts: dict[str, int] = field(default_factory=dict)


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader: it reads what is applied now


def leaf_nodes() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def seed_before_the_move(apps) -> Seeded:
    """Queues, an agent, customers (some opted out), tickets (some rated), survey invitations and links of both
    purposes, through the models as they were before the move (`apps` is that state's registry)."""
    seeded = Seeded()
    now = timezone.now()
    content_type = apps.get_model("contenttypes", "ContentType")
    ticket_type = content_type.objects.get_or_create(app_label="tickets", model="ticket")[0]
    invitation_type = content_type.objects.get_or_create(app_label="surveys", model="surveyinvitation")[0]
    queue_model, customer_model = apps.get_model("tickets", "Queue"), apps.get_model("tickets", "Customer")
    ticket_model, token_model = apps.get_model("tickets", "Ticket"), apps.get_model("tickets", "AccessToken")

    agent = apps.get_model("auth", "User").objects.create(username=AGENT_USERNAME, password="!")
    queues = [
        queue_model.objects.create(name=name, slug=name.lower(), reply_from_email=f"{name.lower()}@example.com")
        for name in ("Billing", "Support")
    ]
    for queue in queues:
        apps.get_model("tickets", "QueueMembership").objects.create(queue=queue, user=agent, role="agent")
    customers = [
        customer_model.objects.create(
            email=f"customer{n}@example.com", name=f"Customer {n}", surveys_opted_out_at=OPTED_OUT_AT.get(n)
        )
        for n in range(CUSTOMERS)
    ]
    seeded.opted_out = {customers[n].pk: opted_out_at for n, opted_out_at in OPTED_OUT_AT.items()}

    def mint(purpose: str, target_type, target_id: int, expires_at: datetime) -> str:
        raw = secrets.token_urlsafe(32)
        token_model.objects.create(
            token_hash=token_hash(raw),
            purpose=purpose,
            target_type=target_type,
            target_id=target_id,
            expires_at=expires_at,
        )
        return raw

    for n, rating in enumerate(RATINGS + [(None, None, False)] * UNRATED_TICKETS):
        rated = rating != (None, None, False)
        closed = rated or n % 2 == 0  # some unrated tickets are closed too (a survey sent, not answered)
        created = now - timedelta(days=40 - n)
        ticket = ticket_model.objects.create(
            subject=f"Ticket {n}",
            queue=queues[n % 2],
            customer=customers[n % len(customers)],
            assignee=agent,
            status="closed" if closed else "open",
            close_reason="solved" if closed else "",
            closed_at=created + timedelta(days=1) if closed else None,
            created_at=created,
            updated_at=created + timedelta(days=1),
            last_csat=rating[0],
            last_ces=rating[1],
            rated_poor=rating[2],
        )
        if rated:
            seeded.ratings[ticket.pk] = rating
        else:
            seeded.unrated.append(ticket.pk)
        raw = mint("conversation", ticket_type, ticket.pk, now + timedelta(days=90))
        seeded.links.append((raw, "conversation", ticket.pk))
        if closed:
            invitation = apps.get_model("surveys", "SurveyInvitation").objects.create(
                ticket=ticket,
                round=1,
                customer=ticket.customer,
                agent=agent,
                queue=ticket.queue,
                status="answered" if rated else "sent",
                closed_at=ticket.closed_at,
                send_after=ticket.closed_at,
                sent_at=ticket.closed_at,
                expires_at=now + timedelta(days=28),
            )
            raw = mint("survey", invitation_type, invitation.pk, invitation.expires_at)
            seeded.links.append((raw, "survey", invitation.pk))
    some_ticket = seeded.unrated[0]
    seeded.expired_link = (mint("conversation", ticket_type, some_ticket, now - timedelta(minutes=1)), "conversation")

    seeded.counts = {
        "queues": queue_model.objects.count(),
        "customers": customer_model.objects.count(),
        "tickets": ticket_model.objects.count(),
        "invitations": apps.get_model("surveys", "SurveyInvitation").objects.count(),
        "tokens": token_model.objects.count(),
    }
    return seeded


def rating_text(csat: int | None, ces: int | None, poor: bool) -> str:
    """The text the "Last rating" cell shows for a rating, e.g. "CSAT 2/5 · CES 3/7 Poor"; "—" for none."""
    scores = " · ".join(text for text in (csat and f"CSAT {csat}/5", ces and f"CES {ces}/7") if text)
    if not scores:
        return "—"
    return f"{scores} Poor" if poor else scores


def list_ratings(client, view: str) -> dict[str, str]:
    """The ticket list page of `view`: each row's reference → the text of its "Last rating" cell (in the page)."""
    response = client.get(reverse("tickets:list"), {"view": view})
    assert response.status_code == 200
    page = response.content.decode()
    rating_column = [column.key for column in list_columns()].index("rating")
    cells = {row["reference"]: row["extra_cells"][rating_column] for row in response.context["rows"]}
    for reference, cell in cells.items():
        assert reference in page
        assert str(cell) in page
    assert response.context["page"].paginator.num_pages == 1
    return {reference: " ".join(html.unescape(strip_tags(cell)).split()) for reference, cell in cells.items()}


def assert_after_the_move(seeded: Seeded, client) -> None:
    tables = set(connection.introspection.table_names())
    assert "common_accesstoken" in tables
    assert "tickets_accesstoken" not in tables  # renamed, not copied

    assert {
        "queues": Queue.objects.count(),
        "customers": Customer.objects.count(),
        "tickets": Ticket.objects.count(),
        "invitations": SurveyInvitation.objects.count(),
        "tokens": AccessToken.objects.count(),
    } == seeded.counts

    ContentType.objects.clear_cache()  # ids cached by earlier tests may predate their flush
    for raw, purpose, target_pk in seeded.links:
        assert token_resolve(raw=raw, purpose=purpose) == target_pk, (purpose, target_pk)
        other_purpose = "survey" if purpose == "conversation" else "conversation"
        assert token_resolve(raw=raw, purpose=other_purpose) is None  # a link opens its own kind of page only
    raw, purpose = seeded.expired_link
    assert token_resolve(raw=raw, purpose=purpose) is None

    ratings = {
        pk: (csat, ces, poor) for pk, csat, ces, poor in TicketRating.objects.values_list("pk", "csat", "ces", "poor")
    }
    assert ratings == seeded.ratings
    assert dict(SurveyOptOut.objects.values_list("customer_id", "opted_out_at")) == seeded.opted_out

    cache.clear()  # the public pages' rate-limit counters live in the process-wide cache
    conversation_raw, _, ticket_pk = next(link for link in seeded.links if link[1] == "conversation")
    response = client.get(reverse("support:conversation", args=[conversation_raw]))
    assert response.status_code == 200
    assert response.context["ticket"].pk == ticket_pk
    survey_raw, _, invitation_pk = next(link for link in seeded.links if link[1] == "survey")
    response = client.get(reverse("surveys:landing", args=[survey_raw]))
    assert response.status_code == 200
    assert response.context["invitation"].pk == invitation_pk

    client.force_login(get_user_model().objects.get(username=AGENT_USERNAME))
    expected = {format_reference(pk): rating_text(*rating) for pk, rating in seeded.ratings.items()}
    expected |= {format_reference(pk): "—" for pk in seeded.unrated}
    assert list_ratings(client, "all") == expected
    poor = {format_reference(pk) for pk, (_, _, is_poor) in seeded.ratings.items() if is_poor}
    assert set(list_ratings(client, "poor")) == poor


@pytest.mark.django_db(transaction=True)
def test_tokens_ratings_and_opt_outs_survive_the_move_between_apps(client):
    assert connection.vendor == os.environ.get(OTHER_BACKEND_ENV, connection.vendor)
    try:
        executor = migrate(BEFORE_TARGETS)
        assert "tickets_accesstoken" in connection.introspection.table_names()
        seeded = seed_before_the_move(executor.loader.project_state(BEFORE).apps)

        executor = migrate(leaf_nodes())
        assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
        assert_after_the_move(seeded, client)
    finally:
        migrate(leaf_nodes())  # the latest state for the tests after this one, whatever failed above


# --- the same on the other backend ----------------------------------------------------------------------------------

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def other_backend_env() -> dict[str, str]:
    """The environment of a run on the backend this one is not on: SQLite from Postgres, Postgres from SQLite."""
    env = dict(os.environ)
    if connection.vendor == "postgresql":
        env.pop("DATABASE_URL", None)
        return env | {OTHER_BACKEND_ENV: "sqlite", "TEST_DB_NAME": f"migpath_{os.getpid()}"}
    if not postgres_answers():
        pytest.skip("Postgres does not answer on 127.0.0.1:5432: the migration path ran on SQLite only")
    return env | {
        OTHER_BACKEND_ENV: "postgresql",
        "DATABASE_URL": POSTGRES_URL,
        "TEST_DB_NAME": f"test_migpath_{os.getpid()}",
    }


@pytest.mark.skipif(OTHER_BACKEND_ENV in os.environ, reason="already the run on the other backend")
def test_migration_path_on_the_other_backend():
    env = other_backend_env()
    test = f"{Path(__file__).resolve()}::{test_tokens_ratings_and_opt_outs_survive_the_move_between_apps.__name__}"
    command = [sys.executable, "-m", "pytest", test, "-q", "-p", "no:cacheprovider", f"--ds={settings.SETTINGS_MODULE}"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=600, check=False
    )
    backend = env[OTHER_BACKEND_ENV]
    assert result.returncode == 0, f"the migration path on {backend} failed:\n{result.stdout}\n{result.stderr}"
    assert "1 passed" in result.stdout, result.stdout
