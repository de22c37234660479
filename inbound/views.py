"""Agent pages of email in: the Held email page of the user's queues and its actions, and the ticket page's accept /
reject of a held (unverified) email. Thin: the services (inbound.held) decide; every write is a POST with CSRF, and
an email outside the user's queues (inbound_visible_to) is a 404 for the page and every action."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from common.users import signed_in_user
from tickets.nav_counts import nav_count_forget
from tickets.selectors import tickets_visible_to

from .held import Decision, held_add, held_decide, held_discard, held_new_ticket, held_trust
from .models import InboundEmail
from .selectors import held_visible_to, inbound_visible_to
from .ticket_pages import email_text

PAGE_SIZE = 50
NAV_ENTRY = "inbound:held-list"
ACTIONS: dict[str, Callable[..., Decision]] = {
    "add": held_add,
    "trust": held_trust,
    "new": held_new_ticket,
    "discard": held_discard,
}


def _sender_is_customer(row: InboundEmail) -> bool:
    return row.ticket is not None and parseaddr(row.from_address)[1].lower() == row.ticket.customer.email.lower()


@login_required
@require_GET
def held_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    held = held_visible_to(user).select_related("queue", "ticket__customer")
    page = Paginator(held, PAGE_SIZE).get_page(request.GET.get("page"))
    rows: list[dict[str, Any]] = [{"row": row, "customer": _sender_is_customer(row)} for row in page.object_list]
    return render(request, "inbound/held_list.html", {"page": page, "rows": rows})


def _visible(request: HttpRequest, pk: int) -> InboundEmail:
    row = inbound_visible_to(signed_in_user(request)).filter(pk=pk).first()
    if row is None:
        raise Http404("No such email in your queues.")
    return row


@login_required
@require_GET
def held_text(request: HttpRequest, pk: int) -> HttpResponse:
    """The email's text to judge it by, loaded into its row on demand (parsing 50 emails per page would not do)."""
    row = _visible(request, pk)
    template = "inbound/_held_text.html" if getattr(request, "htmx", False) else "inbound/held_text.html"
    return render(request, template, {"row": row, "text": email_text(row)})


@login_required
@require_POST
def held_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = signed_in_user(request)
    perform = ACTIONS.get(action)
    if perform is None:
        raise Http404("No such action.")
    row = _visible(request, pk)
    try:
        decision = perform(email_id=row.pk, by=user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(NAV_ENTRY)
    nav_count_forget(NAV_ENTRY, user)
    if decision.done:
        messages.success(request, decision.row.outcome)
    else:
        messages.info(request, f"Already decided: {decision.row.outcome}")
    return redirect(NAV_ENTRY)


@login_required
@require_POST
def held_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    held = InboundEmail.objects.filter(
        pk=pk, status=InboundEmail.Status.HELD, ticket__in=tickets_visible_to(user)
    ).first()
    if held is None or held.ticket_id is None:
        raise Http404("No such unverified email.")
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        messages.error(request, "Choose accept or reject.")
        return redirect("tickets:detail", pk=held.ticket_id)
    row = held_decide(email_id=held.pk, accept=decision == "accept", by=user)
    nav_count_forget(NAV_ENTRY, user)
    messages.success(request, row.outcome)
    return redirect("tickets:detail", pk=held.ticket_id)
