"""Every demo seeder writes data that obeys the rules real data obeys.

Each management command of the demo app named `seed_*` runs at a small size (a new seeder is picked up by its
name), then every ticket it wrote is checked against its own stored events with the rules of tickets.transitions
and tickets.metrics, and the survey rows are checked over the whole data set.

A check is a small function that yields what is wrong (nothing when all is well): a ticket check takes one
`Stored` ticket, a data check takes nothing. To add one, write it and list it in TICKET_CHECKS or DATA_CHECKS.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command, get_commands
from django.db.models import Count
from django.utils import timezone

from surveys.models import FollowUp, SurveyInvitation, SurveyPolicy, SurveyResponse, TicketRating
from surveys.rules import answer_is_poor, invitation_answer_copy, ticket_rating_copy
from surveys.services import survey_policy_get_or_create
from tickets.calendar import CalendarSpec
from tickets.metrics import DURATION_FIELDS, metrics_compute
from tickets.models import Message, Queue, SlaPolicy, SlaTarget, Status, Ticket, TicketEvent
from tickets.sla.services import sla_refresh
from tickets.transitions import STATUS_MOVES

pytestmark = pytest.mark.django_db

SEEDERS = sorted(name for name, app in get_commands().items() if app == "demo" and name.startswith("seed_"))
SIZE = {"tickets": 300}  # the options each seeder runs with
SHOWN = 20  # problems listed when the test fails


@dataclass(frozen=True)
class Stored:
    """A seeded ticket as written: the row (with its assignee) and its events in order (time, then id)."""

    ticket: Ticket
    events: list[TicketEvent]
    calendar: CalendarSpec | None

    def of_kind(self, kind: str) -> list[TicketEvent]:
        return [event for event in self.events if event.kind == kind]

    @property
    def public_replies(self) -> list[TicketEvent]:
        return [e for e in self.of_kind(TicketEvent.Kind.MESSAGE) if e.new_value == Message.Kind.PUBLIC_REPLY]


# --- ticket checks ---------------------------------------------------------------------------------------------------


def check_created_event(s: Stored) -> Iterator[str]:
    first = s.events[0] if s.events else None
    if first is None or (first.kind, first.new_value, first.at) != ("created", s.ticket.reference, s.ticket.created_at):
        yield f"the first event is not 'created' with the reference at the creation time: {first}"


def check_status_history(s: Stored) -> Iterator[str]:
    """The status events, in order, walk the allowed moves from new to the stored status."""
    status, since = Status.NEW.value, s.ticket.created_at
    for event in s.of_kind(TicketEvent.Kind.STATUS):
        if event.old_value != status or event.new_value not in STATUS_MOVES[status]:
            yield f"status move {event.old_value} → {event.new_value} at {event.at} from {status}"
        status, since = event.new_value, event.at
    if (s.ticket.status, s.ticket.status_changed_at) != (status, since):
        yield f"status {s.ticket.status} since {s.ticket.status_changed_at}, the events say {status} since {since}"


def check_counters(s: Stored) -> Iterator[str]:
    replies = len(s.public_replies)
    reopens = sum(1 for e in s.of_kind(TicketEvent.Kind.STATUS) if e.old_value == Status.CLOSED)
    if (s.ticket.public_reply_count, s.ticket.reopen_count) != (replies, reopens):
        yield (
            f"public_reply_count {s.ticket.public_reply_count}, reopen_count {s.ticket.reopen_count}; "
            f"the events count {replies} public replies, {reopens} reopens"
        )


def check_reply_and_close_times(s: Stored) -> Iterator[str]:
    first_reply = s.public_replies[0].at if s.public_replies else None
    if s.ticket.first_replied_at != first_reply:
        yield f"first_replied_at {s.ticket.first_replied_at}, first public reply at {first_reply}"
    closes = [e for e in s.of_kind(TicketEvent.Kind.STATUS) if e.new_value == Status.CLOSED]
    closed_at = closes[-1].at if s.ticket.is_closed and closes else None
    if s.ticket.closed_at != closed_at or bool(s.ticket.close_reason) != s.ticket.is_closed:
        yield f"closed_at {s.ticket.closed_at} (reason {s.ticket.close_reason!r}), the latest close at {closed_at}"


def check_last_values(s: Stored) -> Iterator[str]:
    """Assignee and priority are the latest events' values; updated_at is the latest event's time."""
    assignee = s.ticket.assignee.get_username() if s.ticket.assignee else ""
    for kind, stored in ((TicketEvent.Kind.ASSIGNEE, assignee), (TicketEvent.Kind.PRIORITY, s.ticket.priority)):
        events = s.of_kind(kind)
        if events and events[-1].new_value != stored:
            yield f"{kind} {stored!r}, the latest {kind} event says {events[-1].new_value!r}"
    if s.events and s.ticket.updated_at != s.events[-1].at:
        yield f"updated_at {s.ticket.updated_at}, the latest event at {s.events[-1].at}"


def check_metrics(s: Stored) -> Iterator[str]:
    """The metrics stored by the latest close or reopen equal tickets.metrics on the events up to it."""
    stored = {name: getattr(s.ticket, name) for name in DURATION_FIELDS}
    storing = [
        i
        for i, e in enumerate(s.events)
        if e.kind == TicketEvent.Kind.STATUS and Status.CLOSED in (e.old_value, e.new_value)
    ]
    if not storing:
        if any(value is not None for value in stored.values()):
            yield f"metrics stored without a close: {stored}"
        return
    last = storing[-1]
    computed = metrics_compute(
        created_at=s.ticket.created_at,
        closed_at=s.ticket.closed_at if s.ticket.is_closed else None,
        events=s.events[: last + 1],
        now=s.events[last].at,
        calendar=s.calendar,
    )
    differ = {name: (value, computed[name]) for name, value in stored.items() if computed[name] != value}
    if differ:
        yield f"metrics (stored, computed) differ: {differ}"


TICKET_CHECKS: list[Callable[[Stored], Iterator[str]]] = [
    check_created_event,
    check_status_history,
    check_counters,
    check_reply_and_close_times,
    check_last_values,
    check_metrics,
]


# --- data checks -----------------------------------------------------------------------------------------------------


def check_one_invitation_per_round() -> Iterator[str]:
    repeated = (
        SurveyInvitation.objects.values("ticket", "round").annotate(n=Count("pk")).filter(n__gt=1).order_by("ticket")
    )
    for row in repeated:
        yield f"ticket {row['ticket']} has {row['n']} survey invitations in round {row['round']}"


def _answers() -> Iterator[tuple[SurveyInvitation, SurveyResponse | None, SurveyPolicy]]:
    """Every invitation with its response (None: unanswered) and its queue's policy."""
    policies: dict[int, SurveyPolicy] = {}
    for invitation in SurveyInvitation.objects.select_related("response").order_by("pk"):
        if invitation.queue_id not in policies:
            policies[invitation.queue_id] = survey_policy_get_or_create(queue_id=invitation.queue_id)
        response = getattr(invitation, "response", None)
        yield invitation, response, policies[invitation.queue_id]


