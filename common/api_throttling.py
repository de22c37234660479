"""The API's throttles (settings.REST_FRAMEWORK): DRF's per-user and anonymous rates on the shared cache, counting
clients by common.client_ip (CLIENT_IP_PROXY_COUNT, as DRF's NUM_PROXIES), and failing open when the cache fails
(common.fail_open): a Redis outage lets API requests through instead of answering 500. Like common/api.py, this
module must not import rest_framework.views (DRF imports the settings' classes while that module is imported)."""

from __future__ import annotations

from typing import Any

from rest_framework import throttling
from rest_framework.request import Request

from .client_ip import client_ip
from .fail_open import limiter_run


class FailOpenThrottle(throttling.SimpleRateThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        return limiter_run(lambda: super(FailOpenThrottle, self).allow_request(request, view), fail_open=True)

    def get_ident(self, request: Request) -> str:
        return client_ip(request)


class UserRateThrottle(FailOpenThrottle, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(FailOpenThrottle, throttling.AnonRateThrottle):
    pass
