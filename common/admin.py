"""The admin of common's models, and the retry/cancel actions the admins of leased jobs share (common.leased_jobs:
the outbox's emails, the webhooks' deliveries)."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import AccessToken


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Only hashes are stored, so there is nothing secret to show; admins may delete (revoke) a link."""

    list_display = ["purpose", "target_type", "target_id", "created_at", "expires_at"]
    list_select_related = ["target_type"]
    list_filter = ["purpose"]
    readonly_fields = ["token_hash", "purpose", "target_type", "target_id", "created_at", "expires_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


JobCall = Callable[[int], bool]  # a service on one job's id: True if it changed the job
AdminAction = Callable[[admin.ModelAdmin, HttpRequest, QuerySet[Any]], None]


def job_actions(
    *, noun: str, retry_one: JobCall, retry_description: str, cancel_one: JobCall, cancel_description: str
) -> list[AdminAction]:
    """The admin actions `retry` and `cancel` of a leased-job model: each calls its service on every selected row
    and reports "<verb> <done> of <selected> <noun>" (a warning when none changed)."""

    def apply(model_admin: admin.ModelAdmin, request: HttpRequest, ids: list[int], call: JobCall, verb: str) -> None:
        done = sum(call(pk) for pk in ids)
        level = messages.SUCCESS if done else messages.WARNING
        model_admin.message_user(request, f"{verb} {done} of {len(ids)} {noun}.", level)

    @admin.action(description=retry_description)
    def retry(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        apply(model_admin, request, list(queryset.values_list("pk", flat=True)), retry_one, "Queued again")

    @admin.action(description=cancel_description)
    def cancel(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        apply(model_admin, request, list(queryset.values_list("pk", flat=True)), cancel_one, "Cancelled")

    return [retry, cancel]
