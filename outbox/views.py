from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import failed_emails_recent, outbox_health, smtp_outage


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For monitors: 200 when beat, worker and mail are flowing, else 503. Counts and ages only, nothing personal."""
    health = outbox_health()
    return JsonResponse(health.as_dict(), status=200 if health.ok else 503)


@staff_member_required
@never_cache
@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    context = {
        "title": "System status",
        "health": outbox_health(),
        "smtp_outage": smtp_outage(),
        "failed": failed_emails_recent(),
        "site_header": "Helpdesk administration",
        "has_permission": True,
    }
    return render(request, "outbox/status.html", context)
