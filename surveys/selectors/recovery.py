"""The recovery rate: of the re-surveys answered, the share saying we made it right (4–5), with its n, and the
re-survey response rate beside it (answers / re-surveys emailed, "emailed" meaning the outbox sent it) — by queue,
agent (the follow-up's owner at resolution) and root cause, over the re-surveys emailed in a period. One query."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from ..intervals import Interval, wilson
from ..models import RECOVERED_FROM, Resurvey
from .feedback import min_feedback_sample
from .permissions import queues_led_by

Key = tuple[int, int | None, str]  # queue, agent, root cause


@dataclass(frozen=True)
class Recovery:
    emailed: int = 0
    answered: int = 0
    recovered: int = 0

    def __add__(self, other: Recovery) -> Recovery:
        return Recovery(self.emailed + other.emailed, self.answered + other.answered, self.recovered + other.recovered)

    @property
    def rate(self) -> float | None:
        """Recovered / answered, 0–100; None without an answer."""
        return round(100 * self.recovered / self.answered, 1) if self.answered else None

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.answered / self.emailed, 1) if self.emailed else None

    @property
    def interval(self) -> Interval | None:
        """The recovery rate's 95% Wilson interval in percent."""
        interval = wilson(self.recovered, self.answered)
        return interval.rounded(1) if interval else None

    @property
    def response_interval(self) -> Interval | None:
        interval = wilson(self.answered, self.emailed)
        return interval.rounded(1) if interval else None

    @property
    def enough(self) -> bool:
        """Enough answers (FEEDBACK_MIN_SAMPLE) for the rate to be shown as a figure rather than greyed."""
        return self.answered >= min_feedback_sample()


def resurveys_visible_to(user: object) -> QuerySet[Resurvey]:
    """The re-surveys of the queues the user leads (admins: all), as the team dashboard."""
    return Resurvey.objects.filter(queue_id__in=queues_led_by(user).values("pk"))  # type: ignore[arg-type]


def recovery_cells(*, resurveys: QuerySet[Resurvey], start: datetime, end: datetime) -> dict[Key, Recovery]:
    """Per (queue, agent, root cause) of the re-surveys emailed in [start, end); a link scanner's answer is not an
    answer."""
    answered = Q(score__isnull=False, flagged_automated=False)
    rows = (
        resurveys.filter(sent_at__gte=start, sent_at__lt=end)
        .order_by()
        .values("queue_id", "agent_id", "root_cause")
        .annotate(
            emailed=Count("pk"),
            answered=Count("pk", filter=answered),
            recovered=Count("pk", filter=answered & Q(score__gte=RECOVERED_FROM)),
        )
    )
    return {
        (row["queue_id"], row["agent_id"], row["root_cause"]): Recovery(
            row["emailed"], row["answered"], row["recovered"]
        )
        for row in rows
    }


def recovery_by(cells: dict[Key, Recovery], key: Callable[[Key], Hashable]) -> dict[Hashable, Recovery]:
    """The cells summed by `key` (e.g. lambda k: k[0] for queues; lambda k: () for the total)."""
    out: dict[Hashable, Recovery] = defaultdict(Recovery)
    for cell_key, recovery in cells.items():
        out[key(cell_key)] += recovery
    return dict(out)
