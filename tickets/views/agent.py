"""Agent pages: home, ticket list, ticket detail, new ticket. Reads go through tickets.selectors."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Window
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from common.errors import DomainError
from common.users import display_name, signed_in_user
from outbox.models import Suppression

from ..extensions import (
    list_columns,
    list_view,
    reply_tools,
    thread_notices,
    ticket_panel_annotations,
    ticket_panels,
)
from ..forms import (
    AssignForm,
    BulkForm,
    CcAddForm,
    CcRemoveForm,
    CloseForm,
    CustomerEmailForm,
    MoveForm,
    NewTicketForm,
    NoteForm,
    PriorityForm,
    ReopenForm,
    ReplyForm,
    StatusForm,
    TagAddForm,
    TagRemoveForm,
    TicketListForm,
)
from ..models import OPEN_STATUSES, SlaTarget, Tag, Ticket, TicketCC, TicketTag
from ..selectors import (
    DEFAULT_SORT,
    assignable_agents,
    list_row_annotations,
    list_sorts,
    list_view_choices,
    queues_visible_to,
    related_tickets,
    ticket_thread,
    tickets_for_list,
    tickets_visible_to,
    user_leads_queue,
    view_default_order,
    with_followed_flag,
)
from ..services import ticket_create_for_email
from .sla import sla_due, sla_target_rows

PAGE_SIZE = 50


SORT_COLUMNS = [
    ("reference", "Ticket"),
    ("subject", "Subject"),
    ("customer", "Customer"),
    ("status", "Status"),
    ("priority", "Priority"),
    ("sla", "SLA"),
    ("assignee", "Assignee"),
    ("age", "Age"),
    ("updated", "Last update"),
]


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    tickets = tickets_visible_to(request.user)
    my_open = tickets.filter(assignee_id=request.user.pk, status__in=OPEN_STATUSES)
    context = {
        "queues": queues_visible_to(request.user),
        "my_open_count": my_open.count(),
        "my_open_tickets": my_open.select_related("queue", "customer").order_by("-updated_at")[:20],
        "unassigned_count": tickets.filter(assignee__isnull=True, status__in=OPEN_STATUSES).count(),
    }
    return render(request, "tickets/home.html", context)


def _sort_headers(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    """Column headers: each links to the list sorted by it (toggling the direction when it is the current sort)."""
    headers = []
    sorts = list_sorts()
    for column, label in SORT_COLUMNS + [(registered.key, registered.label) for registered in list_columns()]:
        assert column in sorts  # noqa: S101 - the whitelist and the headers must agree
        active = current.removeprefix("-") == column
        descending = current.startswith("-")
        params = request.GET.copy()
        params.pop("page", None)
        params["sort"] = column if active and descending else f"-{column}" if active else column
        headers.append(
            {
                "label": label,
                "query": params.urlencode(),
                "aria_sort": ("descending" if descending else "ascending") if active else "none",
            }
        )
    return headers


def _list_rows(tickets: list[Ticket]) -> list[dict[str, Any]]:
    """What each row of the list shows, as plain values computed once here: the template then renders 50 rows with
    one dictionary lookup per cell instead of method calls, filters and {% url %} per cell."""
    now = timezone.now()
    columns = list_columns()
    detail_url = reverse("tickets:detail", args=[0]).removesuffix("0/")  # once, not a reverse() per row
    rows = []
    for ticket in tickets:
        assignee = ticket.assignee
        created, updated = timezone.localtime(ticket.created_at), timezone.localtime(ticket.updated_at)
        rows.append(
            {
                "pk": ticket.pk,
                "url": f"{detail_url}{ticket.pk}/",
                "reference": ticket.reference,
                "subject": ticket.subject,
                "queue": ticket.queue.name,
                "tags": _row_tags(getattr(ticket, "tag_names", "")),
                "customer_name": ticket.customer.name,
                "customer_email": ticket.customer.email,
                "status": ticket.status,
                "status_label": ticket.get_status_display(),
                "priority": ticket.priority,
                "priority_label": ticket.get_priority_display(),
                "sla": sla_due(ticket.sla_due_at, now=now),
                "assignee": display_name(assignee),
                "created_iso": created.isoformat(),
                "created_title": f"{created:%Y-%m-%d %H:%M}",
                "age": timesince(ticket.created_at, now, depth=1),
                "updated_iso": updated.isoformat(),
                "updated_title": f"{updated:%Y-%m-%d %H:%M}",
                "updated_ago": timesince(ticket.updated_at, now, depth=1),
                "extra_cells": [column.cell(ticket) for column in columns],
            }
        )
    return rows


def _row_tags(names: str | None) -> list[dict[str, str]]:
    """A row's tags (list_row_annotations' comma-separated names), each with the query of the list filtered by it."""
    return [
        {"name": name, "query": QueryDict.fromkeys(["tag"], name).urlencode() + "&view=all"}
        for name in sorted((names or "").split(","), key=str.casefold)
        if name
    ]


MAX_PAGE_WITH_TOTAL = 10_000


def _page_with_total(tickets: QuerySet[Ticket], number: str | None) -> Page | None:
    """A page whose total comes with its rows (COUNT(*) OVER ()): the matches are found once, not once for a COUNT
    and again for the page (searches, whose matches are all read to be sorted anyway).
    None past the last page: the caller's Paginator then counts and shows the last page, as get_page does."""
    try:
        page_number = max(int(number or 1), 1)
    except ValueError:
        page_number = 1
    if page_number > MAX_PAGE_WITH_TOTAL:
        return None  # the Paginator clamps it (and no OFFSET past what the database's integers hold)
    bottom = (page_number - 1) * PAGE_SIZE
    rows = list(tickets.annotate(search_total=Window(Count("*")))[bottom : bottom + PAGE_SIZE])
    if not rows and page_number > 1:
        return None
    paginator = Paginator(tickets, PAGE_SIZE)
    paginator.count = rows[0].search_total if rows else 0  # sets the cached_property
    return Page(rows, page_number, paginator)


