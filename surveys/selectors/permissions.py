"""Who sees what of surveys. Built on tickets.selectors (queue membership is the one rule): an agent sees their
queues; a lead also sees their team's feedback and every follow-up of the queues they lead; an admin sees all."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from common.users import UserLike, is_active_user
from tickets.models import Queue, QueueMembership
from tickets.selectors import queues_visible_to

from ..models import FollowUp, SurveyInvitation


def queues_led_by(user: UserLike) -> QuerySet[Queue]:
    """Queues where the user is a lead (admins: every queue)."""
    if not is_active_user(user):
        return Queue.objects.none()
    if user.is_superuser:
        return Queue.objects.all()
    return Queue.objects.filter(
        pk__in=QueueMembership.objects.filter(user_id=user.pk, role=QueueMembership.Role.LEAD).values("queue_id")
    )


def user_is_lead(user: UserLike) -> bool:
    """Admins and leads of at least one queue (one query, none for admins)."""
    if not is_active_user(user):
        return False
    return bool(user.is_superuser) or queues_led_by(user).exists()


def followups_visible_to(user: UserLike) -> QuerySet[FollowUp]:
    """Admins all; a lead every follow-up of the queues they lead; an agent the ones they own in their queues
    plus the unassigned ones of their queues."""
    if not is_active_user(user):
        return FollowUp.objects.none()
    if user.is_superuser:
        return FollowUp.objects.all()
    member_queues = queues_visible_to(user).values("pk")
    led_queues = queues_led_by(user).values("pk")
    return FollowUp.objects.filter(
        Q(queue_id__in=led_queues) | (Q(queue_id__in=member_queues) & (Q(owner_id=user.pk) | Q(owner__isnull=True)))
    )


def invitations_visible_to(user: UserLike) -> QuerySet[SurveyInvitation]:
    """Invitations whose queue snapshot is one of the user's queues (admins all)."""
    if not is_active_user(user):
        return SurveyInvitation.objects.none()
    if user.is_superuser:
        return SurveyInvitation.objects.all()
    return SurveyInvitation.objects.filter(queue_id__in=queues_visible_to(user).values("pk"))


def team_agents_visible_to(user: UserLike) -> QuerySet[User]:
    """Agents whose feedback the user may open: members of the queues they lead (admins: every queue member)."""
    if not is_active_user(user):
        return User.objects.none()
    memberships = QueueMembership.objects.all()
    if not user.is_superuser:
        memberships = memberships.filter(queue_id__in=queues_led_by(user).values("pk"))
    return User.objects.filter(pk__in=memberships.values("user_id"), is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def agent_feedback_invitations(*, viewer: UserLike, agent_id: int) -> QuerySet[SurveyInvitation] | None:
    """The invitations whose figures `viewer` may see as `agent_id`'s feedback (None: not allowed): your own all of
    them; a lead a team member's in the queues they lead only; an admin anyone's. UI and API both ask here."""
    if not is_active_user(viewer):
        return None
    invitations = SurveyInvitation.objects.filter(agent_id=agent_id)
    if agent_id == viewer.pk or viewer.is_superuser:
        return invitations
    if not team_agents_visible_to(viewer).filter(pk=agent_id).exists():
        return None
    return invitations.filter(queue_id__in=queues_led_by(viewer).values("pk"))


def followup_assignees(*, followup: FollowUp) -> QuerySet[User]:
    """Who a follow-up can be reassigned to: the active members of its queue."""
    return User.objects.filter(
        is_active=True, pk__in=QueueMembership.objects.filter(queue_id=followup.queue_id).values("user_id")
    ).order_by("first_name", "last_name", "username")
