"""95% intervals of the feedback figures (pure functions: no Django, no database), so a page or the API can say how
sure a figure is and call out a difference only when it is more than noise.

- a share (CSAT % satisfied, CES % agree, response rate): the Wilson score interval, in percent 0–100 — unlike the
  textbook p ± 1.96·√(p(1−p)/n) it stays inside 0–100 and does not shrink to nothing at 0% or 100%;
- a mean (CSAT 1–5, CES 1–7): Student's t interval from n, the sum and the sum of squares (what one aggregate query
  gives on SQLite and Postgres alike);
- a Net Promoter Score: NPS ± 1.96·√(Var/n), Var = p_P + p_D − (p_P − p_D)², in NPS points, clipped to −100…100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)  # 1.959964…

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom; above 30 the normal quantile is within 2%.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def rounded(self, digits: int) -> Interval:
        return Interval(round(self.low, digits), round(self.high, digits))


def overlap(a: Interval, b: Interval) -> bool:
    """Whether two intervals share a point (touching counts as overlapping: no difference is called out then)."""
    return a.low <= b.high and b.low <= a.high


def difference(a: Interval | None, b: Interval | None) -> int:
    """1 when a lies wholly above b, −1 wholly below, 0 when they overlap or either is unknown: a difference is
    called out only when it is more than the noise of the two samples."""
    if a is None or b is None or overlap(a, b):
        return 0
    return 1 if a.low > b.high else -1


def t95(df: int) -> float:
    """The two-sided 95% quantile of Student's t with `df` degrees of freedom (df >= 1)."""
    return _T95[df - 1] if df <= len(_T95) else Z95


def wilson(successes: int, n: int) -> Interval | None:
    """The 95% Wilson score interval of successes / n, in percent 0–100; None when n == 0."""
    if n <= 0:
        return None
    p, z2 = successes / n, Z95 * Z95
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = Z95 / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At 0 and n successes the bound is exactly 0% / 100%, not that plus the float noise of centre − half.
    low = 0.0 if successes <= 0 else 100 * (centre - half)
    high = 100.0 if successes >= n else 100 * (centre + half)
    return Interval(low, high)


def t_interval(
    *, n: int, total: float, sum_of_squares: float, within: tuple[float, float] | None = None
) -> Interval | None:
    """The 95% t interval of the mean of n values given their sum and sum of squares; None when n < 2 (no spread to
    measure). `within`: the scale's (lowest, highest) score, which the interval is clipped to."""
    if n < 2:
        return None
    mean = total / n
    # (Σx² − (Σx)²/n) / (n − 1); never below 0, which rounding could otherwise make it when every value is the same
    variance = max(0.0, (sum_of_squares - total * total / n) / (n - 1))
    half = t95(n - 1) * math.sqrt(variance / n)
    low, high = mean - half, mean + half
    if within is not None:
        low, high = max(within[0], low), min(within[1], high)
    return Interval(low, high)


def nps_interval(promoters: int, passives: int, detractors: int) -> Interval | None:
    """The 95% interval of the Net Promoter Score (%promoters − %detractors), in NPS points −100…100; None when
    nobody answered."""
    n = promoters + passives + detractors
    if n <= 0:
        return None
    p_promoter, p_detractor = promoters / n, detractors / n
    nps = p_promoter - p_detractor
    variance = max(0.0, p_promoter + p_detractor - nps * nps)
    half = Z95 * math.sqrt(variance / n)
    return Interval(max(-100.0, 100 * (nps - half)), min(100.0, 100 * (nps + half)))
