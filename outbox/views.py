from django.contrib.auth.decorators import user_passes_test
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.fail_open import cache_report

from .selectors import email_kind_counts, failed_emails_recent, outbox_health, smtp_outage


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For monitors: 200 when beat, worker and mail are flowing, else 503. Counts and ages only, nothing personal.
    Also the cache (Redis) pinged now and this process's fail-open count; an unreachable cache does not make it 503
    by itself: every page keeps working without it (the rate limits fail open, see common.fail_open)."""
    health = outbox_health()
    return JsonResponse(health.as_dict() | cache_report(), status=200 if health.ok else 503)


def _is_admin(user: object) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


@user_passes_test(_is_admin, login_url="admin:login")  # as the admin site: superusers only (helpdesk.admin_site)
@never_cache
@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    context = {
        "title": "System status",
        "health": outbox_health(),
        "smtp_outage": smtp_outage(),
        "failed": failed_emails_recent(),
        "kinds": email_kind_counts(),
        "site_header": "Helpdesk administration",
        "has_permission": True,
    }
    return render(request, "outbox/status.html", context)
