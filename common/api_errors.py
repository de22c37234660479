"""The API's exception handler (settings.DRF_STANDARDIZED_ERRORS): drf-standardized-errors' bodies for every error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions
from rest_framework.settings import api_settings

from common.errors import DomainError

V = TypeVar("V", bound=Any)


class ExceptionHandler(StandardizedExceptionHandler):
    """drf-standardized-errors' handler, plus: a DomainError (the domain refused the request) is a 400 with its
    message; Django's PermissionDenied (raised by services) is a 403 keeping its message; a Django ValidationError
    that escaped a form or serializer (e.g. a malformed cursor value reaching a lookup) is a 400, never a 500."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]})
        if isinstance(exc, DjangoPermissionDenied):
            return exceptions.PermissionDenied(str(exc) or None)
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})
        return super().convert_known_exceptions(exc)


def document_list_errors(*, search: bool = False) -> Callable[[V], V]:
    """Documents the 400s a list raises beyond its filters: a malformed cursor, a search with NUL characters."""
    codes = {"cursor": ["invalid"], "page_size": ["invalid"]}
    if search:
        codes["search"] = ["null_characters_not_allowed", "surrogate_characters_not_allowed"]

    def decorate(view: V) -> V:
        for field, field_codes in codes.items():
            view = extend_validation_errors(field_codes, field_name=field, actions=["list"])(view)
        return view

    return decorate


def not_found(request: HttpRequest) -> JsonResponse:
    """Unknown URLs under /api/v1/ answer in the API's error format (drf-standardized-errors), not Django's HTML."""
    body = {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}
    return JsonResponse(body, status=404)
