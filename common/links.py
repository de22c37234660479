"""Absolute links for emails: SITE_URL + a path (emails are read outside any request, so there is no host)."""

from django.conf import settings


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path
