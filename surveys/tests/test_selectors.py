"""Feedback figures on a hand-built data set: the numbers, the minimum-sample rule, the response rate by sent_at."""

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.intervals import Interval
from surveys.models import SurveyInvitation
from surveys.selectors import (
    feedback_for_queue,
    feedback_stats,
    feedback_stats_with_distributions,
    followups_visible_to,
    invitations_visible_to,
    weekly_feedback,
)
from surveys.selectors.feedback import feedback_stats_rollup
from surveys.tests.factories import FollowUpFactory, InvitationFactory, ResponseFactory
from tickets.models import QueueMembership
from tickets.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# (csat, ces) of the twelve counted responses; None = that question unanswered
ANSWERS = [(5, 7), (5, 6), (4, 5), (4, 4), (3, 3), (2, 2), (1, 1), (5, None), (4, 6), (None, 7), (5, 5), (3, 4)]


@pytest.fixture
def period():
    now = timezone.now()
    return now - timedelta(days=30), now


@pytest.fixture
def data_set(queue, agent, period):
    start, end = period
    inside = start + timedelta(days=5)
    for csat, ces in ANSWERS:
        ResponseFactory(
            invitation__queue=queue, invitation__agent=agent, invitation__sent_at=inside, csat=csat, ces=ces
        )
    # emailed in the period, unanswered — whatever their status now (expired counts: the rate is by sent_at)
    for status in (SurveyInvitation.Status.SENT, SurveyInvitation.Status.SENT, SurveyInvitation.Status.EXPIRED):
        InvitationFactory(queue=queue, agent=agent, sent_at=inside, status=status)
    # a link scanner's burst: emailed in the period, its "response" is not counted
    ResponseFactory(
        invitation__queue=queue, invitation__agent=agent, invitation__sent_at=inside, csat=1, flagged_automated=True
    )
    # outside the period: emailed before it (answered), and one never emailed
    ResponseFactory(
        invitation__queue=queue, invitation__agent=agent, invitation__sent_at=start - timedelta(seconds=1), csat=1
    )
    InvitationFactory(queue=queue, agent=agent, sent_at=None, status=SurveyInvitation.Status.SCHEDULED)
    # the end is exclusive
    ResponseFactory(invitation__queue=queue, invitation__agent=agent, invitation__sent_at=end, csat=1)
    # another agent of the same queue
    other = MembershipFactory(queue=queue).user
    ResponseFactory(invitation__queue=queue, invitation__agent=other, invitation__sent_at=inside, csat=1, ces=1)
    return other


def test_feedback_stats_numbers_on_a_hand_built_data_set(agent, data_set, period, django_assert_num_queries):
    start, end = period
    with django_assert_num_queries(1):
        stats = feedback_stats(invitations=SurveyInvitation.objects.filter(agent_id=agent.pk), start=start, end=end)

    assert stats.invitations_sent == 12 + 3 + 1  # answered + unanswered + the scanner's
    assert stats.responses == 12
    assert stats.csat_responses == 11
    assert stats.csat_satisfied == 7  # 5,5,4,4,5,4,5
    assert stats.csat_satisfied_pct == 63.6
    assert stats.csat_mean == pytest.approx(41 / 11)
    assert stats.ces_responses == 11
    assert stats.ces_agree == 6  # 7,6,5,6,7,5
    assert stats.ces_agree_pct == 54.5
    assert stats.ces_mean == pytest.approx(50 / 11)
    assert stats.response_rate == 75.0  # 12 / 16
    assert stats.enough is True
    # the 95% intervals (values in surveys/tests/test_intervals.py's terms): Wilson of 7/11, 6/11, 12/16 in percent
    # to 1 decimal; CSAT 5,5,4,4,3,2,1,5,4,5,3: Σ 41, Σx² 171, variance (171 − 41²/11)/10 = 1.8182,
    # se √(1.8182/11) = 0.4066, t(10) = 2.228 → 3.727 ± 0.906
    assert stats.csat_satisfied_ci == Interval(35.4, 84.8)
    assert stats.ces_agree_ci == Interval(28.0, 78.7)
    assert stats.response_rate_ci == Interval(50.5, 89.8)
    assert stats.csat_mean_ci == Interval(2.82, 4.63)
    assert stats.ces_mean_ci is not None and stats.ces_mean_ci.low < 50 / 11 < stats.ces_mean_ci.high


