"""Reads of the surveys app: who sees which follow-ups and invitations, and the feedback figures.

Permissions build on tickets.selectors (queue membership is the one rule): an agent sees their queues; a lead also
sees their team's feedback and every follow-up of the queues they lead; an admin sees everything.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Aggregate, Avg, Case, Count, FloatField, IntegerField, Q, QuerySet, TextField, Value, When
from django.utils import timezone
from typing_extensions import TypeIs

from tickets.models import CloseReason, Queue, QueueMembership, Ticket
from tickets.selectors import queues_visible_to, tickets_visible_to

from .models import FollowUp, SurveyInvitation, SurveyResponse

UserLike = User | AnonymousUser
OPEN_FOLLOWUP_STATUSES = (FollowUp.Status.OPEN, FollowUp.Status.CONTACTED)
DUE_SOON = timedelta(hours=4)


def _active(user: UserLike) -> TypeIs[User]:
    return isinstance(user, User) and user.is_active


# --- permissions ------------------------------------------------------------------------------------------------


def queues_led_by(user: UserLike) -> QuerySet[Queue]:
    """Queues where the user is a lead (admins: every queue)."""
    if not _active(user):
        return Queue.objects.none()
    if user.is_superuser:
        return Queue.objects.all()
    return Queue.objects.filter(
        pk__in=QueueMembership.objects.filter(user_id=user.pk, role=QueueMembership.Role.LEAD).values("queue_id")
    )


def user_is_lead(user: UserLike) -> bool:
    """Admins and leads of at least one queue (one query, none for admins)."""
    if not _active(user):
        return False
    return bool(user.is_superuser) or queues_led_by(user).exists()


def followups_visible_to(user: UserLike) -> QuerySet[FollowUp]:
    """Admins all; a lead every follow-up of the queues they lead; an agent the ones they own in their queues
    plus the unassigned ones of their queues."""
    if not _active(user):
        return FollowUp.objects.none()
    if user.is_superuser:
        return FollowUp.objects.all()
    member_queues = queues_visible_to(user).values("pk")
    led_queues = queues_led_by(user).values("pk")
    return FollowUp.objects.filter(
        Q(queue_id__in=led_queues) | (Q(queue_id__in=member_queues) & (Q(owner_id=user.pk) | Q(owner__isnull=True)))
    )


def invitations_visible_to(user: UserLike) -> QuerySet[SurveyInvitation]:
    """Invitations whose queue snapshot is one of the user's queues (admins all)."""
    if not _active(user):
        return SurveyInvitation.objects.none()
    if user.is_superuser:
        return SurveyInvitation.objects.all()
    return SurveyInvitation.objects.filter(queue_id__in=queues_visible_to(user).values("pk"))