class PageByIdsPaginator(Paginator):
    """Reads a page in one query whose inner part finds the page's ids over the whole match (joins, filters, order)
    and whose outer part reads only those rows: for views with page_by_ids (a match from another app's table),
    so the database sorts small index entries and reads 50 tickets instead of every match."""

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        matches = cast(QuerySet[Ticket], self.object_list)
        ids = matches.values("pk")[bottom : bottom + self.per_page]
        rows = matches.model._default_manager.filter(pk__in=ids).order_by(*matches.query.order_by)
        rows = rows.annotate(**list_row_annotations())
        rows.query.select_related = matches.query.select_related
        return Page(rows, number, self)


def _default_sort(view: str) -> str:
    """The sort a list view shows when none is chosen: the list's, unless the view orders itself."""
    return "" if view_default_order(view) else DEFAULT_SORT


@login_required
@require_GET
@vary_on_headers("HX-Request")
def ticket_list(request: HttpRequest) -> HttpResponse:
    form = TicketListForm(request.GET, user=request.user)
    filters = form.filters()
    tickets = tickets_for_list(user=request.user, filters=filters)
    page = _page_with_total(tickets, request.GET.get("page")) if filters.search.strip() else None
    view = list_view(filters.view)
    paginator_class = PageByIdsPaginator if view is not None and view.page_by_ids else Paginator
    if page is None:  # not a search, or a search's page past its last (an empty Page is falsy: not `or`)
        page = paginator_class(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "views": list_view_choices().items(),
        "page": page,
        "tickets": page.object_list,
        "rows": _list_rows(list(page.object_list)),
        "query": params.urlencode(),
        "headers": _sort_headers(request, filters.sort or _default_sort(filters.view)),
        "filtered": any(v for k, v in form.cleaned_data.items() if k not in {"view", "sort"}),
        "bulk_form": BulkForm(
            user=request.user,
            queue_choices=form.queue_choices,
            agent_choices=form.agent_choices,
            initial={"back": request.GET.urlencode()},
        ),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "tickets/_list_results.html", context)
    return render(request, "tickets/list.html", context)


# --- detail --------------------------------------------------------------------------------------------------------

DETAIL_FORMS = {
    "reply_form": ReplyForm,
    "note_form": NoteForm,
    "assign_form": AssignForm,
    "status_form": StatusForm,
    "priority_form": PriorityForm,
    "move_form": MoveForm,
    "close_form": CloseForm,
    "reopen_form": ReopenForm,
    "cc_add_form": CcAddForm,
    "cc_remove_form": CcRemoveForm,
    "customer_email_form": CustomerEmailForm,
    "tag_add_form": TagAddForm,
    "tag_remove_form": TagRemoveForm,
}


