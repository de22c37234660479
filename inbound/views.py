"""Agent actions of email in: accept or reject a held (unverified) email on its ticket's page. POST + CSRF only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from common.users import signed_in_user
from tickets.selectors import tickets_visible_to

from .models import InboundEmail
from .routing import held_decide


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
    messages.success(request, row.outcome)
    return redirect("tickets:detail", pk=held.ticket_id)
