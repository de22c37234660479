"""Demo data for `manage.py seed_demo`: a support desk with queues, agents, customers and tickets.

How tickets are made: `Timeline` replays one ticket's life in memory with the rules of tickets.services (the same
events, status moves and counters, and the metrics stored on close and reopen by metrics_compute), only at
backdated times instead of timezone.now(); the rows are then written with bulk_create, as DESIGN.md allows for demo
data. No close signal is sent, so seeding schedules no surveys and sends no email.

Each ticket comes from its own random stream (seed, index): it depends on the seed, its index and `now`, never on
the batch size or on how many runs it took to reach the target.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from .calendar import CalendarSpec, add_business_seconds
from .metrics import metrics_compute
from .models import (
    BusinessCalendar,
    CloseReason,
    Customer,
    Message,
    Priority,
    Queue,
    QueueMembership,
    Status,
    Ticket,
    TicketEvent,
    WorkingHours,
)

DEFAULT_SEED = 2026
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - every demo agent; set when the user is created, never reset
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "admin-pass-2026"  # DEBUG only
CUSTOMER_COUNT = 50
DAYS = 90  # tickets are spread over the last DAYS days
CALENDAR_NAME = "Berlin office"

# --- what the desk contains -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    subject: str
    opening: str  # the customer's first message
    answer: str  # the agent's solution


@dataclass(frozen=True)
class QueueSpec:
    name: str
    slug: str
    reply_from_email: str
    business_hours: bool  # the Berlin office calendar; False = 24/7
    weight: int  # share of the tickets
    agents: tuple[tuple[str, str, str], ...]  # (username, first name, last name); the first one is the lead
    topics: tuple[Topic, ...]
    questions: tuple[str, ...]  # the agent asks the customer for details
    notes: tuple[str, ...]  # internal notes
    hold_reply: str  # the reply when waiting on a third party


QUEUES = (
    QueueSpec(
        name="Billing",
        slug="billing",
        reply_from_email="billing@support.example.com",
        business_hours=True,
        weight=35,
        agents=(("sophie.wagner", "Sophie", "Wagner"), ("liam.fischer", "Liam", "Fischer")),
        topics=(
            Topic(
                "Charged twice this month",
                "My card was charged twice (€{amount} each) for invoice INV-{number}. Could you refund the duplicate?",
                "You're right: the second charge was a retry our payment provider should have voided. I've refunded "
                "€{amount}; depending on your bank it shows up within 5–10 business days.",
            ),
            Topic(
                "Please add our VAT ID to the invoices",
                "Our invoices are missing our VAT ID, so our accountant can't book them. The ID is DE{number}1234.",
                "I've added the VAT ID to your billing profile and re-issued invoice INV-{number}; the corrected PDF "
                "is under Settings → Billing → Invoices.",
            ),
            Topic(
                "Where can I download old invoices?",
                "I need all our invoices from last year for the tax office. Can I download them at once?",
                "Every invoice is under Settings → Billing → Invoices; the Export button gives you a ZIP of all PDFs "
                "for the period you choose.",
            ),
            Topic(
                "Discount for switching to annual billing?",
                "We've been on the monthly plan for a while. Is there a discount if we switch to annual billing?",
                "Annual billing gives you two months free. I've prepared the switch for your next renewal, and the "
                "unused part of this month is credited.",
            ),
            Topic(
                "Card declined although it is valid",
                "Our renewal failed with 'card declined', but the card works everywhere else. What's going on?",
                "Your bank asked for a 3-D Secure confirmation, which can't happen on an automatic renewal. I've sent "
                "you a payment link: after confirming once, future renewals go through.",
            ),
            Topic(
                "Refund for seats we no longer use",
                "We reduced our team from 15 to 10 people last month. Can we get a refund for the unused seats?",
                "I've reduced your subscription to 10 seats and credited €{amount} for the unused ones; it is "
                "deducted from your next invoice.",
            ),
            Topic(
                "Wrong billing address on invoice INV-{number}",
                "We moved offices and invoice INV-{number} still shows the old address. Can you correct it?",
                "Done: the billing address is updated and a corrected copy of INV-{number} is in your account. "
                "Future invoices use the new address.",
            ),
            Topic(
                "Cancel our subscription at the end of the term",
                "We're moving to another tool. Please cancel our subscription at the end of the term.",
                "I've turned off the renewal: your account stays active until the end of the term and no further "
                "charges are made. You can export your data under Settings → Export until then.",
            ),
        ),
        questions=(
            "Could you send us the last four digits of the card and the date of the charge?",
            "Which invoice number is this about? You'll find it at the top right of the PDF.",
            "Could you confirm the company name and address exactly as they should appear on the invoice?",
        ),
        notes=(
            "Checked the payment provider dashboard: the charge is captured, a refund is possible.",
            "Customer is on a legacy price plan, check with finance before changing anything.",
            "Finance confirmed the credit note, OK to go ahead.",
        ),
        hold_reply="I've asked our finance team to look into this; they usually answer within two business days. "
        "I'll get back to you as soon as I hear from them.",
    ),
    QueueSpec(
        name="Technical Support",
        slug="technical-support",
        reply_from_email="help@support.example.com",
        business_hours=False,
        weight=45,
        agents=(("priya.nair", "Priya", "Nair"), ("jonas.becker", "Jonas", "Becker")),
        topics=(
            Topic(
                "Can't log in after resetting my password",
                "I reset my password this morning, but the login page keeps saying 'invalid credentials'.",
                "Your account was locked after several failed attempts, so even the new password was refused. I've "
                "unlocked it; please try again with the newest reset link.",
            ),
            Topic(
                "CSV export times out",
                "Exporting our tickets as CSV never finishes: after a minute the page shows a timeout error.",
                "Large exports now run in the background: choose Export again and you'll get an email with the "
                "download link when the file is ready, usually within a few minutes.",
            ),
            Topic(
                "Webhook deliveries fail with 401",
                "Since yesterday every webhook delivery to our endpoint shows status 401. Nothing changed on our side.",
                "The webhook secret was rotated when the API keys were regenerated yesterday. Update the secret on "
                "your endpoint from Settings → Webhooks and use Redeliver for the failed events.",
            ),
            Topic(
                "Two-factor codes are not accepted",
                "My authenticator app's codes are rejected every time, so I can't get into my account.",
                "The codes depend on your phone's clock, which is a few minutes off. Turn on automatic date and time "
                "on the phone and try again.",
            ),
            Topic(
                "Dashboard very slow since this morning",
                "The dashboard takes 20–30 seconds to load since this morning. Other pages are fine.",
                "A report widget was recalculating a whole year of data on every load. We've fixed its caching, so "
                "the dashboard loads in a second or two again.",
            ),
            Topic(
                "API returns 429 Too Many Requests",
                "Our nightly sync gets '429 Too Many Requests' after a few hundred calls. We changed nothing.",
                "Your sync sends about 20 requests per second, above the limit of 10. Please honour the Retry-After "
                "header, or use the bulk endpoint, which returns 100 records per call.",
            ),
            Topic(
                "Notification emails not arriving",
                "Our team stopped receiving notification emails two days ago. Nothing in spam either.",
                "Your mail server rejects our messages since a new SPF policy on your domain. Please add "
                "include:mail.support.example.com to the SPF record; we've re-sent the last two days' notifications.",
            ),
            Topic(
                "SSO login loops back to the start page",
                "Since we switched on single sign-on with Azure AD, users end up in a loop back to the login page.",
                "The reply URL in your Azure app registration ends with a slash and ours doesn't, so the sign-in "
                "response is dropped. Remove the trailing slash in Azure and the login completes.",
            ),
            Topic(
                "Mobile app crashes on start",
                "The Android app crashes right after the splash screen since the last update (Pixel 7, Android 14).",
                "This was a bug in version 4.2.0 with some phone languages. Version 4.2.1 with the fix is in the "
                "Play Store now; please update.",
            ),
        ),
        questions=(
            "Could you send us a screenshot of the error and the time it happened (with time zone)?",
            "Which browser and version are you using? Does it also happen in a private window?",
            "Could you share the request ID from the error response? It starts with 'req_'.",
        ),
        notes=(
            "Reproduced on staging with the customer's settings.",
            "Looks like the known issue from last week's release; linked the engineering ticket.",
            "Logs show repeated 401s from their IP range since yesterday 14:00 UTC.",
        ),
        hold_reply="I've reproduced the problem and handed it to our engineering team. I'm putting this ticket on "
        "hold while they work on a fix and will update you as soon as it's deployed.",
    ),
    QueueSpec(
        name="Onboarding",
        slug="onboarding",
        reply_from_email="onboarding@support.example.com",
        business_hours=True,
        weight=20,
        agents=(("carla.mendes", "Carla", "Mendes"), ("tom.eriksen", "Tom", "Eriksen")),
        topics=(
            Topic(
                "Importing our customer list from a spreadsheet",
                "We'd like to import about {number} customers from an Excel file. What format do you need?",
                "Save the sheet as CSV with the columns name, email and (optionally) company, then use Customers → "
                "Import. The importer shows a preview before anything is saved.",
            ),
            Topic(
                "Setting up roles for our team",
                "We're setting up the account for 8 people. How do we make sure only team leads change settings?",
                "Invite everyone as agents and give your team leads the Lead role under Settings → Team. Only admins "
                "and leads can change queue settings.",
            ),
            Topic(
                "Training session for our new staff",
                "Four new colleagues start next month. Do you offer an onboarding training?",
                "Of course! I've booked a one-hour online training on the date you suggested; the invitation with the "
                "video link is on its way.",
            ),
            Topic(
                "Sending emails from our own domain",
                "Customers see replies coming from your domain. Can they come from our own support address instead?",
                "Yes: add the two DNS records shown under Settings → Email → Domains. Once they're verified, usually "
                "within an hour, replies are sent from your address.",
            ),
            Topic(
                "Migrating from our old helpdesk",
                "We're moving from another helpdesk tool with about {number} old tickets. Can we bring them along?",
                "Send us an export from the old tool (CSV or JSON) and we'll run the migration on a test copy first, "
                "so you can check the result before we import it.",
            ),
            Topic(
                "Which plan fits a team of 12?",
                "We're a team of 12 and need business hours and reporting. Which plan should we choose?",
                "The Team plan fits best for 12 agents with business hours and reporting. I've extended your trial by "
                "a week so you can try the reports.",
            ),
            Topic(
                "Can we extend our trial?",
                "Our trial ends on Friday, but half the team was on holiday. Could we get a little more time?",
                "I've extended your trial by 14 days. Your settings and test tickets stay as they are when you "
                "upgrade.",
            ),
            Topic(
                "Setting up business hours and holidays",
                "Our office is open 9–17 on weekdays. How do we make response times count only those hours?",
                "Create a business calendar under Settings → Calendars with your opening hours and country holidays, "
                "then choose it in each queue. Reports then count business hours only.",
            ),
        ),
        questions=(
            "Could you tell us how many people will use the account and which plan you're on?",
            "Could you send us a few sample rows of the file (without real customer data)?",
            "Which date and time would suit your team best?",
        ),
        notes=(
            "Customer is in the trial, a good candidate for the Team plan.",
            "Sales already promised a free training session, see the CRM note.",
            "Migration test run done, 3 tickets with broken attachments; mention it in the reply.",
        ),
        hold_reply="I've asked our migration team to prepare this; they need a couple of days. I'm keeping the ticket "
        "on hold until then and will update you here.",
    ),
)

ACKS = (
    "Thanks for reaching out. We're looking into it and will get back to you shortly.",
    "Thanks, I've got your message and I'm checking this with the team now.",
)
DUPLICATE_REPLY = (
    "It looks like this request reached us twice; we'll continue in your other ticket, so I'm closing this one."
)
REOPEN_REPLIES = (
    "Thanks for letting us know. Something on our side undid the earlier fix; it's corrected again now.",
    "Sorry about that! I've had another look and fixed the remaining part as well.",
)
CUSTOMER_DETAILS = (
    "Sure, here you go: it happened yesterday around 3 pm, screenshot attached.",
    "Here are the details you asked for. Let me know if you need anything else.",
    "I've checked again, see the information below. Hope that helps!",
)
CUSTOMER_NUDGES = (
    "Any news on this? It's blocking our team.",
    "Just checking in: is there an update?",
)
CUSTOMER_THANKS = (
    "That worked, thank you so much!",
    "Perfect, everything looks right now. Thanks for the quick help!",
    "Great, thanks. You can close this.",
)
CUSTOMER_REOPENS = (
    "Sorry to come back to this, but the problem is back since this morning.",
    "This worked for a few days, but now we see the same thing again.",
)
SPAM = (
    Topic("Boost your website traffic by 300%!!!", "Dear Sir/Madam, we offer guaranteed first-page rankings.", ""),
    Topic("Business proposal: urgent and confidential", "I have a lucrative proposal for you. Reply for details.", ""),
    Topic("Your mailbox is almost full", "Click the link below within 24 hours to keep receiving email.", ""),
)
FIRST_NAMES = (
    "Anna", "Ben", "Chloé", "David", "Elif", "Felix", "Grace", "Hannah", "Ibrahim", "Julia", "Kenji", "Lena",
    "Marco", "Nora", "Oliver", "Paula", "Rafael", "Sara", "Tobias", "Uma", "Viktor", "Wei", "Yasmin", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Almeida", "Bauer", "Costa", "Dubois", "Evans", "Fontaine", "García", "Hansen", "Ito", "Jansen", "Kowalski",
    "Lindqvist", "Meyer", "Novak", "O'Brien", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Ujvári", "Vogel",
)  # fmt: skip
MAIL_DOMAINS = ("northwind.example", "globex.example", "initech.example", "umbrella.example", "example.com")
ASCII = str.maketrans({"é": "e", "í": "i", "á": "a", "'": ""})

# --- desk setup: calendar, queues, agents, admin, customers (get-or-create: never changes what exists) ------------


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


# --- one ticket's life, replayed with the services' rules ---------------------------------------------------------


class Timeline:
    """A ticket with its messages and events, built in memory exactly as tickets.services would write them.

    Each method mirrors one service (same events, status moves, counters; metrics stored on close and reopen), at the
    given time instead of timezone.now(). Times never go backwards.
    """

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        self.messages: list[Message] = []
        self.events: list[TicketEvent] = []
        self.now = ticket.created_at

    # ticket_create; the created event's value (the reference) needs the pk: `Timeline.saved` fills it in.
    def create(self, *, by: User | None, body: str) -> None:
        self._record(by=by, kind=TicketEvent.Kind.CREATED)
        self._message(kind=Message.Kind.CUSTOMER_MESSAGE, body=body, customer=self.ticket.customer)
        self._record(by=by, kind=TicketEvent.Kind.MESSAGE, new=Message.Kind.CUSTOMER_MESSAGE)

    def customer_message(self, *, body: str, at: datetime) -> None:
        self._advance(at)
        self._message(kind=Message.Kind.CUSTOMER_MESSAGE, body=body, customer=self.ticket.customer)
        self._record(by=None, kind=TicketEvent.Kind.MESSAGE, new=Message.Kind.CUSTOMER_MESSAGE)
        if self.ticket.status == Status.CLOSED:
            self._set_status(Status.OPEN, by=None)  # services._reopen
            self.ticket.close_reason, self.ticket.closed_at = "", None
            self._store_metrics()
            return
        if self.ticket.status == Status.PENDING:
            self._set_status(Status.OPEN, by=None)
        self.ticket.updated_at = self.now

    def agent_message(self, *, kind: Message.Kind, by: User, body: str, at: datetime) -> None:
        if kind == Message.Kind.PUBLIC_REPLY and self.ticket.status == Status.CLOSED:
            raise ValueError("A closed ticket takes no public reply.")
        self._advance(at)
        self._message(kind=kind, body=body, user=by)
        self._record(by=by, kind=TicketEvent.Kind.MESSAGE, new=kind)
        if kind == Message.Kind.PUBLIC_REPLY:
            self.ticket.public_reply_count += 1
            if self.ticket.first_replied_at is None:
                self.ticket.first_replied_at = self.now
            if self.ticket.status == Status.NEW:
                self._set_status(Status.OPEN, by=by)
        self.ticket.updated_at = self.now

    def assign(self, *, assignee: User, by: User, at: datetime) -> None:
        if assignee == self.ticket.assignee:
            return
        self._advance(at)
        old = self.ticket.assignee.get_username() if self.ticket.assignee else ""
        self._record(by=by, kind=TicketEvent.Kind.ASSIGNEE, old=old, new=assignee.get_username())
        self.ticket.assignee = assignee
        self.ticket.updated_at = self.now

    def set_priority(self, *, priority: Priority, by: User, at: datetime) -> None:
        if priority == self.ticket.priority:
            return
        self._advance(at)
        self._record(by=by, kind=TicketEvent.Kind.PRIORITY, old=self.ticket.priority, new=priority)
        self.ticket.priority = priority
        self.ticket.updated_at = self.now

    def set_status(self, *, status: Status, by: User, at: datetime) -> None:
        if self.ticket.status in (status, Status.CLOSED) or status in (Status.NEW, Status.CLOSED):
            raise ValueError(f"Cannot set status {status} on a {self.ticket.status} ticket.")
        self._advance(at)
        self._set_status(status, by=by)

    def close(self, *, reason: CloseReason, by: User | None, at: datetime) -> None:
        if self.ticket.status == Status.CLOSED:
            raise ValueError("The ticket is closed already.")
        self._advance(at)
        self._set_status(Status.CLOSED, by=by)
        self.ticket.close_reason, self.ticket.closed_at = reason, self.now
        self._store_metrics()

    def saved(self) -> None:
        """Once the ticket has its pk: the created event carries the reference."""
        self.events[0].new_value = self.ticket.reference

    def _advance(self, at: datetime) -> None:
        self.now = max(self.now, at)

    def _record(self, *, by: User | None, kind: str, old: str = "", new: str = "") -> None:
        self.events.append(
            TicketEvent(ticket=self.ticket, actor=by, kind=kind, old_value=old, new_value=new, at=self.now)
        )

    def _message(
        self, *, kind: Message.Kind, body: str, user: User | None = None, customer: Customer | None = None
    ) -> None:
        self.messages.append(
            Message(
                ticket=self.ticket,
                kind=kind,
                author_user=user,
                author_customer=customer,
                body=body,
                created_at=self.now,
            )
        )

    def _set_status(self, status: Status, *, by: User | None) -> None:
        self._record(by=by, kind=TicketEvent.Kind.STATUS, old=self.ticket.status, new=status)
        self.ticket.status = status
        self.ticket.status_changed_at = self.ticket.updated_at = self.now

    def _store_metrics(self) -> None:
        # Unsaved events sort by (at, 0), i.e. in list order on ties: the order their ids will have once saved.
        for name, value in metrics_compute(ticket=self.ticket, events=self.events, now=self.now).items():
            setattr(self.ticket, name, value)


# --- scenarios: how a ticket of each final state came about --------------------------------------------------------


class Script:
    """The people, texts and clock of one ticket; the steps scenarios are written in."""

    def __init__(
        self, *, rng: random.Random, dq: DeskQueue, customer: Customer, topic: Topic, created: datetime, now: datetime
    ) -> None:
        self.rng, self.dq, self.customer, self.topic = rng, dq, customer, topic
        self.deadline = now  # the real now: nothing may happen after it
        self.agent = rng.choice((dq.agent, dq.agent, dq.lead))  # agents take most tickets, the lead some
        self.values = {
            "amount": f"{rng.choice((19, 49, 99, 149, 490)):.2f}",
            "number": str(rng.randint(10_000, 99_999)),
        }
        priority = rng.choices(list(Priority), weights=(15, 60, 20, 5))[0]
        self.timeline = Timeline(
            Ticket(
                subject=self.text(topic.subject),
                queue=dq.queue,
                customer=customer,
                priority=priority,
                created_at=created,
                updated_at=created,
                status_changed_at=created,
            )
        )

    @property
    def now(self) -> datetime:
        return self.timeline.now

    def text(self, template: str) -> str:
        return template.format(**self.values)

    def agent_time(self, low_minutes: int, high_minutes: int) -> datetime:
        """When the agent acts next: working minutes of the queue's calendar from now."""
        seconds = self.rng.randint(low_minutes * 60, high_minutes * 60)
        return add_business_seconds(self.now, seconds, self.dq.calendar)

    def customer_time(self, low_hours: float, high_hours: float) -> datetime:
        return self.now + timedelta(seconds=self.rng.randint(int(low_hours * 3600), int(high_hours * 3600)))

    def moments_later(self) -> datetime:
        return self.now + timedelta(seconds=self.rng.randint(5, 120))

    # steps
    def opened(self, *, by_customer: bool = False) -> None:
        on_behalf = not by_customer and self.rng.random() < 0.15  # an agent entered it (a phone call, say)
        self.timeline.create(
            by=self.agent if on_behalf else None,
            body=f"Hello,\n\n{self.text(self.topic.opening)}\n\n{self.customer.name}",
        )

    def triage(self) -> None:
        by = self.dq.lead if self.rng.random() < 0.6 else self.agent  # the lead dispatches, or the agent takes it
        self.timeline.assign(assignee=self.agent, by=by, at=self.agent_time(5, 90))
        if self.rng.random() < 0.1:
            urgent = self.rng.choice((Priority.HIGH, Priority.URGENT))
            self.timeline.set_priority(priority=urgent, by=self.agent, at=self.moments_later())

    def reply(self, body: str, *, low: int = 10, high: int = 240) -> None:
        signed = f"Hi {self.customer.first_name},\n\n{self.text(body)}\n\nBest regards,\n{self.agent.first_name}"
        kind = Message.Kind.PUBLIC_REPLY
        self.timeline.agent_message(kind=kind, by=self.agent, body=signed, at=self.agent_time(low, high))

    def note(self) -> None:
        body = self.rng.choice(self.dq.spec.notes)
        self.timeline.agent_message(
            kind=Message.Kind.INTERNAL_NOTE, by=self.agent, body=body, at=self.agent_time(2, 60)
        )

    def customer_says(self, lines: Sequence[str], low_hours: float, high_hours: float) -> None:
        body = f"{self.rng.choice(lines)}\n\n{self.customer.first_name}"
        self.timeline.customer_message(body=body, at=self.customer_time(low_hours, high_hours))

    def status(self, status: Status) -> None:
        self.timeline.set_status(status=status, by=self.agent, at=self.moments_later())

    def ask_for_details(self) -> None:
        self.reply(self.rng.choice(self.dq.spec.questions))
        self.status(Status.PENDING)

    def close(self, reason: CloseReason) -> None:
        self.timeline.close(reason=reason, by=self.agent, at=self.moments_later())


