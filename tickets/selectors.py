"""Reads. `tickets_visible_to` is THE permission rule for tickets: UI, API and admin querysets all go through it."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from typing_extensions import TypeIs

from .models import Queue, QueueMembership, Ticket

UserLike = User | AnonymousUser


def _is_active_user(user: UserLike) -> TypeIs[User]:
    return isinstance(user, User) and user.is_active


def queues_visible_to(user: UserLike) -> QuerySet[Queue]:
    """Admins see every queue; agents and leads the queues they are members of; others none."""
    if not _is_active_user(user):
        return Queue.objects.none()
    if user.is_superuser:
        return Queue.objects.all()
    return Queue.objects.filter(pk__in=QueueMembership.objects.filter(user_id=user.pk).values("queue_id"))


def tickets_visible_to(user: UserLike) -> QuerySet[Ticket]:
    if not _is_active_user(user):
        return Ticket.objects.none()
    if user.is_superuser:
        return Ticket.objects.all()
    return Ticket.objects.filter(queue_id__in=QueueMembership.objects.filter(user_id=user.pk).values("queue_id"))


def user_can_work_in_queue(*, user: UserLike, queue_id: int) -> bool:
    if not _is_active_user(user):
        return False
    return bool(user.is_superuser) or QueueMembership.objects.filter(user_id=user.pk, queue_id=queue_id).exists()
