"""The one permission rule: members see their queues' tickets, admins all, everyone else nothing."""

import pytest
from django.contrib.auth.models import AnonymousUser

from tickets.models import QueueMembership
from tickets.selectors import queues_visible_to, tickets_visible_to, user_can_work_in_queue
from tickets.tests.factories import MembershipFactory, QueueFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_queues():
    mine, theirs = QueueFactory(), QueueFactory()
    return mine, theirs, TicketFactory(queue=mine), TicketFactory(queue=theirs)


@pytest.mark.parametrize("role", [QueueMembership.Role.AGENT, QueueMembership.Role.LEAD])
def test_members_see_only_their_queues(two_queues, role):
    mine, theirs, my_ticket, _their_ticket = two_queues
    user = MembershipFactory(queue=mine, role=role).user

    assert list(tickets_visible_to(user)) == [my_ticket]
    assert list(queues_visible_to(user)) == [mine]
    assert user_can_work_in_queue(user=user, queue_id=mine.pk)
    assert not user_can_work_in_queue(user=user, queue_id=theirs.pk)


def test_member_of_two_queues_sees_each_ticket_once(two_queues):
    mine, theirs, my_ticket, their_ticket = two_queues
    user = MembershipFactory(queue=mine).user
    MembershipFactory(queue=theirs, user=user, role=QueueMembership.Role.LEAD)

    assert sorted(t.pk for t in tickets_visible_to(user)) == sorted([my_ticket.pk, their_ticket.pk])


def test_admin_sees_everything(two_queues, admin_user):
    assert tickets_visible_to(admin_user).count() == 2
    assert queues_visible_to(admin_user).count() == 2


@pytest.mark.parametrize(
    "make_user",
    [
        lambda queue: AnonymousUser(),
        lambda queue: UserFactory(),  # logged in, no membership
        lambda queue: MembershipFactory(queue=queue, user=UserFactory(is_active=False)).user,
        lambda queue: MembershipFactory(queue=queue, user=UserFactory(is_active=False, is_superuser=True)).user,
    ],
    ids=["anonymous", "no-membership", "deactivated-member", "deactivated-admin"],
)
def test_everyone_else_sees_nothing(two_queues, make_user):
    mine, *_ = two_queues
    user = make_user(mine)

    assert tickets_visible_to(user).count() == 0
    assert queues_visible_to(user).count() == 0
    assert not user_can_work_in_queue(user=user, queue_id=mine.pk)
