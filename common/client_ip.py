"""The client's IP address, the one rule shared by the rate limits, django-axes and the API throttles.

CLIENT_IP_PROXY_COUNT is how many proxies of our own stand in front of the app server. 0: REMOTE_ADDR is the
client and X-Forwarded-For is ignored (anyone can send it). N ≥ 1: each proxy appends the address it received the
request from to X-Forwarded-For, so the client is the Nth entry from the right; entries further left were sent by
the client and are not trusted. This is DRF's NUM_PROXIES rule (settings pass the same count to it).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address under CLIENT_IP_PROXY_COUNT. A request without X-Forwarded-For, or whose chosen entry is
    not an IP address, is taken from REMOTE_ADDR (never a 500, never a client-chosen text)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.CLIENT_IP_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies == 0 or not forwarded:
        return remote_addr
    entries = forwarded.split(",")
    candidate = entries[-min(proxies, len(entries))].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
