from django.contrib import admin
from django.http import HttpRequest

from .models import Macro, MacroUse


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "queue", "owner", "set_status", "set_priority", "assign", "active", "updated_at"]
    list_filter = ["active", "queue"]
    list_select_related = ["queue", "owner"]
    search_fields = ["name", "body"]


@admin.register(MacroUse)
class MacroUseAdmin(admin.ModelAdmin):
    """Read only: a use is counted when a reply is sent with the macro."""

    list_display = ["macro", "ticket", "by", "at"]
    list_select_related = ["macro", "by"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
