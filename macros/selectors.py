"""Which macros a user sees: offered on a ticket (their own, and those of the ticket's queue if they work in it),
listed on the macros page (their own and their queues'), and editable (their own, and the shared ones of the queues
they lead; admins all)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from common.users import UserLike, is_active_user
from tickets.models import QueueMembership, Ticket
from tickets.selectors import queues_visible_to

from .models import Macro

USAGE_DAYS = 30


def macros_offered(*, user: UserLike, ticket: Ticket) -> QuerySet[Macro]:
    """One query: a queue's macros only on its own tickets, and only to its members (admins: any)."""
    if not is_active_user(user):
        return Macro.objects.none()
    shared = Q(queue_id=ticket.queue_id, queue__in=queues_visible_to(user))
    return Macro.objects.filter(Q(owner_id=user.pk) | shared, active=True)


def _queues_led_by(user: User) -> QuerySet[QueueMembership, int]:
    return QueueMembership.objects.filter(user_id=user.pk, role=QueueMembership.Role.LEAD).values_list(
        "queue_id", flat=True
    )


def macros_listed(*, user: UserLike) -> QuerySet[Macro]:
    """The user's own and their queues' macros, each with its uses in the last USAGE_DAYS days."""
    if not is_active_user(user):
        return Macro.objects.none()
    since = timezone.now() - timedelta(days=USAGE_DAYS)
    return (
        Macro.objects.filter(Q(owner_id=user.pk) | Q(queue__in=queues_visible_to(user)))
        .select_related("queue")
        .annotate(recent_uses=Count("uses", filter=Q(uses__at__gte=since)))
        .order_by("name", "id")
    )


def macros_editable(*, user: UserLike) -> QuerySet[Macro]:
    if not is_active_user(user):
        return Macro.objects.none()
    if user.is_superuser:
        return Macro.objects.all()
    return Macro.objects.filter(Q(owner_id=user.pk) | Q(queue_id__in=_queues_led_by(user)))


def queues_for_shared_macros(*, user: UserLike) -> QuerySet:
    """The queues a user may share a macro with: those they lead (admins: all)."""
    queues = queues_visible_to(user)
    if is_active_user(user) and not user.is_superuser:
        queues = queues.filter(pk__in=_queues_led_by(user))
    return queues
