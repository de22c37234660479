from django.contrib import admin
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
