"""The customer card's partial (the customer's history; agents who may see the ticket, anyone else gets 404) and
the VIP flag's POST (CSRF-checked; back to the ticket with a message)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from common.users import signed_in_user
from tickets.selectors import tickets_visible_to

from .forms import VipForm
from .pages import history_context
from .selectors import customer_history, history_ticket
from .services import customer_vip_set

VIP_MESSAGES = {
    (True, True): "The customer is marked VIP.",
    (True, False): "The customer was already marked VIP.",
    (False, True): "The customer's VIP flag is cleared.",
    (False, False): "The customer was not marked VIP.",
}


@require_GET
@login_required
def history(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = signed_in_user(request)
    ticket = history_ticket(user=user, ticket_id=ticket_id)
    if ticket is None:
        raise Http404("No such ticket.")
    context = history_context(customer_history(user=user, ticket=ticket))
    return render(request, "customers/_history.html", context)


@require_POST
@login_required
def vip(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = signed_in_user(request)
    ticket = get_object_or_404(tickets_visible_to(user).only("pk"), pk=ticket_id)
    form = VipForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to mark the customer VIP or to clear the flag.")
        return redirect("tickets:detail", pk=ticket.pk)
    wanted = form.cleaned_data["vip"] == "set"
    try:
        changed = customer_vip_set(ticket_id=ticket.pk, vip=wanted, by=user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, VIP_MESSAGES[wanted, changed])
    return redirect("tickets:detail", pk=ticket.pk)