def visible_ticket(request: HttpRequest, pk: int) -> Ticket:
    """The ticket if this user may see it; 404 otherwise (another queue's ticket does not exist for them)."""
    tickets = tickets_visible_to(request.user).select_related("queue", "customer", "assignee")
    tickets = tickets.annotate(
        has_ccs=Exists(TicketCC.objects.filter(ticket=OuterRef("pk"))),
        has_sla_targets=Exists(SlaTarget.objects.filter(ticket=OuterRef("pk"))),
        # why the customer's address bounces (the outbox sends it nothing), read with the ticket: the page's banner
        customer_bounce=Subquery(
            Suppression.objects.filter(email__iexact=OuterRef("customer__email")).values("reason")[:1]
        ),
        has_tags=Exists(TicketTag.objects.filter(ticket=OuterRef("pk"))),
    )
    return get_object_or_404(with_followed_flag(tickets).annotate(**ticket_panel_annotations()), pk=pk)


def _ccs(ticket: Ticket) -> list[TicketCC]:
    """The ticket's CCs; no query for a ticket read by visible_ticket without any."""
    return list(ticket.ccs.order_by("email")) if getattr(ticket, "has_ccs", True) else []


def _tags(ticket: Ticket) -> list[Tag]:
    """The ticket's tags by name; no query for a ticket read by visible_ticket without any."""
    return (
        list(Tag.objects.filter(ticket_tags__ticket=ticket).order_by("name"))
        if getattr(ticket, "has_tags", True)
        else []
    )


def _sla_targets(ticket: Ticket) -> list[SlaTarget]:
    """The ticket's SLA targets, oldest clock first; no query for a ticket read by visible_ticket without any."""
    return list(ticket.sla_targets.order_by("started_at", "id")) if getattr(ticket, "has_sla_targets", True) else []


def render_detail(
    request: HttpRequest, ticket: Ticket, *, bound: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """The detail page, or only its #ticket part for htmx (always 200 so htmx swaps errors in too)."""
    user = signed_in_user(request)
    context: dict[str, Any] = {name: form_class(ticket=ticket, user=user) for name, form_class in DETAIL_FORMS.items()}
    context.update(bound or {})
    context.update({"ticket": ticket, "thread": ticket_thread(ticket=ticket), "user_id": user.pk})
    context.update({"related": related_tickets(ticket=ticket, user=user), "ccs": _ccs(ticket), "tags": _tags(ticket)})
    context["sla_targets"] = sla_target_rows(_sla_targets(ticket), now=timezone.now())
    context["panels"] = [
        render_to_string(panel.template, panel.context(ticket), request=request) for panel in ticket_panels()
    ]
    context["thread_notices"] = [
        render_to_string(notice.template, notice_context, request=request)
        for notice in thread_notices()
        if (notice_context := notice.context(ticket)) is not None
    ]
    context["reply_tools"] = [
        render_to_string(tool.template, tool.context(ticket), request=request)
        for tool in (reply_tools() if not ticket.is_closed else ())  # a closed ticket has no reply box
    ]
    context["can_correct_email"] = bool(getattr(ticket, "customer_bounce", None)) and (
        user.is_superuser or user_leads_queue(user=user, queue_id=ticket.queue_id)
    )  # a query only on the rare ticket whose customer bounces
    context["can_take"] = (
        ticket.assignee_id != user.pk and assignable_agents(queue_ids=[ticket.queue_id]).filter(pk=user.pk).exists()
    )
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render(request, "tickets/_ticket.html", context)
    return render(request, "tickets/detail.html", context, status=status)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, visible_ticket(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    form = NewTicketForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = ticket_create_for_email(
                queue=data["queue"],
                email=data["customer_email"],
                name=data["customer_name"],
                subject=data["subject"],
                body=data["body"],
                priority=data["priority"],
                assignee=data["assignee"],
                by=signed_in_user(request),
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Ticket {ticket.reference} created.")
            return redirect("tickets:detail", pk=ticket.pk)
    return render(request, "tickets/new.html", {"form": form}, status=400 if form.errors else 200)
