"""Per-IP rate limiting of the public pages (django-ratelimit on the shared cache: Redis in production)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.decorators import ratelimit


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind a proxy, CLIENT_IP_HEADER names the header it sets (e.g. HTTP_X_FORWARDED_FOR);
    in a list, the last entry is the one our own proxy appended, so a client cannot forge it."""
    header = settings.CLIENT_IP_HEADER
    value = request.META.get(header, "") if header else ""
    return value.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "")


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "429.html", status=429)


# Per client IP, each decorated view counted separately; over the limit → RATELIMIT_VIEW (429 page).
public_rate_limit = ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_RATE_LIMIT, block=True)
