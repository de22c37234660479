"""The count partial of a navigation link (tickets.nav_counts): loaded by htmx when the page had no cached count."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from common.users import signed_in_user

from ..extensions import nav_entries_for
from ..nav_counts import nav_count_fresh


@login_required
@require_GET
def nav_count(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    name = request.GET.get("entry", "")
    entry = next((e for e in nav_entries_for(user) if e.url_name == name and e.count is not None), None)
    if entry is None:
        raise Http404("No such counted navigation entry.")
    return render(request, "tickets/_nav_count.html", {"count": nav_count_fresh(entry, user)})