def team_agents_visible_to(user: UserLike) -> QuerySet[User]:
    """Agents whose feedback the user may open: members of the queues they lead (admins: every queue member)."""
    if not _active(user):
        return User.objects.none()
    memberships = QueueMembership.objects.all()
    if not user.is_superuser:
        memberships = memberships.filter(queue_id__in=queues_led_by(user).values("pk"))
    return User.objects.filter(pk__in=memberships.values("user_id"), is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def agent_feedback_invitations(*, viewer: UserLike, agent_id: int) -> QuerySet[SurveyInvitation] | None:
    """The invitations whose figures `viewer` may see as `agent_id`'s feedback (None: not allowed): your own all of
    them; a lead a team member's in the queues they lead only; an admin anyone's. UI and API both ask here."""
    if not _active(viewer):
        return None
    invitations = SurveyInvitation.objects.filter(agent_id=agent_id)
    if agent_id == viewer.pk or viewer.is_superuser:
        return invitations
    if not team_agents_visible_to(viewer).filter(pk=agent_id).exists():
        return None
    return invitations.filter(queue_id__in=queues_led_by(viewer).values("pk"))


def followup_assignees(*, followup: FollowUp) -> QuerySet[User]:
    """Who a follow-up can be reassigned to: the active members of its queue."""
    return User.objects.filter(
        is_active=True, pk__in=QueueMembership.objects.filter(queue_id=followup.queue_id).values("user_id")
    ).order_by("first_name", "last_name", "username")


# --- feedback figures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackStats:
    invitations_sent: int
    responses: int
    csat_responses: int
    csat_satisfied: int
    csat_satisfied_pct: float | None  # satisfied (4–5) / CSAT responses, 0–100
    csat_mean: float | None
    ces_responses: int
    ces_agree: int
    ces_mean: float | None
    ces_agree_pct: float | None  # agree (5–7) / CES responses, 0–100
    response_rate: float | None  # responses / invitations emailed in the period, 0–100
    min_sample: int
    enough: bool  # responses >= FEEDBACK_MIN_SAMPLE: below it the UI shows no percentages

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FeedbackStats:
        sent, responses = row["sent"] or 0, row["responses"] or 0
        csat_n, ces_n = row["csat_n"] or 0, row["ces_n"] or 0
        min_sample = min_feedback_sample()
        return cls(
            invitations_sent=sent,
            responses=responses,
            csat_responses=csat_n,
            csat_satisfied=row["csat_sat"] or 0,
            csat_satisfied_pct=_pct(row["csat_sat"], csat_n),
            csat_mean=row["csat_mean"],
            ces_responses=ces_n,
            ces_agree=row["ces_agree"] or 0,
            ces_mean=row["ces_mean"],
            ces_agree_pct=_pct(row["ces_agree"], ces_n),
            response_rate=_pct(responses, sent),
            min_sample=min_sample,
            enough=responses >= min_sample,
        )


def min_feedback_sample() -> int:
    return int(getattr(settings, "FEEDBACK_MIN_SAMPLE", 10))


def _pct(part: int | None, whole: int | None) -> float | None:
    return round(100.0 * (part or 0) / whole, 1) if whole else None


# A response counts when it is not a link scanner's burst; scores are counted where they were given. The invitation
# holds a copy of its counted response's scores (answer_counted / answer_csat / answer_ces, kept by
# SurveyResponse.save()), so every figure below reads the invitations alone — through a covering index — with no join.


def _stats_aggregates() -> dict[str, Any]:
    """The aggregate expressions of FeedbackStats over invitations. Each reads only columns of the stats indexes."""
    return {
        "sent": Count("*"),
        "responses": Count("answer_counted", filter=Q(answer_counted=True)),
        "csat_n": Count("answer_csat"),
        "csat_sat": Count("answer_csat", filter=Q(answer_csat__gte=4)),
        "csat_mean": Avg("answer_csat"),
        "ces_n": Count("answer_ces"),
        "ces_agree": Count("answer_ces", filter=Q(answer_ces__gte=5)),
        "ces_mean": Avg("answer_ces"),
    }


def _sent_between(invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime) -> QuerySet:
    """Invitations emailed in [start, end): the response rate's denominator is by sent_at, not by current status."""
    return invitations.filter(sent_at__gte=start, sent_at__lt=end)


def feedback_stats(*, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime) -> FeedbackStats:
    """Figures of the invitations emailed in [start, end) and their responses — one aggregate query."""
    row = _sent_between(invitations, start, end).order_by().aggregate(**_stats_aggregates())
    return FeedbackStats.from_row(row)


def feedback_for_agent(*, agent_id: int, start: datetime, end: datetime) -> FeedbackStats:
    """By the invitation's agent snapshot: later reassignment never moves a rating."""
    return feedback_stats(invitations=SurveyInvitation.objects.filter(agent_id=agent_id), start=start, end=end)


def feedback_for_queue(*, queue_id: int, start: datetime, end: datetime) -> FeedbackStats:
    return feedback_stats(invitations=SurveyInvitation.objects.filter(queue_id=queue_id), start=start, end=end)


def feedback_stats_by_agent(
    *, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime
) -> dict[int | None, FeedbackStats]:
    """FeedbackStats per agent snapshot — one grouped query whatever the number of agents."""
    rows = _sent_between(invitations, start, end).order_by().values("agent_id").annotate(**_stats_aggregates())
    return {row["agent_id"]: FeedbackStats.from_row(row) for row in rows}


def feedback_stats_by_queue(
    *, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime
) -> dict[int, FeedbackStats]:
    """FeedbackStats per queue snapshot — one grouped query."""
    rows = _sent_between(invitations, start, end).order_by().values("queue_id").annotate(**_stats_aggregates())
    return {row["queue_id"]: FeedbackStats.from_row(row) for row in rows}


_STAT_COUNTS = ("sent", "responses", "csat_n", "csat_sat", "ces_n", "ces_agree")
_STAT_MEANS = {"csat_mean": "csat_n", "ces_mean": "ces_n"}  # a mean and the count it is taken over


def _rows_added(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate rows of _stats_aggregates added up: counts summed, means weighted by the count they are over."""
    total: dict[str, Any] = {key: sum(row[key] or 0 for row in rows) for key in _STAT_COUNTS}
    for mean, count in _STAT_MEANS.items():
        weighted = sum((row[mean] or 0) * (row[count] or 0) for row in rows if row[mean] is not None)
        total[mean] = weighted / total[count] if total[count] else None
    return total


@dataclass(frozen=True)
class FeedbackRollup:
    total: FeedbackStats
    by_agent: dict[int | None, FeedbackStats]
    by_queue: dict[int, FeedbackStats]


def feedback_stats_rollup(*, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime) -> FeedbackRollup:
    """FeedbackStats in total, per agent snapshot and per queue snapshot — one query grouped by (agent, queue)."""
    rows = list(
        _sent_between(invitations, start, end).order_by().values("agent_id", "queue_id").annotate(**_stats_aggregates())
    )
    by_agent: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    by_queue: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_agent[row["agent_id"]].append(row)
        by_queue[row["queue_id"]].append(row)
    return FeedbackRollup(
        total=FeedbackStats.from_row(_rows_added(rows)),
        by_agent={key: FeedbackStats.from_row(_rows_added(group)) for key, group in by_agent.items()},
        by_queue={key: FeedbackStats.from_row(_rows_added(group)) for key, group in by_queue.items()},
    )


def feedback_stats_with_distributions(
    *, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime
) -> tuple[FeedbackStats, list[tuple[int, int]], list[tuple[int, int]]]:
    """FeedbackStats and the CSAT (1–5) and CES (1–7) score counts, as score_distribution gives them — one query."""
    scores = {f"csat_{n}": Count("answer_csat", filter=Q(answer_csat=n)) for n in range(1, 6)}
    scores |= {f"ces_{n}": Count("answer_ces", filter=Q(answer_ces=n)) for n in range(1, 8)}
    row = _sent_between(invitations, start, end).order_by().aggregate(**_stats_aggregates(), **scores)
    csat = [(n, row[f"csat_{n}"] or 0) for n in range(1, 6)]
    ces = [(n, row[f"ces_{n}"] or 0) for n in range(1, 8)]
    return FeedbackStats.from_row(row), csat, ces


@dataclass(frozen=True)
class WeekPoint:
    week: datetime  # Monday 00:00 (UTC) of the week
    stats: FeedbackStats


def weekly_feedback(*, invitations: QuerySet[SurveyInvitation], weeks: int = 12, now: datetime | None = None) -> list:
    """The last `weeks` ISO weeks (oldest first, empty weeks included) — one grouped query."""
    now = now or timezone.now()
    this_monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    first = this_monday - timedelta(weeks=weeks - 1)
    # The week of each row as a CASE over the week boundaries: plain comparisons, which SQLite runs much faster
    # than TruncWeek (a Python function called per row there), nested as a binary search (4 comparisons per row for
    # 15 weeks instead of up to 15).
    mondays = [first + timedelta(weeks=i) for i in range(weeks + 1)]
    week_index = _week_of(mondays, 0, weeks)
    rows = (
        _sent_between(invitations, first, mondays[-1])
        .order_by()
        .annotate(week=week_index)
        .values("week")
        .annotate(**_stats_aggregates())
    )
    by_week = {mondays[row["week"]].date(): FeedbackStats.from_row(row) for row in rows}
    empty = FeedbackStats.from_row(
        dict.fromkeys(("sent", "responses", "csat_n", "csat_sat", "csat_mean", "ces_n", "ces_agree", "ces_mean"))
    )
    points = []
    for i in range(weeks):
        monday = first + timedelta(weeks=i)
        points.append(WeekPoint(week=monday, stats=by_week.get(monday.date(), empty)))
    return points


def _week_of(mondays: list[datetime], low: int, high: int) -> Any:
    """The index i (low <= i < high) with mondays[i] <= sent_at < mondays[i + 1], for a row in that range."""
    if high - low == 1:
        return Value(low, output_field=IntegerField())
    middle = (low + high) // 2
    return Case(
        When(sent_at__lt=mondays[middle], then=_week_of(mondays, low, middle)),
        default=_week_of(mondays, middle, high),
        output_field=IntegerField(),
    )


def score_distribution(
    *, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime, field: str, scale: int
) -> list[tuple[int, int]]:
    """[(score, count), …] for 1..scale of `field` ("csat" or "ces") — one grouped query."""
    if field not in ("csat", "ces"):
        raise ValueError(field)
    column = f"answer_{field}"  # the counted response's score (NULL: no counted response, or not answered)
    rows = (
        _sent_between(invitations, start, end)
        .filter(**{f"{column}__isnull": False})
        .order_by()
        .values(column)
        .annotate(n=Count("*"))
    )
    counts = {row[column]: row["n"] for row in rows}
    return [(score, counts.get(score, 0)) for score in range(1, scale + 1)]


def latest_comments(
    *, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime, limit: int = 10
) -> QuerySet[SurveyResponse]:
    latest = (
        SurveyResponse.objects.filter(
            # answer_commented (counted, with a comment) is in the agent stats index: only those responses are read
            invitation__in=_sent_between(invitations, start, end).filter(answer_commented=True).values("pk"),
            flagged_automated=False,
        )
        .exclude(comment="")
        .order_by("-updated_at", "-id")
        .values("pk")[:limit]
    )
    # Still one query: the `limit` newest are picked in a subquery first, so only they are joined to their ticket and
    # customer (a join before the sort would read the ticket and customer of every commented response).
    return (
        SurveyResponse.objects.filter(pk__in=latest)
        .select_related("invitation__ticket", "invitation__customer")
        .order_by("-updated_at", "-id")
    )


def responses_for_export(*, user: UserLike) -> QuerySet[SurveyResponse]:
    return (
        SurveyResponse.objects.filter(invitation__in=invitations_visible_to(user).values("pk"))
        .select_related("invitation__ticket", "invitation__customer", "invitation__agent", "invitation__queue")
        .order_by("-answered_at", "-id")
    )


# --- follow-up lists ----------------------------------------------------------------------------------------------


def followups_open(followups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    return (
        followups.filter(status__in=OPEN_FOLLOWUP_STATUSES)
        .select_related("ticket", "queue", "owner", "invitation__customer", "invitation__response")
        .order_by("due_at", "id")
    )


def followups_for_owner(*, user: UserLike) -> QuerySet[FollowUp]:
    return followups_open(followups_visible_to(user).filter(owner_id=user.pk))


def followups_for_team(*, user: UserLike) -> QuerySet[FollowUp]:
    """Leads and admins: every open follow-up they can see; agents: the unassigned ones of their queues."""
    visible = followups_visible_to(user)
    if not user_is_lead(user):
        visible = visible.filter(owner__isnull=True)
    return followups_open(visible)


# --- team dashboard -----------------------------------------------------------------------------------------------


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median, computed in the database."""

    function = "PERCENTILE_CONT"
    name = "median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class _ConcatValues(Aggregate):
    """SQLite's group_concat: a group's non-null values as one comma-separated text."""

    function = "GROUP_CONCAT"
    name = "concat_values"
    output_field = TextField()


@dataclass(frozen=True)
class AgentRow:
    agent: User
    tickets_closed: int
    median_first_reply: float | None  # seconds
    median_resolution: float | None  # seconds
    feedback: FeedbackStats | None
    followups_open: int
    followups_overdue: int


def _closed_tickets(user: UserLike, start: datetime, end: datetime, *, queue_ids: list[int]) -> QuerySet[Ticket]:
    return tickets_visible_to(user).filter(queue_id__in=queue_ids, closed_at__gte=start, closed_at__lt=end)


def ticket_metrics_by_agent(*, tickets: QuerySet[Ticket]) -> dict[int | None, dict[str, Any]]:
    """Closed count and median first reply / resolution per assignee — one query (Postgres medians in SQL)."""
    return _ticket_metrics(tickets=tickets)[0]


def _ticket_metrics(
    *, tickets: QuerySet[Ticket]
) -> tuple[dict[int | None, dict[str, Any]], dict[str, float | None] | None]:
    """Per assignee as ticket_metrics_by_agent, and on SQLite the overall medians from the same rows (on Postgres
    None: _overall_medians asks the database)."""
    tickets = tickets.order_by()
    solved = Q(close_reason=CloseReason.SOLVED)
    if connection.vendor == "postgresql":
        rows = tickets.values("assignee_id").annotate(
            closed=Count("*"),  # not COUNT(id): every column read is in ticket_queue_closed_metrics (index-only)
            first_reply=Median("first_reply_seconds", filter=solved),
            resolution=Median("resolution_seconds", filter=solved),
        )
        return {row["assignee_id"]: row for row in rows}, None
    # SQLite fallback: one query (read from ticket_queue_closed_metrics alone) gives per assignee the count and the
    # solved tickets' values as one comma-separated text each — 3 rows instead of ~34k row tuples — medians in Python.
    rows = tickets.values("assignee_id").annotate(
        closed=Count("*"),
        first_reply=_ConcatValues("first_reply_seconds", filter=solved),
        resolution=_ConcatValues("resolution_seconds", filter=solved),
    )
    out: dict[int | None, dict[str, Any]] = {}
    every: dict[str, list[int]] = {"first_reply": [], "resolution": []}
    for row in rows:
        for key, found in every.items():
            values = list(map(int, row[key].split(","))) if row[key] else []
            row[key] = float(statistics.median(values)) if values else None
            found += values
        out[row["assignee_id"]] = row
    overall = {key: float(statistics.median(found)) if found else None for key, found in every.items()}
    return out, overall


def followup_counts_by_owner(*, followups: QuerySet[FollowUp], now: datetime) -> dict[int | None, dict[str, int]]:
    open_ = Q(status__in=OPEN_FOLLOWUP_STATUSES)
    rows = (
        followups.order_by()
        .values("owner_id")
        .annotate(open=Count("pk", filter=open_), overdue=Count("pk", filter=open_ & Q(due_at__lt=now)))
    )
    return {row["owner_id"]: {"open": row["open"], "overdue": row["overdue"]} for row in rows}


@dataclass(frozen=True)
class TeamDashboard:
    rows: list[AgentRow]
    totals: AgentRow | None
    queues: list[Queue]
    queue_feedback: dict[int, FeedbackStats]  # FeedbackStats per led queue (absent: no invitation emailed)


def team_dashboard(*, user: UserLike, start: datetime, end: datetime, now: datetime | None = None) -> TeamDashboard:
    """Per-agent figures of the queues the user leads (admins: all). A fixed number of queries, whatever the size."""
    now = now or timezone.now()
    # The led queues' ids as values, not a subquery: the planners then estimate the rows of each queue and read the
    # covering indexes (closed tickets, invitations).
    queues = list(queues_led_by(user).order_by("name"))
    led = [queue.pk for queue in queues]
    agents = list(team_agents_visible_to(user))
    invitations = invitations_visible_to(user).filter(queue_id__in=led)
    followups = followups_visible_to(user).filter(queue_id__in=led)
    tickets = _closed_tickets(user, start, end, queue_ids=led)

    metrics, overall = _ticket_metrics(tickets=tickets)
    rollup = feedback_stats_rollup(invitations=invitations, start=start, end=end)
    feedback = rollup.by_agent
    counts = followup_counts_by_owner(followups=followups, now=now)
    rows = [
        AgentRow(
            agent=agent,
            tickets_closed=metrics.get(agent.pk, {}).get("closed", 0),
            median_first_reply=metrics.get(agent.pk, {}).get("first_reply"),
            median_resolution=metrics.get(agent.pk, {}).get("resolution"),
            feedback=feedback.get(agent.pk),
            followups_open=counts.get(agent.pk, {}).get("open", 0),
            followups_overdue=counts.get(agent.pk, {}).get("overdue", 0),
        )
        for agent in agents
    ]
    all_closed = sum(row["closed"] for row in metrics.values())
    # The per-owner rows cover every follow-up (unassigned ones under None): their sums are the totals.
    total_counts = {key: sum(row[key] for row in counts.values()) for key in ("open", "overdue")}
    if overall is None:
        overall = _overall_medians(tickets)
    totals = AgentRow(
        agent=User(username="All agents"),
        tickets_closed=all_closed,
        median_first_reply=overall["first_reply"],
        median_resolution=overall["resolution"],
        feedback=rollup.total,
        followups_open=total_counts["open"],
        followups_overdue=total_counts["overdue"],
    )
    return TeamDashboard(rows=rows, totals=totals, queues=queues, queue_feedback=rollup.by_queue)


def _overall_medians(tickets: QuerySet[Ticket]) -> dict[str, float | None]:
    solved = tickets.order_by().filter(close_reason=CloseReason.SOLVED)
    if connection.vendor == "postgresql":
        return solved.aggregate(first_reply=Median("first_reply_seconds"), resolution=Median("resolution_seconds"))
    out: dict[str, float | None] = {}
    pairs = list(solved.values_list("first_reply_seconds", "resolution_seconds"))
    for index, key in enumerate(("first_reply", "resolution")):
        found: list[int] = [value for pair in pairs if (value := pair[index]) is not None]
        out[key] = float(statistics.median(found)) if found else None
    return out
