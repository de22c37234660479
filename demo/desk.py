"""The demo desk's fixed part: calendar, queues, agents, admin and customers. Get-or-create: a second run never
changes what exists (passwords included)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import time, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from tickets.calendar import CalendarSpec
from tickets.models import BusinessCalendar, Customer, Queue, QueueMembership, Ticket, WorkingHours

from .content import ASCII, FIRST_NAMES, LAST_NAMES, MAIL_DOMAINS, QUEUES, QueueSpec

DEFAULT_SEED = 2026
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - every demo agent; set when the user is created, never reset
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "admin-pass-2026"  # DEBUG only
CUSTOMER_COUNT = 50
DAYS = 90  # tickets are spread over the last DAYS days
CALENDAR_NAME = "Berlin office"


@dataclass(frozen=True)
class DeskQueue:
    queue: Queue  # with its business calendar, working hours and holidays loaded (no queries per ticket)
    calendar: CalendarSpec | None
    spec: QueueSpec
    lead: User
    agent: User


@dataclass
class Desk:
    seed: int
    queues: list[DeskQueue]
    customers: list[Customer]
    admin_created: bool | None = None  # None: not attempted (DEBUG off)
    created: dict[str, int] = field(default_factory=dict)  # what this run created, by kind


def desk_ensure(*, seed: int, with_admin: bool) -> Desk:
    """The demo desk, creating whatever is missing. Existing rows (and passwords) are left as they are."""
    with transaction.atomic():
        calendar, calendar_created = _calendar_ensure()
        agents, agents_created = _agents_ensure()
        queues_created = 0
        for spec in QUEUES:
            queue, created = Queue.objects.get_or_create(
                slug=spec.slug,
                defaults={
                    "name": spec.name,
                    "reply_from_email": spec.reply_from_email,
                    "business_calendar": calendar if spec.business_hours else None,
                },
            )
            queues_created += created
            for position, (username, _, _) in enumerate(spec.agents):
                role = QueueMembership.Role.LEAD if position == 0 else QueueMembership.Role.AGENT
                QueueMembership.objects.get_or_create(queue=queue, user=agents[username], defaults={"role": role})
        customers, customers_created = _customers_ensure(random.Random(seed))  # noqa: S311 - demo data
        admin_created = _admin_ensure() if with_admin else None
    return Desk(
        seed=seed,
        queues=_desk_queues(agents),
        customers=customers,
        admin_created=admin_created,
        created={
            "calendar": int(calendar_created),
            "queues": queues_created,
            "agents": agents_created,
            "customers": customers_created,
        },
    )


def _calendar_ensure() -> tuple[BusinessCalendar, bool]:
    calendar, created = BusinessCalendar.objects.get_or_create(
        name=CALENDAR_NAME, defaults={"timezone": "Europe/Berlin", "holiday_country": "DE"}
    )
    if created:
        WorkingHours.objects.bulk_create(
            WorkingHours(calendar=calendar, weekday=day, start=time(9), end=time(17)) for day in range(5)
        )
    return calendar, created


def _agents_ensure() -> tuple[dict[str, User], int]:
    specs = [agent for spec in QUEUES for agent in spec.agents]
    existing = set(User.objects.filter(username__in=[username for username, _, _ in specs]).values_list("username"))
    password = make_password(DEMO_PASSWORD) if len(existing) < len(specs) else ""  # hash once: it is slow on purpose
    users, created_count = {}, 0
    for username, first_name, last_name in specs:
        users[username], created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@support.example.com",
                "password": password,
            },
        )
        created_count += created
    return users, created_count


def _admin_ensure() -> bool:
    _, created = User.objects.get_or_create(
        username=ADMIN_USERNAME,
        defaults={
            "email": "admin@support.example.com",
            "is_staff": True,
            "is_superuser": True,
            "password": make_password(ADMIN_PASSWORD),
        },
    )
    return created


def _customer_people(rng: random.Random) -> list[tuple[str, str]]:
    """CUSTOMER_COUNT distinct (name, email) pairs."""
    pairs = rng.sample([(first, last) for first in FIRST_NAMES for last in LAST_NAMES], CUSTOMER_COUNT)
    return [
        (f"{first} {last}", f"{first}.{last}@{rng.choice(MAIL_DOMAINS)}".lower().translate(ASCII))
        for first, last in pairs
    ]


def _customers_ensure(rng: random.Random) -> tuple[list[Customer], int]:
    people = _customer_people(rng)
    existing = {
        c.email_lower: c
        for c in Customer.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=[e for _, e in people])
    }
    since = timezone.now() - timedelta(days=DAYS + 30)
    missing = [
        Customer(name=name, email=email, created_at=since + timedelta(minutes=rng.randint(0, 30 * 24 * 60)))
        for name, email in people
        if email not in existing
    ]
    Customer.objects.bulk_create(missing)
    by_email = {**existing, **{c.email: c for c in missing}}
    return [by_email[email] for _, email in people], len(missing)


def _desk_queues(agents: dict[str, User]) -> list[DeskQueue]:
    queues = Queue.objects.select_related("business_calendar").prefetch_related(
        "business_calendar__working_hours", "business_calendar__holidays"
    )
    by_slug = {q.slug: q for q in queues.filter(slug__in=[spec.slug for spec in QUEUES])}
    out = []
    for spec in QUEUES:
        queue = by_slug[spec.slug]
        cal = queue.business_calendar
        lead, agent = (agents[username] for username, _, _ in spec.agents)
        out.append(DeskQueue(queue, CalendarSpec.from_calendar(cal) if cal else None, spec, lead, agent))
    return out


def demo_tickets(desk: Desk) -> QuerySet[Ticket]:
    """The tickets of the demo queues: what --tickets counts."""
    return Ticket.objects.filter(queue__in=[dq.queue for dq in desk.queues])
