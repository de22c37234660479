"""Follow-up services: each action's happy path; refusals change nothing; reminder and escalation happen once."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from common.errors import DomainError
from outbox.models import OutgoingEmail
from surveys import services
from surveys.models import FollowUp, FollowUpEvent
from surveys.selectors import followups_for_team
from surveys.tests.factories import FollowUpFactory
from tickets import services as tickets_services
from tickets.models import QueueMembership
from tickets.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
Status = FollowUp.Status
Kind = FollowUpEvent.Kind


@pytest.fixture
def followup(queue, agent):
    return FollowUpFactory(queue=queue, owner=agent)


def snapshot(followup):
    row = FollowUp.objects.values().get(pk=followup.pk)
    return row, list(FollowUpEvent.objects.filter(followup=followup).values_list("kind", flat=True))


def test_mark_contacted_records_note_time_and_history_once(followup, agent):
    updated = services.followup_mark_contacted(followup_id=followup.pk, by=agent, note="Called, refund agreed")

    assert updated.status == Status.CONTACTED
    assert updated.contacted_at is not None
    assert updated.note == "Called, refund agreed"
    event = FollowUpEvent.objects.get(followup=followup)
    assert (event.kind, event.actor, event.note) == (Kind.CONTACTED, agent, "Called, refund agreed")

    # a double submit changes nothing and writes no second event
    again = services.followup_mark_contacted(followup_id=followup.pk, by=agent, note="Called again")
    assert again.note == "Called, refund agreed"
    assert FollowUpEvent.objects.filter(followup=followup).count() == 1


def test_resolve_needs_an_outcome_and_a_root_cause(followup, agent):
    before = snapshot(followup)
    with pytest.raises(DomainError, match="outcome"):
        services.followup_resolve(followup_id=followup.pk, by=agent, outcome="  ", root_cause="product_bug")
    with pytest.raises(DomainError, match="root cause"):
        services.followup_resolve(followup_id=followup.pk, by=agent, outcome="Refunded", root_cause="")
    with pytest.raises(DomainError, match="root cause"):
        services.followup_resolve(followup_id=followup.pk, by=agent, outcome="Refunded", root_cause="bogus")
    assert snapshot(followup) == before


def test_resolve_from_open_or_contacted_and_idempotent(followup, agent):
    services.followup_mark_contacted(followup_id=followup.pk, by=agent, note="Called")
    resolved = services.followup_resolve(
        followup_id=followup.pk, by=agent, outcome="Refunded the fee", root_cause=FollowUp.RootCause.POLICY
    )
    assert (resolved.status, resolved.root_cause, resolved.outcome) == (Status.RESOLVED, "policy", "Refunded the fee")
    assert resolved.closed_at is not None

    services.followup_resolve(followup_id=followup.pk, by=agent, outcome="Other", root_cause="other")
    resolved.refresh_from_db()
    assert resolved.outcome == "Refunded the fee"
    assert list(FollowUpEvent.objects.filter(followup=followup).values_list("kind", flat=True)) == [
        Kind.CONTACTED,
        Kind.RESOLVED,
    ]


def test_closed_follow_ups_refuse_further_actions_and_change_nothing(followup, agent, queue):
    services.followup_mark_unreachable(followup_id=followup.pk, by=agent, note="3 calls, 2 emails")
    before = snapshot(followup)
    other = MembershipFactory(queue=queue).user

    with pytest.raises(DomainError, match="unreachable"):
        services.followup_mark_contacted(followup_id=followup.pk, by=agent, note="x")
    with pytest.raises(DomainError):
        services.followup_resolve(followup_id=followup.pk, by=agent, outcome="x", root_cause="other")
    with pytest.raises(DomainError):
        services.followup_reassign(followup_id=followup.pk, by=agent, owner=other)
    assert snapshot(followup) == before


def test_unreachable_needs_a_note(followup, agent):
    before = snapshot(followup)
    with pytest.raises(DomainError, match="note"):
        services.followup_mark_unreachable(followup_id=followup.pk, by=agent, note="")
    assert snapshot(followup) == before
    done = services.followup_mark_unreachable(followup_id=followup.pk, by=agent, note="No answer on 3 tries")
    assert (done.status, done.note) == (Status.UNREACHABLE, "No answer on 3 tries")


def test_reassign_to_a_queue_member_or_unassigned(followup, agent, lead, queue, outsider):
    colleague = MembershipFactory(queue=queue).user
    moved = services.followup_reassign(followup_id=followup.pk, by=lead, owner=colleague)
    assert moved.owner == colleague
    event = FollowUpEvent.objects.get(followup=followup)
    assert (event.kind, event.actor) == (Kind.REASSIGNED, lead)
    assert colleague.last_name in event.note

    before = snapshot(followup)
    with pytest.raises(DomainError, match="member"):
        services.followup_reassign(followup_id=followup.pk, by=lead, owner=outsider)
    assert snapshot(followup) == before

    # the same owner again: nothing happens
    services.followup_reassign(followup_id=followup.pk, by=lead, owner=colleague)
    assert FollowUpEvent.objects.filter(followup=followup).count() == 1

    assert services.followup_reassign(followup_id=followup.pk, by=lead, owner=None).owner is None


def test_someone_who_cannot_see_it_is_refused_and_nothing_changes(followup, outsider, queue):
    before = snapshot(followup)
    colleague = MembershipFactory(queue=queue).user  # an agent of the queue, but not the owner
    for user in (outsider, colleague):
        with pytest.raises(PermissionDenied):
            services.followup_mark_contacted(followup_id=followup.pk, by=user, note="x")
        with pytest.raises(PermissionDenied):
            services.followup_resolve(followup_id=followup.pk, by=user, outcome="x", root_cause="other")
        with pytest.raises(PermissionDenied):
            services.followup_mark_unreachable(followup_id=followup.pk, by=user, note="x")
        with pytest.raises(PermissionDenied):
            services.followup_reassign(followup_id=followup.pk, by=user, owner=user)
    assert snapshot(followup) == before


def test_an_agent_may_act_on_an_unassigned_follow_up_of_their_queue(queue, agent):
    followup = FollowUpFactory(queue=queue, owner=None)
    taken = services.followup_reassign(followup_id=followup.pk, by=agent, owner=agent)
    assert taken.owner == agent


# --- beat: reminder and escalation ---------------------------------------------------------------------------------


def emails(kind):
    return OutgoingEmail.objects.filter(kind=kind)


def test_the_owner_is_reminded_once_before_the_due_time(queue, agent):
    now = timezone.now()
    due_soon = FollowUpFactory(queue=queue, owner=agent, due_at=now + timedelta(hours=1))
    later = FollowUpFactory(queue=queue, owner=agent, due_at=now + timedelta(hours=5))
    unassigned = FollowUpFactory(queue=queue, owner=None, due_at=now + timedelta(hours=1))

    assert services.followups_remind_due(now=now) == 1
    email = emails("followup_reminder").get()
    assert email.to_email == agent.email
    assert due_soon.ticket.reference in email.subject
    assert f"/followups/{due_soon.pk}/" in email.body_text
    due_soon.refresh_from_db()
    assert due_soon.reminded_at == now
    assert FollowUpEvent.objects.filter(followup=due_soon, kind=Kind.REMINDED).count() == 1

    # the next ticks send nothing more
    assert services.followups_remind_due(now=now + timedelta(minutes=5)) == 0
    assert services.followups_remind_due(now=now + timedelta(minutes=30)) == 0
    assert emails("followup_reminder").count() == 1
    later.refresh_from_db()
    unassigned.refresh_from_db()
    assert later.reminded_at is None and unassigned.reminded_at is None


def test_an_overdue_follow_up_escalates_once_to_the_leads(queue, agent, lead):
    second_lead = MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user
    now = timezone.now()
    overdue = FollowUpFactory(queue=queue, owner=agent, due_at=now - timedelta(minutes=1))
    resolved = FollowUpFactory(queue=queue, owner=agent, due_at=now - timedelta(hours=1), status=Status.RESOLVED)
    not_yet = FollowUpFactory(queue=queue, owner=agent, due_at=now + timedelta(hours=1))

    assert services.followups_escalate_due(now=now) == 1
    sent = emails("followup_escalation")
    assert sorted(sent.values_list("to_email", flat=True)) == sorted([lead.email, second_lead.email])
    overdue.refresh_from_db()
    assert overdue.escalated_at == now

    assert services.followups_escalate_due(now=now + timedelta(minutes=5)) == 0
    assert services.followups_escalate_due(now=now + timedelta(hours=5)) == 1  # only `not_yet`, now overdue
    assert sent.count() == 4
    resolved.refresh_from_db()
    not_yet.refresh_from_db()
    assert resolved.escalated_at is None and not_yet.escalated_at is not None


def test_the_beat_task_runs_both(queue, agent, lead):
    from surveys.tasks import remind_and_escalate_followups

    now = timezone.now()
    FollowUpFactory(queue=queue, owner=agent, due_at=now + timedelta(hours=1))
    FollowUpFactory(queue=queue, owner=agent, due_at=now - timedelta(hours=1))
    assert remind_and_escalate_followups() == (1, 1)
    assert remind_and_escalate_followups() == (0, 0)


def test_follow_ups_follow_their_ticket_into_its_new_queue(followup, agent, lead):
    # given a follow-up in its ticket's queue, and a lead of another queue the ticket moves to
    billing = MembershipFactory(user=agent).queue
    billing_lead = MembershipFactory(queue=billing, role=QueueMembership.Role.LEAD).user
    other = FollowUpFactory()  # another ticket's follow-up

    # when the ticket moves
    tickets_services.ticket_move(ticket_id=followup.ticket_id, queue=billing, by=agent)

    # then its follow-up is in the new queue: the new queue's lead sees it, the old one's no longer does
    followup.refresh_from_db()
    assert followup.queue == billing
    assert list(followups_for_team(user=billing_lead)) == [followup]
    assert list(followups_for_team(user=lead)) == []
    # and another ticket's follow-up stays where it was
    assert FollowUp.objects.get(pk=other.pk).queue == other.queue