def _work_to_solution(s: Script) -> None:
    s.triage()
    path = s.rng.random()
    if path < 0.3:  # the agent needs details first
        s.ask_for_details()
        s.customer_says(CUSTOMER_DETAILS, 1, 30)
        if s.rng.random() < 0.3:
            s.note()
    elif path < 0.45:  # waiting on a third party
        s.reply(s.dq.spec.hold_reply)
        s.note()
        s.status(Status.ON_HOLD)
        if s.rng.random() < 0.3:
            s.customer_says(CUSTOMER_NUDGES, 20, 60)
        s.timeline.set_status(status=Status.OPEN, by=s.agent, at=s.agent_time(6 * 60, 24 * 60))
    elif s.rng.random() < 0.25:
        s.note()
    s.reply(s.topic.answer)


def _solved(s: Script) -> None:
    s.opened()
    _work_to_solution(s)
    if s.rng.random() < 0.5:  # wait for the customer's confirmation
        s.status(Status.PENDING)
        s.customer_says(CUSTOMER_THANKS, 0.5, 48)
        s.timeline.close(reason=CloseReason.SOLVED, by=s.agent, at=s.agent_time(1, 120))
    else:
        s.close(CloseReason.SOLVED)


def _reopened(s: Script) -> None:
    _solved(s)
    s.customer_says(CUSTOMER_REOPENS, 12, 96)
    if s.rng.random() < 0.5:
        s.note()


