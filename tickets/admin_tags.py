"""The Tag admin (registered by tickets.admin): admins see how often each tag is used, rename tags (a rename shows
on every ticket at once; the events keep the name they were given) and delete unused ones. Tags on tickets change
only through tickets.services.tags (the ticket page, bulk actions, macros), which record the events."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from common.errors import DomainError

from .models import Tag
from .services.tags import tag_name_clean


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name", "slug"]

    def clean_name(self) -> str:
        try:
            return tag_name_clean(self.cleaned_data["name"])
        except DomainError as error:
            raise forms.ValidationError(str(error)) from error


class TagAdmin(admin.ModelAdmin):
    form = TagForm
    list_display = ["name", "slug", "ticket_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(ticket_count=Count("ticket_tags"))

    @admin.display(description="tickets", ordering="ticket_count")
    def ticket_count(self, tag: Any) -> int:
        return int(getattr(tag, "ticket_count", 0))

    def has_delete_permission(self, request: HttpRequest, obj: Tag | None = None) -> bool:
        """Only a tag on no ticket: taking a tag off tickets is each ticket's change, with its event."""
        if obj is not None and obj.ticket_tags.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # would delete tags in use without their tickets' events
        return actions
