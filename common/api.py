"""Shared REST API plumbing referenced from settings.REST_FRAMEWORK: permission, pagination, filters. The endpoints
live in the apps (tickets/api.py, surveys/api.py) and are routed in helpdesk/api_urls.py; the error mapping is in
helpdesk/api_errors.py and the token login in helpdesk/api_auth.py. This module must not import rest_framework.views
(DRF imports the settings' classes while rest_framework.views itself is being imported)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import fields as django_filter_fields
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, filters, pagination, permissions
from rest_framework.request import Request
from rest_framework.settings import api_settings


class IsAuthenticatedUser(permissions.IsAuthenticated):
    """IsAuthenticated. A subclass only so the schema documents the 403 that services raise on writes
    (drf-standardized-errors leaves 403 out for the bare IsAuthenticated class)."""


class CursorPagination(pagination.CursorPagination):
    """Stable pages under inserts; the ordering is the first field (unchanging) with the id as tie-breaker."""

    ordering: Any = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
        return parameters

    page_size: int = api_settings.PAGE_SIZE or 50

    def get_page_size(self, request: Request) -> int:
        """`page_size` must be a whole number from 1 to max_page_size: anything else is a 400, not ignored."""
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= self.max_page_size):
            message = f"A whole number from 1 to {self.max_page_size}."
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return int(value)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        """A cursor whose position does not fit the ordering field (a forged cursor) is a 400 too."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None

    def decode_cursor(self, request: Request) -> Any:
        """A malformed cursor is the client's input error: 400 with the field, not DRF's 404."""
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None


class SearchFilter(filters.SearchFilter):
    """DRF's SearchFilter; its input error (e.g. a NUL character) names the `search` parameter, as documented."""

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            return list(super().get_search_terms(request))
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({self.search_param: error.detail}) from None


# Filters that refuse what they cannot read. django-filter's own treat a present-but-empty or unreadable value as
# "no filter" (a silent 200 with unfiltered rows); the API answers 400 with the parameter named instead.


def _refuse_empty(value: Any) -> None:
    if value == "":
        raise forms.ValidationError("A value is required when the parameter is given.", code="invalid")


class StrictNullBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); absent: no filter; anything else, an empty value included: an error."""

    widget = forms.TextInput  # NullBooleanSelect would map unknown text to None (no filter)
    default_error_messages = {"invalid": "Must be true or false."}  # also documents the error code

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]  # None: no filter
        if value is None:
            return None
        if value in (True, "True", "true", "1"):
            return True
        if value in (False, "False", "false", "0"):
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value: Any) -> None:
        pass


class StrictIntegerField(forms.IntegerField):
    def to_python(self, value: Any) -> int | None:
        _refuse_empty(value)
        return super().to_python(value)


class StrictDateRangeField(django_filter_fields.DateRangeField):
    def clean(self, value: Any) -> Any:
        for part in value or ():
            _refuse_empty(part)
        return super().clean(value)


class StrictIsoDateTimeRangeField(django_filter_fields.IsoDateTimeRangeField):
    def clean(self, value: Any) -> Any:
        for part in value or ():
            _refuse_empty(part)
        cleaned = super().clean(value)
        if not isinstance(cleaned, slice):
            return cleaned
        # In UTC: Postgres refuses offsets beyond ±15:59 that ISO 8601 (and Python) allow; out of range → 400.
        try:
            return slice(*(bound and bound.astimezone(UTC) for bound in (cleaned.start, cleaned.stop)))
        except OverflowError:
            raise forms.ValidationError("Enter a date-time between the years 1 and 9999.", code="invalid") from None


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["widget"] = forms.TextInput  # not django-filter's BooleanWidget, which maps unknown text to None
        super().__init__(*args, **kwargs)


class DateRangeFilter(django_filters.DateFromToRangeFilter):
    """`<name>_after` / `<name>_before`, dates, both inclusive."""

    field_class = StrictDateRangeField


class DateTimeRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """`<name>_after` / `<name>_before`, ISO 8601 date-times."""

    field_class = StrictIsoDateTimeRangeField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**63 - 1})
class IdFilter(django_filters.NumberFilter):
    """An integer id (a decimal or out-of-range number is a 400, never a lookup error)."""

    field_class = StrictIntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)
