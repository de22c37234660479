"""The team dashboard of a lead: per agent the closed tickets, median first reply and resolution, feedback figures,
SLA achievement and open/overdue follow-ups, and the same for "Unassigned or former agents" (no assignee, or one who is
no longer a member), so the rows add up to the total. Medians in the database on Postgres (percentile_cont); on SQLite
from one grouped query whose values come back as one text per agent."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Aggregate, Case, Count, F, FloatField, IntegerField, Q, QuerySet, TextField, Value, When
from django.utils import timezone

from common.users import UserLike
from tickets.models import CloseReason, Queue, Ticket
from tickets.selectors import tickets_visible_to
from tickets.sla.selectors import EMPTY as NO_SLA
from tickets.sla.selectors import Achievement, SlaAchievement, sla_achievement_rollup

from ..models import FollowUp
from .feedback import FeedbackStats, feedback_stats_rollup
from .followups import OPEN_FOLLOWUP_STATUSES
from .permissions import followups_visible_to, invitations_visible_to, queues_led_by, team_agents_visible_to


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
    sla: SlaAchievement  # targets settled in the period for this agent (None settled: "—")
    followups_open: int
    followups_overdue: int


def _closed_tickets(user: UserLike, start: datetime, end: datetime, *, queue_ids: list[int]) -> QuerySet[Ticket]:
    return tickets_visible_to(user).filter(queue_id__in=queue_ids, closed_at__gte=start, closed_at__lt=end)


def _ticket_metrics(
    *, tickets: QuerySet[Ticket], agent_ids: list[int]
) -> tuple[dict[int | None, dict[str, Any]], dict[str, float | None] | None]:
    """Closed count and median first reply / resolution per assignee among `agent_ids`, the others (no assignee, or
    not one of them) under None (one query), and on SQLite the overall medians from the same rows (on Postgres None:
    _overall_medians asks the database)."""
    nobody = Value(None, output_field=IntegerField())
    agent = Case(When(assignee_id__in=agent_ids, then=F("assignee_id")), default=nobody) if agent_ids else nobody
    tickets = tickets.order_by().annotate(agent=agent)
    solved = Q(close_reason=CloseReason.SOLVED)
    if connection.vendor == "postgresql":
        rows = tickets.values("agent").annotate(
            closed=Count("*"),  # not COUNT(id): every column read is in ticket_queue_closed_metrics (index-only)
            first_reply=Median("first_reply_seconds", filter=solved),
            resolution=Median("resolution_seconds", filter=solved),
        )
        return {row["agent"]: row for row in rows}, None
    # SQLite fallback: one query (read from ticket_queue_closed_metrics alone) gives per assignee the count and the
    # solved tickets' values as one comma-separated text each — 3 rows instead of ~34k row tuples — medians in Python.
    rows = tickets.values("agent").annotate(
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
        out[row["agent"]] = row
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
    others: AgentRow | None  # "Unassigned or former agents": None when they have nothing in the period
    totals: AgentRow | None
    queues: list[Queue]
    queue_feedback: dict[int, FeedbackStats]  # FeedbackStats per led queue (absent: no invitation emailed)
    queue_sla: dict[int, SlaAchievement]  # per led queue (absent: nothing settled)


def team_dashboard(
    *, user: UserLike, start: datetime, end: datetime, now: datetime | None = None, queues: list[Queue] | None = None
) -> TeamDashboard:
    """Per-agent figures of the queues the user leads (admins: all; `queues`: those, by name, if the caller has read
    them already). A fixed number of queries, whatever the size."""
    now = now or timezone.now()
    # The led queues' ids as values, not a subquery: the planners then estimate the rows of each queue and read the
    # covering indexes (closed tickets, invitations, SLA targets).
    if queues is None:
        queues = list(queues_led_by(user).order_by("name"))
    led = [queue.pk for queue in queues]
    agents = list(team_agents_visible_to(user))
    invitations = invitations_visible_to(user).filter(queue_id__in=led)
    followups = followups_visible_to(user).filter(queue_id__in=led)
    tickets = _closed_tickets(user, start, end, queue_ids=led)

    agent_ids = [agent.pk for agent in agents]
    metrics, overall = _ticket_metrics(tickets=tickets, agent_ids=agent_ids)
    rollup = feedback_stats_rollup(invitations=invitations, start=start, end=end, agent_ids=agent_ids)
    feedback = rollup.by_agent
    sla = sla_achievement_rollup(user=user, start=start, end=end, queue_ids=led)
    counts = followup_counts_by_owner(followups=followups, now=now)
    rows = [
        AgentRow(
            agent=agent,
            tickets_closed=metrics.get(agent.pk, {}).get("closed", 0),
            median_first_reply=metrics.get(agent.pk, {}).get("first_reply"),
            median_resolution=metrics.get(agent.pk, {}).get("resolution"),
            feedback=feedback.get(agent.pk),
            sla=sla.by_agent.get(agent.pk, NO_SLA),
            followups_open=counts.get(agent.pk, {}).get("open", 0),
            followups_overdue=counts.get(agent.pk, {}).get("overdue", 0),
        )
        for agent in agents
    ]
    others = _others_row(
        metrics=metrics.get(None, {}),
        feedback=rollup.others,
        sla=_added([achievement for key, achievement in sla.by_agent.items() if key not in agent_ids]),
        counts=[row for key, row in counts.items() if key not in agent_ids],
    )
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
        sla=sla.total,
        followups_open=total_counts["open"],
        followups_overdue=total_counts["overdue"],
    )
    return TeamDashboard(
        rows=rows,
        others=others,
        totals=totals,
        queues=queues,
        queue_feedback=rollup.by_queue,
        queue_sla=sla.by_queue,
    )


def _added(achievements: list[SlaAchievement]) -> SlaAchievement:
    """Several agents' SLA achievement as one."""
    return SlaAchievement(
        kinds=tuple(
            Achievement(
                kind=first.kind,
                label=first.label,
                met=sum(each.of(first.kind).met for each in achievements),
                breached=sum(each.of(first.kind).breached for each in achievements),
            )
            for first in NO_SLA.kinds
        )
    )


def _others_row(
    *, metrics: dict[str, Any], feedback: FeedbackStats | None, sla: SlaAchievement, counts: list[dict[str, int]]
) -> AgentRow | None:
    """The row of the closed tickets, responses, targets and follow-ups of no agent of the team (none, or a former
    one); None when there are none."""
    followups = {key: sum(row[key] for row in counts) for key in ("open", "overdue")}
    if not (metrics.get("closed") or feedback or sla.settled or followups["open"]):
        return None
    return AgentRow(
        agent=User(username="Unassigned or former agents"),
        tickets_closed=metrics.get("closed", 0),
        median_first_reply=metrics.get("first_reply"),
        median_resolution=metrics.get("resolution"),
        feedback=feedback,
        sla=sla,
        followups_open=followups["open"],
        followups_overdue=followups["overdue"],
    )


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
