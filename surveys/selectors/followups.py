"""Follow-up lists: the open follow-ups an agent owns, and the team's (leads: every one they can see)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet

from common.users import UserLike

from ..models import FollowUp
from .permissions import followups_visible_to, user_is_lead

OPEN_FOLLOWUP_STATUSES = (FollowUp.Status.OPEN, FollowUp.Status.CONTACTED)
DUE_SOON = timedelta(hours=4)


def followups_open(followups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    return (
        followups.filter(status__in=OPEN_FOLLOWUP_STATUSES)
        .select_related("ticket", "customer", "queue", "owner", "invitation__response", "nps_survey")
        .order_by("due_at", "id")
    )


def followups_for_owner(*, user: UserLike) -> QuerySet[FollowUp]:
    return followups_open(followups_visible_to(user).filter(owner_id=user.pk))


def followups_for_team(*, user: UserLike) -> QuerySet[FollowUp]:
    """Leads and admins: every open follow-up they can see; agents: the unassigned ones of their queues."""
    visible = followups_visible_to(user)
    if not user_is_lead(user):
        visible = visible.filter(owner__isnull=True)
    return followups_open(visible)
