from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    FollowUp,
    NpsPolicy,
    NpsSurvey,
    Resurvey,
    SurveyInvitation,
    SurveyOptOut,
    SurveyPolicy,
    SurveyResponse,
    SurveyResponseChange,
)
from .services import invitation_cancel_unsent


@admin.register(SurveyPolicy)
class SurveyPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "enabled",
        "ask_csat",
        "ask_ces",
        "delay_minutes",
        "expiry_days",
        "throttle_days",
        "reminder_after_days",
        "poor_csat_max",
        "poor_ces_max",
        "followup_owner",
    ]
    list_select_related = ["queue"]
    list_filter = ["enabled", "followup_owner"]
    autocomplete_fields = ["queue"]
    fieldsets = [
        (None, {"fields": ["queue", "enabled", "ask_csat", "ask_ces", "close_reasons"]}),
        ("Timing", {"fields": ["delay_minutes", "expiry_days", "throttle_days", "reminder_after_days"]}),
        (
            "Poor ratings and follow-ups",
            {
                "fields": [
                    "poor_csat_max",
                    "poor_ces_max",
                    "settle_minutes",
                    "followup_owner",
                    "followup_due_business_hours",
                    "resurvey",
                ]
            },
        ),
    ]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "round",
        "customer",
        "agent",
        "queue",
        "status",
        "suppression_reason",
        "send_after",
        "sent_at",
        "expires_at",
    ]
    list_select_related = ["ticket", "customer", "agent", "queue"]
    list_filter = ["status", "suppression_reason", "queue"]
    search_fields = ["=ticket__id", "ticket__subject", "customer__email", "customer__name"]
    date_hierarchy = "created_at"
    actions = ["cancel"]
    readonly_fields = [
        "ticket",
        "round",
        "customer",
        "agent",
        "queue",
        "status",
        "suppression_reason",
        "closed_at",
        "send_after",
        "sent_at",
        "reminded_at",
        "expires_at",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are created by the ticket close hook

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Cancel selected invitations (only those not yet emailed)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[SurveyInvitation]) -> None:
        scheduled = queryset.filter(status=SurveyInvitation.Status.SCHEDULED).select_related("ticket")
        cancelled = sum(invitation_cancel_unsent(ticket=invitation.ticket) for invitation in scheduled)
        self.message_user(request, f"Cancelled {cancelled} invitation(s).", messages.SUCCESS)


class ResponseChangeInline(admin.TabularInline):
    model = SurveyResponseChange
    readonly_fields = ("at", "csat", "ces", "comment", "via")
    fields = readonly_fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = [
        "invitation",
        "csat",
        "ces",
        "short_comment",
        "submitted_via",
        "flagged_automated",
        "updated_at",
        "settled_at",
    ]
    list_select_related = ["invitation__ticket"]
    list_filter = ["csat", "ces", "submitted_via", "flagged_automated"]
    search_fields = ["=invitation__ticket__id", "invitation__customer__email", "comment"]
    date_hierarchy = "updated_at"
    inlines = [ResponseChangeInline]
    readonly_fields = [
        "invitation",
        "csat",
        "ces",
        "comment",
        "submitted_via",
        "answered_at",
        "updated_at",
        "confirmed_at",
        "settled_at",
        "flagged_automated",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # responses come from customers

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the customer's answer and its copies (surveys.services.answers) stay together

    @admin.display(description="comment")
    def short_comment(self, obj: SurveyResponse) -> str:
        return obj.comment if len(obj.comment) <= 60 else obj.comment[:59] + "…"


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    """Read-only here: the follow-up workflow (contacted, resolve, unreachable, reassign) lives in the agent UI."""

    list_display = [
        "__str__",
        "queue",
        "owner",
        "status",
        "due_at",
        "rating_improved_at",
        "escalated_at",
        "root_cause",
    ]
    list_select_related = ["ticket", "customer", "queue", "owner"]
    list_filter = [
        "status",
        "root_cause",
        "queue",
        ("rating_improved_at", admin.EmptyFieldListFilter),
        ("nps_survey", admin.EmptyFieldListFilter),
    ]
    search_fields = ["=ticket__id", "ticket__subject", "customer__email", "owner__username", "note", "outcome"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in FollowUp._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # opened by settled poor ratings and NPS answers

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SurveyOptOut)
class SurveyOptOutAdmin(admin.ModelAdmin):
    """Customers who unsubscribed from surveys. Deleting a row subscribes the customer again (e.g. on request)."""

    list_display = ["customer", "opted_out_at"]
    list_select_related = ["customer"]
    search_fields = ["customer__email", "customer__name"]
    date_hierarchy = "opted_out_at"
    readonly_fields = ["customer", "opted_out_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers opt out through their unsubscribe link

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Resurvey)
class ResurveyAdmin(admin.ModelAdmin):
    """Read only: re-surveys are scheduled by resolved follow-ups and answered by customers."""

    list_display = ["__str__", "queue", "agent", "root_cause", "status", "send_after", "sent_at", "score"]
    list_filter = ["status", "queue", "root_cause", "flagged_automated"]
    list_select_related = ["followup__ticket", "queue", "agent"]
    readonly_fields = [field.name for field in Resurvey._meta.fields]
    date_hierarchy = "send_after"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Resurvey | None = None) -> bool:
        return False


@admin.register(NpsPolicy)
class NpsPolicyAdmin(admin.ModelAdmin):
    """The one NPS policy row: without it NPS is off (surveys.services.nps)."""

    list_display = ["__str__", "enabled", "interval_days", "min_closed_tickets", "activity_days", "expiry_days"]
    filter_horizontal = ["excluded_queues"]
    fieldsets = [
        (None, {"fields": ["enabled"]}),
        ("Who is asked", {"fields": ["interval_days", "min_closed_tickets", "activity_days", "excluded_queues"]}),
        ("When", {"fields": ["send_window_start_hour", "send_window_end_hour", "expiry_days"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not NpsPolicy.objects.exists()  # one row


@admin.register(NpsSurvey)
class NpsSurveyAdmin(admin.ModelAdmin):
    """Read only: NPS surveys are scheduled by beat and answered by customers."""

    list_display = ["__str__", "queue", "status", "send_after", "sent_at", "score", "flagged_automated"]
    list_filter = ["status", "queue", "flagged_automated"]
    list_select_related = ["customer", "queue"]
    search_fields = ["customer__email"]
    readonly_fields = [field.name for field in NpsSurvey._meta.fields]
    date_hierarchy = "send_after"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: NpsSurvey | None = None) -> bool:
        return False
