"""The list's bulk actions: the checked tickets' ids and one action, POSTed (CSRF) from the list page — without
JavaScript too: the form posts the checked boxes. One service call (tickets_bulk_change, each ticket through its own
service), then back to the list as it was (PRG) with the result's summary as a flash message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from common.errors import DomainError
from common.users import signed_in_user

from ..forms import BulkForm
from ..services import tickets_bulk_change


@login_required
@require_POST
def bulk_change(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = BulkForm(request.POST, user=user)
    if not form.is_valid():
        errors = [
            f"{form[name].label}: {error}" if name in form.fields and name != "ids" else str(error)
            for name, field_errors in form.errors.items()
            for error in field_errors
        ]
        messages.error(request, "Nothing was changed. " + " ".join(errors))
    else:
        try:
            result = tickets_bulk_change(
                ticket_ids=form.cleaned_data["ids"], action=form.cleaned_data["action"], by=user, values=form.values()
            )
        except DomainError as error:
            messages.error(request, f"Nothing was changed. {error}")
        else:
            (messages.warning if result.skipped else messages.success)(request, result.summary())
    return redirect(_back(request.POST.get("back", "")))


def _back(query: str) -> str:
    """The list with the filters it showed: only a query string of the list's own URL (never another address)."""
    params = QueryDict(query[:2000]).urlencode()
    return reverse("tickets:list") + (f"?{params}" if params else "")
