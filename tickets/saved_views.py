"""The ticket list's built-in saved views (the tabs, ?view=<key>): registered in TicketsConfig.ready() through
tickets.extensions.list_view_register like the views other apps add, in this order; "All tickets" comes last, after
the other apps' views. They narrow the tickets' own columns, so their pages are read directly (page_by_ids off)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, QuerySet
from django.utils import timezone

from common.users import UserLike

from .extensions import ListView, list_view_register
from .models import OPEN_STATUSES, Status, Ticket

DEFAULT_VIEW = "mine"
RECENTLY_CLOSED_DAYS = 30
SLA_SOON = timedelta(hours=1)
# The SLA views read the index ticket_queue_sla_due (queue, sla_due_at) in order: nearest (most overdue) first.
_NEAREST_DUE_FIRST = (F("sla_due_at").asc(),)


def _mine(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    return tickets.filter(assignee_id=user.pk, status__in=OPEN_STATUSES)


def _unassigned(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    return tickets.filter(assignee__isnull=True, status__in=OPEN_STATUSES)


def _open(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    return tickets.filter(status__in=OPEN_STATUSES)


def _pending(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    return tickets.filter(status=Status.PENDING)


def _on_hold(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    return tickets.filter(status=Status.ON_HOLD)


def _recently_closed(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    since = timezone.now() - timedelta(days=RECENTLY_CLOSED_DAYS)
    return tickets.filter(status=Status.CLOSED, closed_at__gte=since)


def _breaching_soon(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    now = timezone.now()  # sla_due_at is set only while a target runs: no status condition needed
    return tickets.filter(sla_due_at__gte=now, sla_due_at__lt=now + SLA_SOON)


def _breached(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    return tickets.filter(sla_due_at__lt=timezone.now())


def _all(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    return tickets


BUILT_IN_VIEWS = (
    ListView(key=DEFAULT_VIEW, label="My open tickets", narrow=_mine, page_by_ids=False),
    ListView(key="unassigned", label="Unassigned", narrow=_unassigned, page_by_ids=False),
    ListView(key="queues", label="Open in my queues", narrow=_open, page_by_ids=False),
    ListView(key="pending", label="Pending", narrow=_pending, page_by_ids=False),
    ListView(key="on_hold", label="On hold", narrow=_on_hold, page_by_ids=False),
    ListView(key="closed", label="Recently closed", narrow=_recently_closed, page_by_ids=False),
    ListView(
        key="sla_soon",
        label="Breaching in the next hour",
        narrow=_breaching_soon,
        default_order=_NEAREST_DUE_FIRST,
        page_by_ids=False,
    ),
    ListView(
        key="sla_breached", label="Breached", narrow=_breached, default_order=_NEAREST_DUE_FIRST, page_by_ids=False
    ),
    ListView(key="all", label="All tickets", narrow=_all, page_by_ids=False, position=1),
)


def register() -> None:
    for view in BUILT_IN_VIEWS:
        list_view_register(view)
