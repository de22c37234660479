"""The 95% intervals of surveys.intervals against values worked out by hand (z = 1.959964, t from the table)."""

import math

import pytest

from surveys.intervals import Z95, Interval, nps_interval, overlap, t95, t_interval, wilson


def approx(low: float, high: float, abs: float = 0.01) -> tuple:
    return pytest.approx(low, abs=abs), pytest.approx(high, abs=abs)


def bounds(interval: Interval | None) -> tuple[float, float]:
    assert interval is not None
    return interval.low, interval.high


def test_z_is_the_normal_quantile():
    assert round(Z95, 6) == 1.959964


# --- Wilson ---------------------------------------------------------------------------------------------------------


def test_wilson_eight_of_ten():
    # p = 0.8, z² = 3.8415: centre = (0.8 + 0.19207) / 1.38415 = 0.71677,
    # half = 1.96 / 1.38415 · √(0.016 + 0.0096037) = 0.22657  →  49.02 … 94.33
    assert bounds(wilson(8, 10)) == approx(49.02, 94.33)


def test_wilson_none_of_ten_is_not_zero_width():
    # p = 0: low 0, high = (z²/n) / (1 + z²/n) = 0.38415 / 1.38415 = 27.75%
    assert bounds(wilson(0, 10)) == (0.0, pytest.approx(27.75, abs=0.01))


def test_wilson_all_of_ten_is_not_zero_width():
    assert bounds(wilson(10, 10)) == (pytest.approx(72.25, abs=0.01), 100.0)


def test_wilson_of_one():
    # n = 1: high of 0/1 = z² / (1 + z²) = 3.8415 / 4.8415 = 79.35%
    assert bounds(wilson(0, 1)) == (0.0, pytest.approx(79.35, abs=0.01))
    assert bounds(wilson(1, 1)) == (pytest.approx(20.65, abs=0.01), 100.0)


def test_wilson_of_nothing_is_none():
    assert wilson(0, 0) is None


def test_wilson_half_is_symmetric_and_narrows_with_n():
    small, large = bounds(wilson(5, 10)), bounds(wilson(500, 1000))
    assert small[0] + small[1] == pytest.approx(100) and large[0] + large[1] == pytest.approx(100)
    assert large[1] - large[0] < small[1] - small[0]
    # n = 1000, p = 0.5: almost the normal interval, 50 ± 1.96 · √(0.25 / 1000) · 100 = 50 ± 3.10
    assert large == approx(46.91, 53.09)


# --- t --------------------------------------------------------------------------------------------------------------


def test_t_interval_of_one_to_five():
    # 1, 2, 3, 4, 5: mean 3, variance (55 − 225/5) / 4 = 2.5, se = √(2.5/5) = 0.7071, t(4) = 2.776 → 3 ± 1.963
    assert bounds(t_interval(n=5, total=15, sum_of_squares=55)) == approx(1.037, 4.963, abs=0.001)


def test_t_interval_uses_the_normal_quantile_above_30_degrees_of_freedom():
    # 41 values: 20 × 4, 20 × 5, 1 × 3 → Σ = 183, Σx² = 320 + 500 + 9 = 829; mean 4.4634,
    # variance (829 − 183²/41) / 40 = (829 − 816.8049) / 40 = 0.30488, se = √(0.30488/41) = 0.086233
    interval = t_interval(n=41, total=183, sum_of_squares=829)
    half = Z95 * math.sqrt(0.304878 / 41)
    assert bounds(interval) == approx(183 / 41 - half, 183 / 41 + half, abs=0.001)
    assert t95(30) == 2.042 and t95(31) == Z95 and t95(1) == 12.706


def test_t_interval_is_clipped_to_the_scale():
    # 4, 5: mean 4.5, variance 0.5, se 0.5, t(1) = 12.706 → 4.5 ± 6.353, clipped to 1–5
    assert bounds(t_interval(n=2, total=9, sum_of_squares=41, within=(1, 5))) == (1, 5)
    assert bounds(t_interval(n=2, total=9, sum_of_squares=41)) == approx(-1.853, 10.853, abs=0.001)


def test_t_interval_needs_two_values():
    assert t_interval(n=0, total=0, sum_of_squares=0) is None
    assert t_interval(n=1, total=5, sum_of_squares=25) is None


def test_t_interval_of_equal_values_is_the_value():
    assert bounds(t_interval(n=3, total=15, sum_of_squares=75)) == (5.0, 5.0)


# --- NPS ------------------------------------------------------------------------------------------------------------


def test_nps_interval():
    # 50 promoters, 30 passives, 20 detractors: NPS 30; Var = 0.5 + 0.2 − 0.3² = 0.61,
    # half = 1.96 · √(0.61/100) = 0.15308 → 14.69 … 45.31
    assert bounds(nps_interval(50, 30, 20)) == approx(14.69, 45.31)


def test_nps_interval_is_clipped():
    # 9 promoters, 1 detractor: NPS 80; Var = 1 − 0.64 = 0.36, half = 1.96 · √(0.036) = 0.37188 → 42.8 … 117.2 → 100
    assert bounds(nps_interval(9, 0, 1)) == (pytest.approx(42.81, abs=0.01), 100.0)
    assert bounds(nps_interval(0, 0, 1)) == (-100.0, -100.0)


def test_nps_interval_of_nobody_is_none():
    assert nps_interval(0, 0, 0) is None


# --- overlap --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Interval(10, 20), Interval(15, 25), True),
        (Interval(10, 20), Interval(20, 30), True),  # touching: no difference called out
        (Interval(10, 20), Interval(21, 30), False),
        (Interval(21, 30), Interval(10, 20), False),
        (Interval(10, 40), Interval(20, 30), True),  # one inside the other
    ],
)
def test_overlap(a, b, expected):
    assert overlap(a, b) is expected


def test_rounded():
    assert Interval(74.449, 88.051).rounded(1) == Interval(74.4, 88.1)