def _solved_after_reopen(s: Script) -> None:
    _reopened(s)
    s.reply(s.rng.choice(REOPEN_REPLIES))
    s.close(CloseReason.SOLVED)


def _new(s: Script) -> None:
    s.opened()
    at = s.agent_time(5, 120)
    if s.rng.random() < 0.5 and at <= s.deadline:
        s.timeline.assign(assignee=s.agent, by=s.dq.lead, at=at)


def _open(s: Script) -> None:
    s.opened()
    s.triage()
    if s.rng.random() < 0.5:
        s.reply(s.rng.choice(s.dq.spec.questions))
        s.customer_says(CUSTOMER_DETAILS, 1, 24)
    else:
        s.reply(s.rng.choice(ACKS), low=5, high=60)
    if s.rng.random() < 0.4:
        s.note()


def _pending(s: Script) -> None:
    s.opened()
    s.triage()
    s.ask_for_details()


def _on_hold(s: Script) -> None:
    s.opened()
    s.triage()
    s.reply(s.dq.spec.hold_reply)
    s.note()
    s.status(Status.ON_HOLD)
    if s.rng.random() < 0.3:
        s.customer_says(CUSTOMER_NUDGES, 20, 60)


def _no_response(s: Script) -> None:
    s.opened()
    s.triage()
    s.ask_for_details()
    days = s.dq.queue.pending_autoclose_days
    if days:  # the beat task closes it (every 5 minutes), as the system
        at = s.now + timedelta(days=days, seconds=s.rng.randint(1, 300))
        s.timeline.close(reason=CloseReason.NO_RESPONSE, by=None, at=at)
    else:
        s.timeline.close(reason=CloseReason.NO_RESPONSE, by=s.agent, at=s.agent_time(10 * 8 * 60, 12 * 8 * 60))