def check_invitation_answer_copies() -> Iterator[str]:
    """The invitation's answer_* fields equal surveys.rules' copy of its response; unanswered ones hold nothing."""
    fields = ("answer_counted", "answer_csat", "answer_ces", "answer_commented")
    nothing = dict.fromkeys(fields, None) | {"answer_counted": False, "answer_commented": False}
    for invitation, response, _ in _answers():
        expected = (
            invitation_answer_copy(
                csat=response.csat, ces=response.ces, comment=response.comment, flagged=response.flagged_automated
            )
            if response is not None
            else nothing
        )
        stored = {name: getattr(invitation, name) for name in fields}
        if stored != expected:
            yield f"invitation {invitation.pk} copy {stored}, its response says {expected}"
        if (response is not None) != (invitation.status == SurveyInvitation.Status.ANSWERED):
            yield f"invitation {invitation.pk} is {invitation.status} with response {response}"


def check_ticket_ratings() -> Iterator[str]:
    """A ticket's TicketRating is the copy of its latest answered round's response; unanswered tickets have none."""
    latest: dict[int, tuple[SurveyInvitation, SurveyResponse, SurveyPolicy]] = {}
    for invitation, response, policy in _answers():
        if response is not None and invitation.round >= latest.get(invitation.ticket_id, (invitation,))[0].round:
            latest[invitation.ticket_id] = (invitation, response, policy)
    stored = {rating.ticket_id: rating for rating in TicketRating.objects.all()}
    for ticket_id in set(stored) - set(latest):
        yield f"ticket {ticket_id} has a rating and no answered survey"
    for ticket_id, (_, response, policy) in latest.items():
        rating = stored.get(ticket_id)
        expected = ticket_rating_copy(
            csat=response.csat, ces=response.ces, flagged=response.flagged_automated, policy=policy
        )
        expected["queue_id"] = Ticket.objects.values_list("queue_id", flat=True).get(pk=ticket_id)
        expected["rated_at"] = response.updated_at
        if rating is None or {name: getattr(rating, name) for name in expected} != expected:
            yield f"ticket {ticket_id} rating {rating}, its latest answer says {expected}"


