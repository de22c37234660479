"""The 95% intervals on the pages: My feedback's figures, the trend chart's band, the team dashboard's "above / below
the team" and the weekly table's week-over-week change, called out only when the intervals do not overlap."""

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys.charts import TrendPoint, trend_chart
from surveys.intervals import Interval
from surveys.selectors import FeedbackStats, WeekPoint
from surveys.tests.factories import ResponseFactory
from surveys.views.feedback import TREND_WEEKS, TREND_WINDOW, weekly_trend
from tickets.models import QueueMembership
from tickets.tests.factories import MembershipFactory


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rate(queue, agent, n, *, csat, ces=None, sent=None):
    sent = sent or timezone.now() - timedelta(days=3)
    for _ in range(n):
        ResponseFactory(invitation__queue=queue, invitation__agent=agent, invitation__sent_at=sent, csat=csat, ces=ces)


def row_of(page: str, agent) -> str:
    """The team table's row of `agent` (its <tr>…</tr>)."""
    href = reverse("surveys:agent-feedback", args=[agent.pk])
    return next(row for row in page.split("<tr") if f'href="{href}"' in row)


# --- My feedback ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_feedback_shows_each_figure_with_its_interval_and_n(queue, agent, django_assert_max_num_queries):
    rate(queue, agent, 10, csat=5, ces=6)
    rate(queue, agent, 2, csat=2, ces=3)
    client = client_for(agent)

    with django_assert_max_num_queries(8):
        page = client.get(reverse("surveys:my-feedback")).content.decode()

    # 10 of 12 satisfied: Wilson 55.2–95.3; CSAT Σ 54, Σx² 258 → 4.5 ± 2.201 · 0.3371, clipped to 5
    assert "83.3%</strong> " in page
    assert "(95% CI 55–95%, n=12)" in page
    assert '4.5</strong> <span class="ci">(95% CI 3.8–5.0, n=12)</span>' in page
    assert "(95% CI 76–100%, n=12)" in page  # response rate: 12 of 12 emailed, Wilson 75.8–100
    assert "95% CI: a range worked out this way" in page


@pytest.mark.django_db
def test_below_the_minimum_sample_no_interval_either(queue, agent):
    rate(queue, agent, 4, csat=5)
    page = client_for(agent).get(reverse("surveys:my-feedback")).content.decode()
    assert "Not enough responses (4 of 10)" in page
    assert "95% CI 4" not in page and "n=4)" not in page


# --- the trend chart ------------------------------------------------------------------------------------------------


def test_trend_chart_draws_the_band_behind_the_line_where_the_line_is():
    points = [
        TrendPoint(label="1 Mar", bar=3, line=None),
        TrendPoint(label="8 Mar", bar=5, line=80.0, band=Interval(60.0, 90.0)),
        TrendPoint(label="15 Mar", bar=5, line=50.0, band=Interval(30.0, 70.0)),
    ]
    svg = str(trend_chart(points, title="t", line_name="satisfied", bar_name="responses"))

    band = re.search(r'<polygon class="band" points="([^"]+)"', svg)
    assert band is not None
    assert svg.index('class="band"') < svg.index('class="line"')  # drawn first: behind the line
    corners = [tuple(map(float, pair.split(","))) for pair in band.group(1).split()]
    xs = sorted({x for x, _ in corners})
    line_xs = sorted(float(x) for x in re.findall(r'<circle class="dot" cx="([0-9.]+)"', svg))
    assert xs == line_xs  # the band spans only the weeks the line is drawn on
    # y of 90% / 60% at the first dot's x: the plot is 168 px high from y = 16
    assert (xs[0], 16 + 168 * 0.1) in [(x, pytest.approx(y, abs=0.1)) for x, y in corners]
    assert "8 Mar: 80% satisfied (95% interval 60–90%)" in svg


def test_trend_chart_has_no_band_without_a_line():
    lonely = [TrendPoint(label="1 Mar", bar=3, line=None), TrendPoint(label="8 Mar", bar=5, line=80.0)]
    assert "polygon" not in str(trend_chart(lonely, title="t", line_name="s", bar_name="r"))


