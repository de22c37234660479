"""Feedback figures: CSAT, CES and response rate of a set of invitations over a period, their distributions, weekly
trend, latest comments, and the rows of the CSV export. Every figure is one query, whatever the number of rows, and
every share and mean comes with its 95% interval (surveys.intervals)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from common.users import UserLike
from tickets.sla.selectors import SlaAchievement, sla_achievement

from ..intervals import Interval, difference, t_interval, wilson
from ..models import SurveyInvitation, SurveyResponse
from .permissions import invitations_visible_to, queues_led_by


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
    # 95% intervals (percent to 1 decimal, means to 2): Wilson for the shares, Student t for the means (None: n < 2)
    csat_satisfied_ci: Interval | None
    csat_mean_ci: Interval | None
    ces_mean_ci: Interval | None
    ces_agree_ci: Interval | None
    response_rate_ci: Interval | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FeedbackStats:
        sent, responses = row["sent"] or 0, row["responses"] or 0
        csat_n, ces_n = row["csat_n"] or 0, row["ces_n"] or 0
        csat_sat, ces_agree = row["csat_sat"] or 0, row["ces_agree"] or 0
        min_sample = min_feedback_sample()
        return cls(
            invitations_sent=sent,
            responses=responses,
            csat_responses=csat_n,
            csat_satisfied=csat_sat,
            csat_satisfied_pct=_pct(csat_sat, csat_n),
            csat_mean=row["csat_sum"] / csat_n if csat_n else None,
            ces_responses=ces_n,
            ces_agree=ces_agree,
            ces_mean=row["ces_sum"] / ces_n if ces_n else None,
            ces_agree_pct=_pct(ces_agree, ces_n),
            response_rate=_pct(responses, sent),
            min_sample=min_sample,
            enough=responses >= min_sample,
            csat_satisfied_ci=_rounded(wilson(csat_sat, csat_n), 1),
            csat_mean_ci=_mean_ci(csat_n, row["csat_sum"], row["csat_sq"], CSAT_SCALE),
            ces_mean_ci=_mean_ci(ces_n, row["ces_sum"], row["ces_sq"], CES_SCALE),
            ces_agree_ci=_rounded(wilson(ces_agree, ces_n), 1),
            response_rate_ci=_rounded(wilson(responses, sent), 1),
        )


CSAT_SCALE, CES_SCALE = (1, 5), (1, 7)  # lowest and highest score: a mean's interval is clipped to its scale


def _rounded(interval: Interval | None, digits: int) -> Interval | None:
    return interval.rounded(digits) if interval else None


def _mean_ci(n: int, total: int | None, squares: int | None, scale: tuple[int, int]) -> Interval | None:
    return _rounded(t_interval(n=n, total=total or 0, sum_of_squares=squares or 0, within=scale), 2)


def csat_difference(stats: FeedbackStats | None, other: FeedbackStats | None) -> int:
    """1 / −1 when the CSAT % satisfied of `stats` is above / below that of `other` by more than noise — their 95%
    intervals do not overlap, and both hold the minimum sample; 0 otherwise."""
    if not (stats and other and stats.enough and other.enough):
        return 0
    return difference(stats.csat_satisfied_ci, other.csat_satisfied_ci)


def ces_difference(stats: FeedbackStats | None, other: FeedbackStats | None) -> int:
    """As csat_difference, of the CES mean."""
    if not (stats and other and stats.enough and other.enough):
        return 0
    return difference(stats.ces_mean_ci, other.ces_mean_ci)


def min_feedback_sample() -> int:
    return int(getattr(settings, "FEEDBACK_MIN_SAMPLE", 10))


def _pct(part: int | None, whole: int | None) -> float | None:
    return round(100.0 * (part or 0) / whole, 1) if whole else None


# A response counts when it is not a link scanner's burst; scores are counted where they were given. The invitation
# holds a copy of its counted response's scores (answer_counted / answer_csat / answer_ces, kept by
# SurveyResponse.save()), so every figure below reads the invitations alone — through a covering index — with no join.


def _stats_aggregates() -> dict[str, Any]:
    """The aggregate expressions of FeedbackStats over invitations. Each reads only columns of the stats indexes.
    Means come as sums and sums of squares (integers, exact in any database): with the counts they give the mean and
    its interval, and rows of several groups add up by plain sums."""
    return {
        "sent": Count("*"),
        "responses": Count("answer_counted", filter=Q(answer_counted=True)),
        "csat_n": Count("answer_csat"),
        "csat_sat": Count("answer_csat", filter=Q(answer_csat__gte=4)),
        "csat_sum": Sum("answer_csat"),
        "csat_sq": Sum(F("answer_csat") * F("answer_csat")),
        "ces_n": Count("answer_ces"),
        "ces_agree": Count("answer_ces", filter=Q(answer_ces__gte=5)),
        "ces_sum": Sum("answer_ces"),
        "ces_sq": Sum(F("answer_ces") * F("answer_ces")),
    }


_STAT_KEYS = tuple(_stats_aggregates())  # every key of an aggregate row: counts and sums alike


def _sent_between(invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime) -> QuerySet:
    """Invitations emailed in [start, end): the response rate's denominator is by sent_at, not by current status."""
    return invitations.filter(sent_at__gte=start, sent_at__lt=end)


def feedback_stats(*, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime) -> FeedbackStats:
    """Figures of the invitations emailed in [start, end) and their responses — one aggregate query."""
    row = _sent_between(invitations, start, end).order_by().aggregate(**_stats_aggregates())
    return FeedbackStats.from_row(row)


def feedback_for_queue(*, queue_id: int, start: datetime, end: datetime) -> FeedbackStats:
    return feedback_stats(invitations=SurveyInvitation.objects.filter(queue_id=queue_id), start=start, end=end)