def check_followups_follow_poor_answers() -> Iterator[str]:
    """A settled, counted, poor answer has its follow-up; a follow-up belongs to a poor answer."""
    followed = set(FollowUp.objects.values_list("invitation_id", flat=True))
    for invitation, response, policy in _answers():
        poor = (
            response is not None
            and response.settled_at is not None
            and not response.flagged_automated
            and answer_is_poor(csat=response.csat, ces=response.ces, policy=policy)
        )
        if poor != (invitation.pk in followed):
            yield f"invitation {invitation.pk}: poor settled answer {poor}, follow-up {invitation.pk in followed}"


SLA_FIELDS = (
    "kind", "started_at", "target_seconds", "business_hours", "warn_at_percent", "priority", "queue_id", "due_at",
    "warn_at", "result", "settled_at", "agent_id",
)  # fmt: skip
SLA_SAMPLE = 60  # tickets recomputed by sla_refresh


def _sla_rows(ticket: Ticket) -> list[dict[str, object]]:
    rows = SlaTarget.objects.filter(ticket=ticket).order_by("started_at", "kind")
    return [{name: getattr(row, name) for name in SLA_FIELDS} for row in rows]


def check_sla_targets_are_what_sla_refresh_computes() -> Iterator[str]:
    """A sample of tickets (every scenario's first, then spread over the rest): their targets deleted and recomputed
    by the service equal the seeded ones (the elapsed time of a running target aside: it depends on `now`)."""
    if not SlaPolicy.objects.exists():
        yield "no SLA policies were seeded"
    tickets = list(Ticket.objects.select_related("queue").order_by("pk"))
    sample = tickets[:12] + tickets[12 :: max(1, len(tickets) // SLA_SAMPLE)]
    for ticket in sample:
        seeded, due = _sla_rows(ticket), ticket.sla_due_at
        SlaTarget.objects.filter(ticket=ticket).delete()
        sla_refresh(ticket=ticket)
        computed = _sla_rows(ticket)
        if (seeded, due) != (computed, ticket.sla_due_at):
            yield f"{ticket.reference}: seeded {seeded} due {due}, sla_refresh: {computed} due {ticket.sla_due_at}"


def check_open_tickets_have_due_times_around_now() -> Iterator[str]:
    now = timezone.now()
    dues = list(Ticket.objects.filter(sla_due_at__isnull=False).values_list("sla_due_at", flat=True))
    if not dues or any(ticket_due is None for ticket_due in dues):
        yield "no open ticket has an SLA due time"
    if not any(due < now for due in dues) or not any(due > now + timedelta(hours=1) for due in dues):
        yield f"the due times are not spread around now: {sorted(dues)}"
    if Ticket.objects.filter(status=Status.CLOSED, sla_due_at__isnull=False).exists():
        yield "a closed ticket has an SLA due time"


DATA_CHECKS: list[Callable[[], Iterator[str]]] = [
    check_sla_targets_are_what_sla_refresh_computes,
    check_open_tickets_have_due_times_around_now,
    check_one_invitation_per_round,
    check_invitation_answer_copies,
    check_ticket_ratings,
    check_followups_follow_poor_answers,
]


# --- the test --------------------------------------------------------------------------------------------------------


def stored_tickets() -> Iterator[Stored]:
    calendars: dict[int, CalendarSpec | None] = {
        queue.pk: CalendarSpec.from_calendar(queue.business_calendar) if queue.business_calendar else None
        for queue in Queue.objects.select_related("business_calendar").prefetch_related(
            "business_calendar__working_hours", "business_calendar__holidays"
        )
    }
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in TicketEvent.objects.order_by("ticket_id", "at", "id"):
        events[event.ticket_id].append(event)
    for ticket in Ticket.objects.select_related("assignee").order_by("pk"):
        yield Stored(ticket=ticket, events=events[ticket.pk], calendar=calendars[ticket.queue_id])


def problems() -> Iterator[str]:
    for stored in stored_tickets():
        for check in TICKET_CHECKS:
            yield from (f"{stored.ticket.reference} {check.__name__}: {problem}" for problem in check(stored))
    for data_check in DATA_CHECKS:
        yield from (f"{data_check.__name__}: {problem}" for problem in data_check())


def test_there_is_a_seeder_to_check():
    assert "seed_demo" in SEEDERS


@pytest.mark.parametrize("command", SEEDERS)
def test_seeded_data_obeys_the_rules(command):
    call_command(command, stdout=StringIO(), **SIZE)
    assert Ticket.objects.count() >= SIZE["tickets"]

    found = list(problems())

    assert not found, f"{len(found)} problems, the first {SHOWN}:\n" + "\n".join(found[:SHOWN])
