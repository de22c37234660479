"""Rate limits of the public pages and the password reset (django-ratelimit on the shared cache: Redis in
production), per client IP (common.client_ip) or per key. They fail open: when the cache fails the request goes
through, logged and counted (common.fail_open), so a Redis outage never answers a customer with a 500."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from .fail_open import limiter_run


def ratelimited(request: HttpRequest) -> HttpResponse:
    """The page of a request over its limit."""
    return render(request, "429.html", status=429)


def over_limit(
    request: HttpRequest, *, group: str, key: str | Callable[[str, HttpRequest], str], rate: str, method: Any = ALL
) -> bool:
    """Counts this request in `group` under `key` ("ip": the client IP; or a function of group and request) and says
    whether it is over `rate` (e.g. "60/m"). False when the cache fails (fail open)."""
    return limiter_run(
        lambda: bool(is_ratelimited(request=request, group=group, key=key, rate=rate, method=method, increment=True)),
        fail_open=False,
    )


def public_rate_limit(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Per client IP, each decorated view counted separately (PUBLIC_RATE_LIMIT); over it: the 429 page."""
    group = f"{view.__module__}.{view.__qualname__}"

    @wraps(view)
    def limited_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if over_limit(request, group=group, key="ip", rate=settings.PUBLIC_RATE_LIMIT):
            return ratelimited(request)
        return view(request, *args, **kwargs)

    return limited_view