def _duplicate(s: Script) -> None:
    s.opened()
    s.triage()
    s.reply(DUPLICATE_REPLY, low=5, high=60)
    s.close(CloseReason.DUPLICATE)


def _spam(s: Script) -> None:
    s.opened(by_customer=True)
    s.timeline.close(reason=CloseReason.SPAM, by=s.agent, at=s.agent_time(5, 180))


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: int  # share of the tickets
    age_hours: tuple[float, float]  # created this long ago (moved earlier if its story would end after now)
    play: Callable[[Script], None]
    spam: bool = False


SCENARIOS = (
    Scenario("new", 4, (0.2, 20), _new),
    Scenario("open", 8, (3, 5 * 24), _open),
    Scenario("pending", 6, (6, 4 * 24), _pending),  # pending for less than the autoclose limit (7 days)
    Scenario("on hold", 4, (24, 12 * 24), _on_hold),
    Scenario("reopened", 2, (3 * 24, 14 * 24), _reopened),
    Scenario("solved", 58, (24, DAYS * 24), _solved),
    Scenario("solved after a reopen", 5, (3 * 24, DAYS * 24), _solved_after_reopen),
    Scenario("no response", 6, (9 * 24, DAYS * 24), _no_response),
    Scenario("duplicate", 4, (24, DAYS * 24), _duplicate),
    Scenario("spam", 3, (24, DAYS * 24), _spam, spam=True),
)
SCENARIO_WEIGHTS = [scenario.weight for scenario in SCENARIOS]


