"""Reads. `tickets_visible_to` is THE permission rule for tickets: UI, API and admin querysets all go through it."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)

from common.users import UserLike, is_active_user

from .extensions import list_column_annotations, list_columns, list_filters, list_view, list_views
from .models import (
    Attachment,
    Channel,
    Customer,
    Message,
    Priority,
    Queue,
    QueueMembership,
    Status,
    Ticket,
    TicketEvent,
    TicketTag,
    format_reference,
    parse_reference,
)
from .saved_views import DEFAULT_VIEW


def queues_visible_to(user: UserLike) -> QuerySet[Queue]:
    """Admins see every queue; agents and leads the queues they are members of; others none."""
    if not is_active_user(user):
        return Queue.objects.none()
    if user.is_superuser:
        return Queue.objects.all()
    return Queue.objects.filter(pk__in=QueueMembership.objects.filter(user_id=user.pk).values("queue_id"))


def queue_ids_visible_to(user: UserLike) -> QuerySet[Any]:
    """The ids of queues_visible_to as a subquery of memberships (what the planners estimate best); admins: all."""
    if is_active_user(user) and user.is_superuser:
        return Queue.objects.values("pk")
    memberships = (
        QueueMembership.objects.filter(user_id=user.pk) if is_active_user(user) else QueueMembership.objects.none()
    )
    return memberships.values("queue_id")


def tickets_visible_to(user: UserLike) -> QuerySet[Ticket]:
    if not is_active_user(user):
        return Ticket.objects.none()
    if user.is_superuser:
        return Ticket.objects.all()
    return Ticket.objects.filter(queue_id__in=queue_ids_visible_to(user))


def customers_visible_to(user: UserLike) -> QuerySet[Customer]:
    """Customers of the tickets the user can see (tickets_visible_to); admins also see customers without tickets."""
    if is_active_user(user) and user.is_superuser:
        return Customer.objects.all()
    return Customer.objects.filter(pk__in=tickets_visible_to(user).values("customer_id"))


def user_leads_queue(*, user: UserLike, queue_id: int) -> bool:
    return (
        is_active_user(user)
        and QueueMembership.objects.filter(user_id=user.pk, queue_id=queue_id, role=QueueMembership.Role.LEAD).exists()
    )


def user_can_work_in_queue(*, user: UserLike, queue_id: int) -> bool:
    if not is_active_user(user):
        return False
    return bool(user.is_superuser) or QueueMembership.objects.filter(user_id=user.pk, queue_id=queue_id).exists()


# --- the agent ticket list ------------------------------------------------------------------------------------------

_PRIORITY_RANK = Case(
    *(When(priority=value, then=Value(rank)) for rank, value in enumerate(Priority.values)),
    default=Value(0),
    output_field=IntegerField(),
)
_STATUS_RANK = Case(
    *(When(status=value, then=Value(rank)) for rank, value in enumerate(Status.values)),
    default=Value(0),
    output_field=IntegerField(),
)
# Column → ordering expression (ties broken by id). Only these, and registered columns, can be sorted on.
BUILT_IN_SORTS: dict[str, Any] = {
    "reference": F("id"),
    "subject": F("subject"),
    "customer": F("customer__email"),
    "status": _STATUS_RANK,
    "priority": _PRIORITY_RANK,
    "assignee": F("assignee__username"),
    "age": F("created_at"),
    "updated": F("updated_at"),
    "sla": F("sla_due_at"),
}
DEFAULT_SORT = "-updated"
# Only these columns can be NULL: "NULLS LAST" elsewhere would stop the database from reading an index in order.
NULLABLE_SORTS = {"assignee", "sla"}


def list_view_choices() -> dict[str, str]:
    """The list's saved views (tickets.saved_views and those other apps registered), in their order: key → label."""
    return {view.key: view.label for view in list_views()}


def list_sorts() -> dict[str, tuple[Any, bool]]:
    """Sort name → (ordering expression, nullable), built-in and registered columns."""
    sorts = {key: (expression, key in NULLABLE_SORTS) for key, expression in BUILT_IN_SORTS.items()}
    sorts |= {column.key: (column.sort, column.nullable) for column in list_columns() if column.sort is not None}
    return sorts


