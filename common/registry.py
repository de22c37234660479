"""Registries that a lower app keeps and the apps above it fill in their `AppConfig.ready()`: email kinds (outbox),
webhook events (webhooks), ticket event kinds (tickets). A row stores the plain key; the lower app never names the
keys of the apps above it. Each entry records the label of the app that registered it, so a test can check that no
lower app names a key of an upper one.

A key found in a row but no longer registered (its app was removed) is shown as "unknown <what> (<key>)", never an
error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


class Entry(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def app_label(self) -> str: ...


E = TypeVar("E", bound=Entry)


class Registry(Generic[E]):
    """Entries by key; `what` names them in messages ("email kind", "webhook event")."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, E] = {}

    def add(self, entry: E) -> E:
        """Register an entry; registering the same key twice (but with the very same entry) is an error."""
        registered = self._entries.setdefault(entry.key, entry)
        if registered != entry:
            raise ValueError(f"The {self.what} {entry.key!r} is already registered (by {registered.app_label}).")
        return entry

    def get(self, key: str) -> E | None:
        return self._entries.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[E]:
        return iter(sorted(self._entries.values(), key=lambda entry: entry.label.lower()))

    def keys(self) -> list[str]:
        return list(self._entries)

    def require(self, key: str) -> E:
        """The entry of `key`; ValueError when it is not registered (a caller writing a row of an unknown key)."""
        entry = self._entries.get(key)
        if entry is None:
            raise ValueError(f"{key!r} is not a registered {self.what} (is its app installed?).")
        return entry

    def label(self, key: str) -> str:
        entry = self._entries.get(key)
        return entry.label if entry is not None else f"unknown {self.what} ({key})"

    def choices(self) -> list[tuple[str, str]]:
        return [(entry.key, entry.label) for entry in self]


def registry_list_filter(registry: Registry, *, field: str, title: str) -> type[admin.SimpleListFilter]:
    """An admin list filter on `field` offering the registered keys (by label)."""

    class RegistryFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
            return registry.choices()

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    RegistryFilter.title = title
    return RegistryFilter