def test_rollup_intervals_equal_those_of_one_query(queue, agent, data_set, period):
    """The dashboard adds up (agent, queue) groups: their sums of squares give the same intervals as one query."""
    start, end = period
    invitations = SurveyInvitation.objects.filter(queue=queue)
    rollup = feedback_stats_rollup(invitations=invitations, start=start, end=end, agent_ids=[agent.pk])
    assert rollup.total == feedback_stats(invitations=invitations, start=start, end=end)
    assert rollup.by_agent[agent.pk] == feedback_stats(
        invitations=invitations.filter(agent=agent), start=start, end=end
    )


def test_queue_figures_include_every_agent(queue, data_set, period):
    start, end = period
    stats = feedback_for_queue(queue_id=queue.pk, start=start, end=end)
    assert stats.invitations_sent == 17
    assert stats.responses == 13


def test_below_the_minimum_sample_it_is_not_enough(queue, agent, period, settings):
    start, end = period
    for _ in range(9):
        ResponseFactory(invitation__queue=queue, invitation__agent=agent, invitation__sent_at=start + timedelta(days=1))

    stats = feedback_stats(invitations=SurveyInvitation.objects.filter(agent_id=agent.pk), start=start, end=end)
    assert (stats.responses, stats.min_sample, stats.enough) == (9, 10, False)

    settings.FEEDBACK_MIN_SAMPLE = 9
    assert (
        feedback_stats(invitations=SurveyInvitation.objects.filter(agent_id=agent.pk), start=start, end=end).enough
        is True
    )


def test_response_rate_is_by_sent_at_not_by_answer_time(queue, agent, period):
    start, end = period
    # emailed before the period, answered inside it: neither in the numerator nor the denominator
    ResponseFactory(
        invitation__queue=queue,
        invitation__agent=agent,
        invitation__sent_at=start - timedelta(days=2),
        answered_at=start + timedelta(days=1),
    )
    InvitationFactory(queue=queue, agent=agent, sent_at=start + timedelta(days=1))
    ResponseFactory(invitation__queue=queue, invitation__agent=agent, invitation__sent_at=start + timedelta(days=1))

    stats = feedback_stats(invitations=SurveyInvitation.objects.filter(agent=agent), start=start, end=end)
    assert (stats.responses, stats.invitations_sent, stats.response_rate) == (1, 2, 50.0)


def test_no_invitations_gives_no_percentages(agent, period):
    start, end = period
    stats = feedback_stats(invitations=SurveyInvitation.objects.filter(agent_id=agent.pk), start=start, end=end)
    assert stats.invitations_sent == 0
    assert stats.csat_satisfied_pct is stats.response_rate is stats.csat_mean is None
    assert stats.enough is False


def test_distribution_and_weekly_trend(queue, agent, data_set, period, django_assert_num_queries):
    start, end = period
    invitations = SurveyInvitation.objects.filter(agent=agent)
    with django_assert_num_queries(1):
        _, csat, _ = feedback_stats_with_distributions(invitations=invitations, start=start, end=end)
    assert csat == [(1, 1), (2, 1), (3, 2), (4, 3), (5, 4)]
    with django_assert_num_queries(1):
        weeks = weekly_feedback(invitations=invitations, weeks=12)
    assert len(weeks) == 12
    # the 12, the one just before the period and the one at `end`: all within the last 12 weeks
    assert sum(w.stats.responses for w in weeks) == 12 + 1 + 1
    assert weeks[0].week < weeks[-1].week