def ticket_build(desk: Desk, *, seed: int, index: int, now: datetime) -> Timeline:
    """Demo ticket number `index`: the first len(SCENARIOS) play each scenario once, later ones are drawn by weight.

    A story that would end after `now` is replayed with the same draws, starting earlier.
    """
    shift = timedelta(0)
    for attempt in range(10):
        rng = random.Random(f"{seed}:{index}")  # noqa: S311 - demo data
        timeline = _play(desk, rng=rng, index=index, now=now, shift=shift)
        if timeline.now <= now:
            return timeline
        shift += timeline.now - now + timedelta(hours=2**attempt)
    raise RuntimeError(f"Demo ticket {index} does not fit before {now}.")


def _play(desk: Desk, *, rng: random.Random, index: int, now: datetime, shift: timedelta) -> Timeline:
    scenario = SCENARIOS[index] if index < len(SCENARIOS) else rng.choices(SCENARIOS, weights=SCENARIO_WEIGHTS)[0]
    dq = rng.choices(desk.queues, weights=[dq.spec.weight for dq in desk.queues])[0]
    topic = rng.choice(SPAM if scenario.spam else dq.spec.topics)
    created = _created_at(rng, now, *scenario.age_hours) - shift
    script = Script(rng=rng, dq=dq, customer=rng.choice(desk.customers), topic=topic, created=created, now=now)
    scenario.play(script)
    return script.timeline