def _rows_added(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate rows of _stats_aggregates added up (counts and sums alike)."""
    return {key: sum(row[key] or 0 for row in rows) for key in _STAT_KEYS}


@dataclass(frozen=True)
class FeedbackRollup:
    total: FeedbackStats
    by_agent: dict[int | None, FeedbackStats]
    by_queue: dict[int, FeedbackStats]
    others: FeedbackStats | None  # of the agents not in `agent_ids` (and none), None when they have no invitation


def feedback_stats_rollup(
    *, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime, agent_ids: Collection[int] = ()
) -> FeedbackRollup:
    """FeedbackStats in total, per agent snapshot and per queue snapshot, and of the agents other than `agent_ids`
    — one query grouped by (agent, queue)."""
    rows = list(
        _sent_between(invitations, start, end).order_by().values("agent_id", "queue_id").annotate(**_stats_aggregates())
    )
    by_agent: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    by_queue: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_agent[row["agent_id"]].append(row)
        by_queue[row["queue_id"]].append(row)
    others = [row for row in rows if row["agent_id"] not in agent_ids]
    return FeedbackRollup(
        total=FeedbackStats.from_row(_rows_added(rows)),
        by_agent={key: FeedbackStats.from_row(_rows_added(group)) for key, group in by_agent.items()},
        by_queue={key: FeedbackStats.from_row(_rows_added(group)) for key, group in by_queue.items()},
        others=FeedbackStats.from_row(_rows_added(others)) if others else None,
    )


def feedback_stats_with_distributions(
    *, invitations: QuerySet[SurveyInvitation], start: datetime, end: datetime
) -> tuple[FeedbackStats, list[tuple[int, int]], list[tuple[int, int]]]:
    """FeedbackStats and the CSAT (1–5) and CES (1–7) score counts, as score_distribution gives them — one query.
    The counts, sums and sums of squares of the scores come from the score counts (Σ n_k, Σ k·n_k, Σ k²·n_k), not
    from aggregates of their own: eight fewer per row for the database."""
    scores = {f"csat_{n}": Count("answer_csat", filter=Q(answer_csat=n)) for n in range(1, 6)}
    scores |= {f"ces_{n}": Count("answer_ces", filter=Q(answer_ces=n)) for n in range(1, 8)}
    aggregates = _stats_aggregates()
    row = (
        _sent_between(invitations, start, end)
        .order_by()
        .aggregate(sent=aggregates["sent"], responses=aggregates["responses"], **scores)
    )
    csat = [(n, row[f"csat_{n}"] or 0) for n in range(1, 6)]
    ces = [(n, row[f"ces_{n}"] or 0) for n in range(1, 8)]
    row |= _from_counts("csat", csat, good_key="csat_sat", good_from=4)
    row |= _from_counts("ces", ces, good_key="ces_agree", good_from=5)
    return FeedbackStats.from_row(row), csat, ces


def _from_counts(prefix: str, counts: list[tuple[int, int]], *, good_key: str, good_from: int) -> dict[str, int]:
    return {
        f"{prefix}_n": sum(n for _, n in counts),
        good_key: sum(n for score, n in counts if score >= good_from),
        f"{prefix}_sum": sum(score * n for score, n in counts),
        f"{prefix}_sq": sum(score * score * n for score, n in counts),
    }


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
    empty = FeedbackStats.from_row(dict.fromkeys(_STAT_KEYS))
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


def latest_comments(
    *,
    invitations: QuerySet[SurveyInvitation],
    start: datetime,
    end: datetime,
    limit: int = 10,
    narrow: Sequence[Callable[[QuerySet[SurveyResponse]], QuerySet[SurveyResponse]]] = (),
    select_related: Sequence[str] = (),
) -> QuerySet[SurveyResponse]:
    """The newest comments, narrowed by the chosen comment filters (surveys.extensions), with the relations their
    badges read."""
    commented = SurveyResponse.objects.filter(
        # answer_commented (counted, with a comment) is in the agent stats index: only those responses are read
        invitation__in=_sent_between(invitations, start, end).filter(answer_commented=True).values("pk"),
        flagged_automated=False,
    ).exclude(comment="")
    for narrowing in narrow:
        commented = narrowing(commented)
    latest = commented.order_by("-updated_at", "-id").values("pk")[:limit]
    # Still one query: the `limit` newest are picked in a subquery first, so only they are joined to their ticket and
    # customer (a join before the sort would read the ticket and customer of every commented response).
    return (
        SurveyResponse.objects.filter(pk__in=latest)
        .select_related("invitation__ticket", "invitation__customer", *select_related)
        .order_by("-updated_at", "-id")
    )


def responses_for_export(*, user: UserLike) -> QuerySet[SurveyResponse]:
    return (
        SurveyResponse.objects.filter(invitation__in=invitations_visible_to(user).values("pk"))
        .select_related(
            "invitation__ticket",
            "invitation__customer",
            "invitation__agent",
            "invitation__queue",
            "invitation__followup__resurvey",
        )
        .order_by("-answered_at", "-id")
    )


def agent_sla_achievement(*, viewer: UserLike, agent_id: int, start: datetime, end: datetime) -> SlaAchievement:
    """The SLA achievement beside an agent's feedback, in the queues the viewer may see: your own and an admin's view
    all of them, a lead's only the queues they lead (as agent_feedback_invitations, which the caller asked first)."""
    own = agent_id == viewer.pk or bool(viewer.is_superuser)
    led = None if own else queues_led_by(viewer).values("pk")
    return sla_achievement(user=viewer, start=start, end=end, agent_id=agent_id, queue_ids=led)
