from django.contrib import admin

from .models import SentimentPolicy, SentimentSpike, TextSentiment


@admin.register(SentimentPolicy)
class SentimentPolicyAdmin(admin.ModelAdmin):
    list_display = ["queue", "followup_on_negative_comment"]
    list_editable = ["followup_on_negative_comment"]


@admin.register(SentimentSpike)
class SentimentSpikeAdmin(admin.ModelAdmin):
    list_display = ["queue", "flagged_at", "negative", "scored", "baseline_share"]
    list_filter = ["queue"]
    date_hierarchy = "flagged_at"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(TextSentiment)
class TextSentimentAdmin(admin.ModelAdmin):
    """Read only: the scores are the scorer's."""

    list_display = ["id", "ticket", "queue", "label", "score", "language", "version", "scored_at"]
    list_filter = ["label", "queue", "version"]
    list_select_related = ["ticket", "queue"]
    raw_id_fields = ["message", "response", "ticket", "customer"]
    date_hierarchy = "scored_at"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