def _created_at(rng: random.Random, now: datetime, low_hours: float, high_hours: float) -> datetime:
    at = now - timedelta(hours=rng.uniform(low_hours, high_hours))
    if high_hours > 48:  # over longer spans: customers write mostly in the (European) daytime
        at = at.replace(hour=0, minute=0, second=0) + timedelta(hours=rng.triangular(5, 21, 10))
    return at.replace(microsecond=0)


# --- writing ---------------------------------------------------------------------------------------------------------

INSERT_BATCH = 1000  # rows per INSERT statement (Django lowers it where the database allows fewer parameters)


@dataclass(frozen=True)
class Written:
    tickets: int
    messages: int
    events: int

    def __add__(self, other: Written) -> Written:
        return Written(self.tickets + other.tickets, self.messages + other.messages, self.events + other.events)


def tickets_create(desk: Desk, *, seed: int, indexes: range, now: datetime) -> Written:
    """Build demo tickets `indexes` and insert them, their messages and events in one transaction."""
    timelines = sorted(
        (ticket_build(desk, seed=seed, index=index, now=now) for index in indexes),
        key=lambda timeline: timeline.ticket.created_at,  # references (pks) follow creation within a batch
    )
    messages = [message for timeline in timelines for message in timeline.messages]
    events = [event for timeline in timelines for event in timeline.events]
    with transaction.atomic():
        Ticket.objects.bulk_create([timeline.ticket for timeline in timelines], batch_size=INSERT_BATCH)
        for timeline in timelines:
            if timeline.ticket.pk is None:
                raise RuntimeError("bulk_create returned no primary keys: this database is not supported.")
            timeline.saved()
        Message.objects.bulk_create(messages, batch_size=INSERT_BATCH)
        TicketEvent.objects.bulk_create(events, batch_size=INSERT_BATCH)
    return Written(tickets=len(timelines), messages=len(messages), events=len(events))