def test_visibility_of_follow_ups_and_invitations(queue, agent, lead, outsider, admin_user):
    other_agent = MembershipFactory(queue=queue).user
    mine = FollowUpFactory(queue=queue, owner=agent)
    theirs = FollowUpFactory(queue=queue, owner=other_agent)
    unassigned = FollowUpFactory(queue=queue, owner=None)
    elsewhere = FollowUpFactory(owner=outsider, queue=outsider.queue_memberships.get().queue)

    assert set(followups_visible_to(agent)) == {mine, unassigned}
    assert set(followups_visible_to(lead)) == {mine, theirs, unassigned}
    assert set(followups_visible_to(outsider)) == {elsewhere}
    assert set(followups_visible_to(admin_user)) == {mine, theirs, unassigned, elsewhere}
    assert set(invitations_visible_to(agent)) == {mine.invitation, theirs.invitation, unassigned.invitation}
    assert not invitations_visible_to(outsider).filter(queue=queue).exists()
    # a lead of one queue and agent of another sees only their own there
    MembershipFactory(queue=outsider.queue_memberships.get().queue, user=lead, role=QueueMembership.Role.AGENT)
    assert elsewhere not in followups_visible_to(lead)


def test_trend_line_is_csat_over_8_weeks_and_only_with_the_minimum_sample():
    from datetime import datetime, timedelta

    from surveys.selectors import FeedbackStats, WeekPoint
    from surveys.views.feedback import trend_points

    def week(i, responses, satisfied):
        row = {"sent": responses, "responses": responses, "csat_n": responses, "csat_sat": satisfied}
        row |= {"csat_sum": 5 * satisfied, "csat_sq": 25 * satisfied, "ces_n": 0, "ces_agree": 0}
        row |= {"ces_sum": None, "ces_sq": None}
        return WeekPoint(week=datetime(2026, 1, 5) + timedelta(weeks=i), stats=FeedbackStats.from_row(row))

    # given 19 weeks (12 shown + 7 of history): nothing, then three responses a week (all satisfied every other week)
    weeks = [week(i, 0, 0) for i in range(13)] + [week(13 + i, 3, 3 if i % 2 else 0) for i in range(6)]

    points = trend_points(weeks)

    # then 12 points; the line appears once its 8 weeks hold 10+ responses, as satisfied / CSAT answers of those weeks
    assert len(points) == 12
    assert [p.bar for p in points][-6:] == [3] * 6
    assert points[-4].line is None  # its 8 weeks hold only 9 responses
    assert points[-3].line == 50.0  # 12 responses in its 8 weeks: 6 satisfied
    assert points[-1].line == 50.0  # 6 satisfied of 12


@pytest.mark.django_db
def test_ticket_metrics_medians_per_assignee_and_overall_count_only_solved():
    from datetime import timedelta as _td

    from django.utils import timezone as _tz

    from surveys.selectors.dashboard import _ticket_metrics
    from tickets.models import CloseReason, Status, Ticket
    from tickets.tests.factories import QueueFactory, TicketFactory, UserFactory

    queue, ann, bob = QueueFactory(), UserFactory(), UserFactory()
    now = _tz.now()
    for assignee, reason, first, resolution in [
        (ann, CloseReason.SOLVED, 10, 100),
        (ann, CloseReason.SOLVED, 30, 300),
        (ann, CloseReason.DUPLICATE, 999, 999),
        (bob, CloseReason.SOLVED, 20, None),
        (None, CloseReason.SOLVED, None, 50),
    ]:
        TicketFactory(
            queue=queue,
            assignee=assignee,
            status=Status.CLOSED,
            close_reason=reason,
            closed_at=now,
            first_reply_seconds=first,
            resolution_seconds=resolution,
        )
    tickets = Ticket.objects.filter(queue=queue, closed_at__gte=now - _td(days=1))

    by_agent, overall = _ticket_metrics(tickets=tickets, agent_ids=[ann.pk, bob.pk])

    assert {k: (v["closed"], v["first_reply"], v["resolution"]) for k, v in by_agent.items()} == {
        ann.pk: (3, 20.0, 200.0),
        bob.pk: (1, 20.0, None),
        None: (1, None, 50.0),
    }
    if overall is not None:  # SQLite computes the overall medians with the same query
        assert overall == {"first_reply": 20.0, "resolution": 100.0}
