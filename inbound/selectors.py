"""Reads of email in for the agents' pages. Who may see a stored email: the permission selectors of tickets decide."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from common.users import UserLike
from tickets.selectors import queues_visible_to, tickets_visible_to

from .models import InboundEmail


def inbound_visible_to(user: UserLike) -> QuerySet[InboundEmail]:
    """Stored emails (any status) a user may see and act on: those claiming a ticket they see (tickets_visible_to,
    whichever queue's address the email came to), and those claiming none in a queue they see (queues_visible_to)."""
    return InboundEmail.objects.filter(
        Q(ticket__in=tickets_visible_to(user)) | Q(ticket__isnull=True, queue__in=queues_visible_to(user))
    )


def held_visible_to(user: UserLike) -> QuerySet[InboundEmail]:
    """The held (unverified) emails of the user's queues, newest first: the Held email page and its count."""
    return inbound_visible_to(user).filter(status=InboundEmail.Status.HELD).order_by("-received_at", "-id")


def held_count(user: UserLike) -> int:
    """The navigation's count (one query, cached by tickets.nav_counts)."""
    return held_visible_to(user).count()
