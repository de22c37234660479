"""The NPS figure: % promoters (9–10) − % detractors (0–6) of the answers, with its n and its 95% interval, per queue
(the survey's queue snapshot) and per month. A link scanner's burst is not an answer. Also the one policy row."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from ..intervals import nps_interval
from ..models import DETRACTOR_TO, PROMOTER_FROM, NpsPolicy, NpsSurvey
from .feedback import min_feedback_sample
from .permissions import queues_led_by

MONTHS_SHOWN = 6


def nps_policy_current() -> NpsPolicy | None:
    """The policy row (the admin keeps one); None: NPS is off."""
    return NpsPolicy.objects.order_by("pk").first()


@dataclass(frozen=True)
class Nps:
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    def __add__(self, other: Nps) -> Nps:
        return Nps(self.promoters + other.promoters, self.passives + other.passives, self.detractors + other.detractors)

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """−100…100; None without an answer."""
        return round(100 * (self.promoters - self.detractors) / self.n, 1) if self.n else None

    @property
    def enough(self) -> bool:
        """Enough answers (FEEDBACK_MIN_SAMPLE) for the score to be shown as a figure rather than greyed."""
        return self.n >= min_feedback_sample()

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% interval in NPS points (low, high), within −100…100 (surveys.intervals); None without answers."""
        interval = nps_interval(self.promoters, self.passives, self.detractors)
        return (round(interval.low, 1), round(interval.high, 1)) if interval else None


def nps_surveys_visible_to(user: object) -> QuerySet[NpsSurvey]:
    """The NPS surveys of the queues the user leads (admins: all), as the team dashboard; never per agent."""
    return NpsSurvey.objects.filter(queue_id__in=queues_led_by(user).values("pk"))  # type: ignore[arg-type]


def _counted(surveys: QuerySet[NpsSurvey]) -> QuerySet[NpsSurvey]:
    return surveys.filter(score__isnull=False, flagged_automated=False).order_by()


_COUNTS = {
    "promoters": Count("pk", filter=Q(score__gte=PROMOTER_FROM)),
    "passives": Count("pk", filter=Q(score__gt=DETRACTOR_TO, score__lt=PROMOTER_FROM)),
    "detractors": Count("pk", filter=Q(score__lte=DETRACTOR_TO)),
}


def nps_by_queue(*, surveys: QuerySet[NpsSurvey], start: datetime, end: datetime) -> dict[int, Nps]:
    """Per queue, of the answers given in [start, end). One query."""
    rows = _counted(surveys).filter(answered_at__gte=start, answered_at__lt=end).values("queue_id").annotate(**_COUNTS)
    return {row["queue_id"]: Nps(row["promoters"], row["passives"], row["detractors"]) for row in rows}


def nps_total(by_queue: dict[int, Nps]) -> Nps:
    return sum(by_queue.values(), Nps())


def _month_starts(now: datetime, months: int) -> list[date]:
    today = timezone.localtime(now).date()
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def nps_by_month(*, surveys: QuerySet[NpsSurvey], now: datetime, months: int = MONTHS_SHOWN) -> list[tuple[date, Nps]]:
    """The last `months` calendar months (this one included, in the desk's time zone), oldest first, every month
    listed (an empty one with n = 0). One query."""
    starts = _month_starts(now, months)
    zone = timezone.get_current_timezone()
    first = datetime.combine(starts[0], datetime.min.time(), tzinfo=zone)
    rows = (
        _counted(surveys)
        .filter(answered_at__gte=first, answered_at__lte=now)
        .annotate(month=TruncMonth("answered_at", tzinfo=zone))
        .values("month")
        .annotate(**_COUNTS)
    )
    out: dict[date, Nps] = defaultdict(Nps)
    for row in rows:
        month = row["month"]
        out[month.date() if isinstance(month, datetime) else month] += Nps(
            row["promoters"], row["passives"], row["detractors"]
        )
    return [(start, out.get(start, Nps())) for start in starts]
