"""SLA achievement (tickets.sla.selectors): met / (met + breached) of the targets settled in a period, excluded ones
left out, per agent and queue, in the user's queues only — each figure set one query."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tickets import services
from tickets.models import CloseReason, Message, Priority, SlaPolicy, SlaTarget
from tickets.sla.counts import counted, sla_counts_move
from tickets.sla.selectors import sla_achievement, sla_achievement_rollup
from tickets.tests.factories import MembershipFactory, TicketFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
START, END = NOW - timedelta(days=7), NOW


def target(queue, *, kind="first_reply", result="met", agent=None, settled_at=NOW - timedelta(days=1)):
    ticket = TicketFactory(queue=queue)
    row = SlaTarget.objects.create(
        ticket=ticket, kind=kind, started_at=ticket.created_at, target_seconds=3600, business_hours=False,
        warn_at_percent=80, priority=Priority.NORMAL, queue=queue, result=result,
        settled_at=settled_at if result else None, agent=agent,
    )  # fmt: skip
    sla_counts_move(before=[], after=[counted(row)])  # as sla_refresh does when a target settles
    return row


def figures(achievement):
    return {a.kind: (a.met, a.breached, a.pct) for a in achievement.kinds}


def test_met_over_settled_per_kind_excluded_running_and_outside_the_period_days_left_out(
    queue, agent, django_assert_num_queries
):
    for result in ("met", "met", "met", "breached"):
        target(queue, result=result, agent=agent)
    target(queue, kind="resolution", result="breached", agent=agent)
    target(queue, result="excluded", agent=agent)  # spam / duplicate close
    target(queue, result="", agent=agent)  # still running
    # a period is whole days (UTC): from its start's day to its end's
    target(queue, result="met", agent=agent, settled_at=START - timedelta(days=1))
    target(queue, result="breached", agent=agent, settled_at=END + timedelta(days=1))

    with django_assert_num_queries(1):
        achievement = sla_achievement(user=agent, start=START, end=END)

    assert figures(achievement) == {
        "first_reply": (3, 1, 75.0),
        "next_reply": (0, 0, None),  # nothing settled: the pages show "—"
        "resolution": (0, 1, 0.0),
    }
    assert achievement.settled == 5


def test_spam_and_duplicate_closes_do_not_count(queue, agent, customer):
    """Through the services: the targets of a ticket closed as spam or duplicate settle as excluded."""
    SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, first_reply_minutes=1, resolution_minutes=1,
                             business_hours=False)  # fmt: skip
    tickets = [services.ticket_create(queue=queue, customer=customer, subject="S", body="B", by=None) for _ in "abc"]
    for ticket in tickets:
        services.ticket_assign(ticket_id=ticket.pk, assignee=agent, by=agent)
    services.message_add(ticket_id=tickets[0].pk, kind=Message.Kind.PUBLIC_REPLY, body="Hi", by=agent)
    services.ticket_close(ticket_id=tickets[0].pk, reason=CloseReason.SOLVED, by=agent)
    services.ticket_close(ticket_id=tickets[1].pk, reason=CloseReason.SPAM, by=agent)
    services.ticket_close(ticket_id=tickets[2].pk, reason=CloseReason.DUPLICATE, by=agent)

    achievement = sla_achievement(user=agent, start=START, end=NOW + timedelta(minutes=1), agent_id=agent.pk)

    assert achievement.settled == 2  # the solved ticket's first reply and resolution only
    assert SlaTarget.objects.filter(result="excluded").count() == 4


def test_rollup_per_agent_and_queue_in_one_query(queue, agent, lead, django_assert_num_queries):
    other_queue = MembershipFactory(user=lead, role="lead").queue
    target(queue, agent=agent)
    target(queue, result="breached", agent=agent)
    target(queue, agent=lead)
    target(queue, result="breached")  # settled unassigned
    target(other_queue, kind="resolution", agent=lead)

    with django_assert_num_queries(1):
        rollup = sla_achievement_rollup(user=lead, start=START, end=END, queue_ids=[queue.pk, other_queue.pk])

    assert figures(rollup.by_agent[agent.pk])["first_reply"] == (1, 1, 50.0)
    assert figures(rollup.by_agent[lead.pk]) == {
        "first_reply": (1, 0, 100.0), "next_reply": (0, 0, None), "resolution": (1, 0, 100.0)
    }  # fmt: skip
    assert figures(rollup.by_agent[None])["first_reply"] == (0, 1, 0.0)
    assert figures(rollup.by_queue[queue.pk])["first_reply"] == (2, 2, 50.0)
    assert figures(rollup.by_queue[other_queue.pk])["resolution"] == (1, 0, 100.0)
    assert rollup.total.settled == 5


def test_only_the_users_queues_count(queue, agent, outsider, admin_user):
    target(queue, agent=agent)
    other = target(MembershipFactory(user=outsider).queue, result="breached", agent=agent)  # agent not a member there

    assert figures(sla_achievement(user=agent, start=START, end=END, agent_id=agent.pk))["first_reply"] == (1, 0, 100)
    assert sla_achievement(user=outsider, start=START, end=END, agent_id=agent.pk).settled == 1  # only `other`
    assert sla_achievement(user=outsider, start=START, end=END, queue_ids=[queue.pk]).settled == 0
    rollup = sla_achievement_rollup(user=agent, start=START, end=END, queue_ids=[queue.pk, other.queue_id])
    assert set(rollup.by_queue) == {queue.pk}
    assert sla_achievement(user=admin_user, start=START, end=END).settled == 2
