"""SLA achievement: of the targets settled in a period, the share that was met, per target kind.

A target counts on the day (UTC) it settled as met or breached; excluded ones (closed as spam or duplicate, or a reply
clock a close stopped before its target) count in neither part. It counts for the queue and the agent of the moment it
settled (SlaTarget.queue / .agent), and only in the queues the user may see. The figures add up the daily counts
(SlaDailyCount, kept with the targets by tickets.sla.counts): a period covers the days from its start's to its end's,
whole days. Each figure set is one aggregate query over a few rows per agent and day, whatever the number of
targets (adding up the targets themselves cost ~90 ms for the 84k targets of a demo queue's 90 days).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet, Sum

from common.users import UserLike

from ..models import SlaDailyCount, SlaTarget
from ..selectors import queue_ids_visible_to

KINDS = [(kind.value, kind.label) for kind in SlaTarget.Kind]


@dataclass(frozen=True)
class Achievement:
    """One target kind: how many settled targets were met and breached."""

    kind: str
    label: str
    met: int = 0
    breached: int = 0

    @property
    def settled(self) -> int:
        return self.met + self.breached

    @property
    def pct(self) -> float | None:
        """Met / settled, 0–100; None when nothing settled (the pages show "—")."""
        return round(100.0 * self.met / self.settled, 1) if self.settled else None


@dataclass(frozen=True)
class SlaAchievement:
    """Achievement per target kind (first reply, next reply, resolution, in that order)."""

    kinds: tuple[Achievement, ...]

    def of(self, kind: str) -> Achievement:
        return next(achievement for achievement in self.kinds if achievement.kind == kind)

    @property
    def settled(self) -> int:
        return sum(achievement.settled for achievement in self.kinds)

    @classmethod
    def from_counts(cls, rows: Iterable[dict[str, Any]]) -> SlaAchievement:
        """Rows of _aggregates() added up."""
        rows = list(rows)
        return cls(
            kinds=tuple(
                Achievement(
                    kind=kind,
                    label=label,
                    met=sum(row[f"{kind}_met"] or 0 for row in rows),
                    breached=sum(row[f"{kind}_breached"] or 0 for row in rows),
                )
                for kind, label in KINDS
            )
        )


def _aggregates() -> dict[str, Sum]:
    """Met and breached per kind, added up over the daily counts."""
    counts = {}
    for kind, _ in KINDS:
        counts[f"{kind}_met"] = Sum("met", filter=Q(kind=kind))
        counts[f"{kind}_breached"] = Sum("breached", filter=Q(kind=kind))
    return counts


def _settled(
    *, user: UserLike, start: datetime, end: datetime, queue_ids: Iterable[int] | QuerySet[Any] | None
) -> QuerySet[SlaDailyCount]:
    last_day = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    counts = SlaDailyCount.objects.filter(
        queue_id__in=queue_ids_visible_to(user), day__gte=start.astimezone(UTC).date(), day__lte=last_day
    )
    if queue_ids is not None:
        counts = counts.filter(queue_id__in=queue_ids)
    return counts.order_by()


def sla_achievement(
    *,
    user: UserLike,
    start: datetime,
    end: datetime,
    agent_id: int | None = None,
    queue_ids: Iterable[int] | QuerySet[Any] | None = None,
) -> SlaAchievement:
    """Achievement of the targets settled in [start, end) in the user's queues (narrowed to `queue_ids` if given),
    of one agent if `agent_id` is given — one aggregate query."""
    counts = _settled(user=user, start=start, end=end, queue_ids=queue_ids)
    if agent_id is not None:
        counts = counts.filter(agent_key=agent_id)
    return SlaAchievement.from_counts([counts.aggregate(**_aggregates())])


@dataclass(frozen=True)
class SlaRollup:
    total: SlaAchievement
    by_agent: dict[int | None, SlaAchievement]  # None: targets that settled unassigned
    by_queue: dict[int, SlaAchievement]


def sla_achievement_rollup(
    *, user: UserLike, start: datetime, end: datetime, queue_ids: Iterable[int] | QuerySet[Any]
) -> SlaRollup:
    """Achievement in total, per agent and per queue of `queue_ids` (as far as the user may see them) — one query
    grouped by (queue, agent), added up here."""
    counts = _settled(user=user, start=start, end=end, queue_ids=queue_ids)
    rows = list(counts.values("queue_id", "agent_key").annotate(**_aggregates()))
    by_agent: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    by_queue: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_agent[row["agent_key"] or None].append(row)
        by_queue[row["queue_id"]].append(row)
    return SlaRollup(
        total=SlaAchievement.from_counts(rows),
        by_agent={key: SlaAchievement.from_counts(group) for key, group in by_agent.items()},
        by_queue={key: SlaAchievement.from_counts(group) for key, group in by_queue.items()},
    )


EMPTY = SlaAchievement.from_counts([])