@dataclass(frozen=True)
class TicketListFilters:
    view: str = DEFAULT_VIEW
    queue_id: int | None = None
    status: str = ""
    priority: str = ""
    assignee_id: int | None = None
    unassigned: bool = False
    customer: str = ""
    tag: str = ""  # a tag's name (any case) or slug
    created_from: date | None = None
    created_to: date | None = None
    search: str = ""
    sort: str = ""  # "" → the view's default order, else DEFAULT_SORT
    extra: dict[str, Any] = field(default_factory=dict)  # registered filters (tickets.extensions): name → value


def _apply_search(tickets: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Subject or any message body matches. Messages are matched in an EXISTS subquery, so no row is repeated."""
    text = text.strip()
    if not text:
        return tickets
    by_reference = Q(pk=parse_reference(text)) if text.upper().startswith("HD-") else Q(pk__in=[])
    if connection.vendor == "postgresql":
        # Uncorrelated IN subqueries, so the GIN indexes of migration tickets 0005 find the matches (an EXISTS per
        # ticket would compute every message's tsvector).
        query = SearchQuery(text, search_type="websearch", config="english")
        bodies = Message.objects.annotate(document=SearchVector("body", config="english")).filter(document=query)
        subjects = Ticket.objects.annotate(document=SearchVector("subject", config="english")).filter(document=query)
        return tickets.filter(Q(pk__in=subjects.values("pk")) | Q(pk__in=bodies.values("ticket_id")) | by_reference)
    matching_bodies = Message.objects.filter(ticket_id=OuterRef("pk"), body__icontains=text)
    return tickets.filter(Q(subject__icontains=text) | Exists(matching_bodies) | by_reference)


def view_default_order(view: str) -> tuple[Any, ...]:
    """The order a view shows when the user chose no sort (empty: the list's DEFAULT_SORT)."""
    registered = list_view(view)
    return registered.default_order if registered is not None else ()


class _TagNames(Aggregate):
    """The names of a ticket's tags in one text, comma-separated (a tag name never holds a comma)."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="STRING_AGG", template="%(function)s(%(expressions)s, ',')")


def list_row_annotations() -> dict[str, Any]:
    """What each row of the list reads with it: the registered columns' annotations and `tag_names` (the ticket's
    tags in a correlated subquery: no query per row, nor one for the page)."""
    return {**list_column_annotations(), "tag_names": _tag_names()}


@functools.cache
def _tag_names() -> Subquery:
    """Built once, reused by every query (as the columns' annotations: a query copies an expression it resolves)."""
    tags = TicketTag.objects.filter(ticket_id=OuterRef("pk")).values("ticket_id")
    return Subquery(tags.annotate(names=_TagNames("tag__name")).values("names"), output_field=CharField())


def tickets_for_list(*, user: UserLike, filters: TicketListFilters) -> QuerySet[Ticket]:
    """The agent list: visible tickets narrowed by a saved view (an unknown key narrows nothing), filters and
    search, in a whitelisted order."""
    tickets = tickets_visible_to(user)
    if not is_active_user(user):
        return tickets
    view = list_view(filters.view)
    tickets = view.narrow(tickets, user) if view is not None else tickets
    tickets = _apply_filters(tickets, filters)
    tickets = _apply_search(tickets, filters.search).select_related("queue", "customer", "assignee")
    tickets = tickets.annotate(**list_row_annotations())
    default_order = view_default_order(filters.view)
    if not filters.sort and default_order:
        return tickets.order_by(*default_order, "-id")
    return _ordered(tickets, filters.sort)


def _apply_filters(tickets: QuerySet[Ticket], filters: TicketListFilters) -> QuerySet[Ticket]:
    """The list's filters: queue, status, priority, assignee, customer, tag, creation dates, and the registered ones."""
    if filters.queue_id is not None:
        tickets = tickets.filter(queue_id=filters.queue_id)
    if filters.status:
        tickets = tickets.filter(status=filters.status)
    if filters.priority:
        tickets = tickets.filter(priority=filters.priority)
    if filters.unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee_id is not None:
        tickets = tickets.filter(assignee_id=filters.assignee_id)
    if filters.customer.strip():
        needle = filters.customer.strip()
        tickets = tickets.filter(Q(customer__email__icontains=needle) | Q(customer__name__icontains=needle))
    if filters.tag:
        tagged = TicketTag.objects.filter(Q(tag__name__iexact=filters.tag) | Q(tag__slug=filters.tag))
        tickets = tickets.filter(Exists(tagged.filter(ticket_id=OuterRef("pk"))))
    if filters.created_from is not None:
        tickets = tickets.filter(created_at__date__gte=filters.created_from)
    if filters.created_to is not None:
        tickets = tickets.filter(created_at__date__lte=filters.created_to)
    for registered in list_filters():
        value = filters.extra.get(registered.name)
        if value not in (None, ""):
            tickets = registered.narrow(tickets, value)
    return tickets


def _ordered(tickets: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    """In the whitelisted column order `sort` names ("-" first: descending), then by id the same way."""
    sorts = list_sorts()
    column = (sort or DEFAULT_SORT).removeprefix("-")
    expression, nullable = sorts.get(column, sorts["updated"])
    descending = (sort or DEFAULT_SORT).startswith("-") if column in sorts else True
    nulls = {"nulls_last": True} if nullable else {}
    order = expression.desc(**nulls) if descending else expression.asc(**nulls)
    id_order = F("id").desc() if descending else F("id").asc()
    return tickets.order_by(order, id_order)


def assignable_agents(*, queue_ids: Iterable[int] | QuerySet[Queue]) -> QuerySet[User]:
    """Active members of these queues (each once), for assignee choices."""
    return (
        User.objects.filter(is_active=True, queue_memberships__queue__in=queue_ids)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def queue_leads(*, queue_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active leads with an email address of each of these queues (one query), for the notices leads get."""
    leads: dict[int, list[User]] = {}
    memberships = (
        QueueMembership.objects.filter(queue_id__in=queue_ids, role=QueueMembership.Role.LEAD, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id")
    )
    for membership in memberships:
        leads.setdefault(membership.queue_id, []).append(membership.user)
    return leads


# --- the ticket detail -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadItem:
    at: datetime
    message: Message | None = None
    event: TicketEvent | None = None


def ticket_thread(*, ticket: Ticket, public_only: bool = False) -> list[ThreadItem]:
    """Messages and ticket events in time order. `public_only` (the customer's view): no notes and no events."""
    messages = Message.objects.filter(ticket=ticket).select_related("author_user", "author_customer")
    if public_only:
        messages = messages.exclude(kind=Message.Kind.INTERNAL_NOTE)
    else:  # agents see what became of each reply's email to the customer
        messages = messages.select_related("customer_email")
    # Attachments ordered by id, not joining the messages. Only emails have attachments: no query for a ticket
    # without email messages.
    loaded = list(messages)
    emails = [message for message in loaded if message.channel == Channel.EMAIL]
    prefetch_related_objects(emails, Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    if public_only:
        return [ThreadItem(at=m.created_at, message=m) for m in loaded]
    # "Message added" events repeat the messages themselves; the thread shows the message instead.
    events = TicketEvent.objects.filter(ticket=ticket).exclude(kind=TicketEvent.Kind.MESSAGE).select_related("actor")
    items = [ThreadItem(at=m.created_at, message=m) for m in loaded]
    items += [ThreadItem(at=e.at, event=e) for e in events]
    # Stable: at the same instant the event (e.g. "created") comes before the message it accompanies.
    return sorted(items, key=lambda item: (item.at, 0 if item.event else 1))


@dataclass(frozen=True)
class RelatedTickets:
    follows_reference: str  # of the closed ticket this one continues ("" if none)
    follows: Ticket | None  # that ticket, if the user can see it
    followed_by: list[Ticket]  # the tickets continuing this one that the user can see, oldest first


def with_followed_flag(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotates `is_followed` (a later ticket continues it): read with the ticket, so related_tickets needs no query
    for the many tickets without links."""
    return tickets.annotate(is_followed=Exists(Ticket.objects.filter(follows_id=OuterRef("pk"))))


def related_tickets(*, ticket: Ticket, user: UserLike) -> RelatedTickets:
    """The tickets a customer's late email linked to this one (Ticket.follows), only those the user can see (a link to
    a ticket they cannot open would only lead to a 404). One query, none for a ticket read with_followed_flag that
    has no links."""
    if not ticket.follows_id and not getattr(ticket, "is_followed", True):
        return RelatedTickets(follows_reference="", follows=None, followed_by=[])
    linked = Q(follows_id=ticket.pk) | (Q(pk=ticket.follows_id) if ticket.follows_id else Q(pk__in=[]))
    rows = list(tickets_visible_to(user).filter(linked).only("id", "status", "follows").order_by("created_at", "id"))
    return RelatedTickets(
        follows_reference=format_reference(ticket.follows_id) if ticket.follows_id else "",
        follows=next((row for row in rows if row.pk == ticket.follows_id), None),
        followed_by=[row for row in rows if row.follows_id == ticket.pk],
    )