# --- week over week -------------------------------------------------------------------------------------------------


def week(i: int, responses: int, satisfied: int, ces: int = 0) -> WeekPoint:
    row = {"sent": responses, "responses": responses, "csat_n": responses, "csat_sat": satisfied}
    row |= {"csat_sum": 5 * satisfied + responses - satisfied, "csat_sq": 25 * satisfied + responses - satisfied}
    row |= {"ces_n": responses, "ces_agree": 0, "ces_sum": ces * responses, "ces_sq": ces * ces * responses}
    if ces == 0:
        row |= {"ces_n": 0, "ces_sum": None, "ces_sq": None}
    return WeekPoint(week=datetime(2026, 1, 5) + timedelta(weeks=i), stats=FeedbackStats.from_row(row))


@pytest.mark.django_db
def test_a_week_over_week_change_is_called_out_only_when_the_intervals_do_not_overlap():
    history = [week(i, 0, 0) for i in range(TREND_WEEKS + TREND_WINDOW - 5)]
    history += [week(15, 20, 20), week(16, 20, 0), week(17, 10, 6), week(18, 10, 5)]

    rows = weekly_trend(history, title="t")["week_rows"]

    assert len(rows) == TREND_WEEKS
    # 20/20 after an empty week: nothing to compare with; 0/20 after 20/20 (0–16% vs 84–100%): down;
    # 6/10 after 0/20 (31–83% vs 0–16%): up; 5/10 after 6/10 (24–76% vs 31–83%): no change called out
    assert [row.csat_change for row in rows[-4:]] == [0, -1, 1, 0]
    assert rows[-1].trend.band is not None and rows[-1].trend.line == pytest.approx(100 * 31 / 60)


@pytest.mark.django_db
def test_ces_changes_are_called_out_too():
    history = [week(i, 0, 0) for i in range(TREND_WEEKS + TREND_WINDOW - 3)]
    history += [week(17, 10, 5, ces=2), week(18, 10, 5, ces=6)]
    # every score the same: a zero-width interval each, 2 vs 6
    assert [row.ces_change for row in weekly_trend(history, title="t")["week_rows"][-2:]] == [0, 1]


# --- the team dashboard ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_team_marks_an_agent_above_or_below_only_when_the_intervals_do_not_overlap(
    queue, lead, django_assert_max_num_queries
):
    high, low, middle = (MembershipFactory(queue=queue, role=QueueMembership.Role.AGENT).user for _ in range(3))
    rate(queue, high, 20, csat=5)  # 100%: 83.9–100
    rate(queue, low, 20, csat=1)  # 0%: 0–16.1
    rate(queue, middle, 5, csat=5)
    rate(queue, middle, 5, csat=2)  # 50%: 23.7–76.3
    client = client_for(lead)

    with django_assert_max_num_queries(12):
        page = client.get(reverse("surveys:team")).content.decode()

    # the team: 25 of 50, 36.6–63.4
    assert "above the team" in row_of(page, high) and "below the team" not in row_of(page, high)
    assert "below the team" in row_of(page, low)
    assert "the team</span>" not in row_of(page, middle)
    assert page.count("the team</span>") == 2  # not on the totals row, nor the queues table
    assert '100.0%<span class="ci" title="95% confidence interval 84–100%, of 20 responses">' in row_of(page, high)
    assert "50.0%" in page and "37–63 · n=50" in page  # the totals row


@pytest.mark.django_db
def test_team_weekly_table_marks_a_change_beyond_noise(queue, lead):
    agent = MembershipFactory(queue=queue, role=QueueMembership.Role.AGENT).user
    now = timezone.now()
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    rate(queue, agent, 12, csat=5, sent=monday - timedelta(days=1))  # last week: 12/12 satisfied
    rate(queue, agent, 12, csat=1, sent=monday)  # this week: 0/12

    page = client_for(lead).get(reverse("surveys:team")).content.decode()

    assert page.count("down on the week before") == 1
    assert "up on the week before" not in page  # last week follows an empty week: nothing to compare
    assert '<polygon class="band"' in page
