"""Django's password-reset form, rate limited (routed at accounts/password_reset/ in helpdesk/urls.py).

Per client IP, every POST counts (PASSWORD_RESET_RATE_LIMIT); over it: the 429 page. Per address asked for, every
valid POST counts, whether or not an account has that address (PASSWORD_RESET_EMAIL_RATE_LIMIT); over it: the same
"check your email" page as always, and no email. So nobody floods an inbox with reset mails, and neither limit tells
whether an address has an account. Both fail open when the cache fails (common.fail_open).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from .ratelimit import over_limit, ratelimited

log = logging.getLogger(__name__)


def _address(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()  # the form matches addresses case-insensitively


class PasswordResetView(auth_views.PasswordResetView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if over_limit(request, group="password-reset-ip", key="ip", rate=settings.PASSWORD_RESET_RATE_LIMIT):
            return ratelimited(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        rate = settings.PASSWORD_RESET_EMAIL_RATE_LIMIT
        if over_limit(self.request, group="password-reset-email", key=_address, rate=rate):
            log.info("Password reset not sent: too many requests for one address (limit %s)", rate)
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
