"""Admin for the tickets domain. Ticket changes go through tickets.services (actions); nothing here bypasses them:
the ticket form is read-only, and status, assignee, priority, close and reopen are actions on the ticket list.
The admin site is for superusers only (helpdesk.admin_site), who see every queue: no per-queue querysets here."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from common.clock import duration_text
from common.errors import DomainError
from common.registry import registry_list_filter

from . import erasure, services
from .admin_inlines import MessageInline, SlaTargetInline, TicketEventInline
from .admin_tags import TagAdmin
from .event_kinds import ticket_event_kinds
from .models import (
    METRIC_STEMS,
    BusinessCalendar,
    CloseReason,
    Customer,
    Holiday,
    Message,
    Priority,
    Queue,
    QueueMembership,
    SlaPolicy,
    Tag,
    Ticket,
    TicketEvent,
    WorkingHours,
)
from .sla.admin import SlaPolicyAdmin


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "holiday_country", "queue_count"]
    search_fields = ["name"]
    inlines = [WorkingHoursInline, HolidayInline]

    @admin.display(description="queues")
    def queue_count(self, obj: BusinessCalendar) -> int:
        return obj.queues.count()


class MembershipInline(admin.TabularInline):
    model = QueueMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "reply_from_email", "business_calendar", "pending_autoclose_days"]
    list_select_related = ["business_calendar"]
    list_filter = ["business_calendar"]
    search_fields = ["name", "slug", "reply_from_email"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["business_calendar"]
    inlines = [MembershipInline]


@admin.register(QueueMembership)
class QueueMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "queue", "role"]
    list_select_related = ["user", "queue"]
    list_filter = ["role", "queue"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name", "queue__name"]
    autocomplete_fields = ["user", "queue"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "created_at", "erased_at"]
    list_filter = [("erased_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "name"]
    date_hierarchy = "created_at"
    actions = ["erase_personal_data"]

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> tuple[str, ...]:
        return ("email", "name", "created_at", "erased_at") if obj and obj.erased_at else ("erased_at",)

    @admin.action(description="Erase the personal data of selected customers (after a confirmation)")
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet[Customer]) -> TemplateResponse | None:
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Erase personal data",
                "opts": self.model._meta,
                "customers": queryset,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/tickets/customer/erase_confirmation.html", context)
        erased, refused = 0, []
        for customer in queryset.order_by("pk"):
            try:
                erased += erasure.customer_erase(customer_id=customer.pk, by=request.user)  # type: ignore[arg-type]
            except DomainError as exc:
                refused.append(f"{customer}: {exc}")
        self.message_user(request, f"Erased the personal data of {erased} customer(s).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)
        return None


class TicketActionForm(ActionForm):
    """Extra inputs beside the actions dropdown, used by the actions that need them."""

    assignee = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, queue_memberships__isnull=False).distinct(),
        required=False,
        label="Assign to",
        help_text="For “Assign”: empty unassigns.",
    )
    close_reason = forms.ChoiceField(choices=CloseReason.choices, initial=CloseReason.SOLVED, required=False)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL, required=False)


def _metric_column(stem: str, label: str, *, business: bool) -> Callable[[TicketAdmin, Ticket], str]:
    field = f"{stem}_business_seconds" if business else f"{stem}_seconds"

    @admin.display(description=f"{label} ({'business' if business else 'calendar'})", ordering=field)
    def column(self: TicketAdmin, obj: Ticket) -> str:
        return duration_text(getattr(obj, field))

    column.__name__ = field + "_display"
    return column


# The admin columns made by _metric_column below: calendar and business time of each stored metric.
METRIC_DISPLAY_FIELDS = tuple(f"{stem}_{kind}seconds_display" for stem, _ in METRIC_STEMS for kind in ("", "business_"))


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "reference_display",
        "subject",
        "queue",
        "customer",
        "assignee",
        "priority",
        "status",
        "close_reason",
        "created_at",
        "first_reply_seconds_display",
        "first_reply_business_seconds_display",
        "resolution_seconds_display",
        "resolution_business_seconds_display",
    ]
    list_select_related = ["queue", "customer", "assignee"]
    list_filter = ["status", "close_reason", "priority", "queue", ("assignee", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=id", "subject", "customer__email", "customer__name"]
    date_hierarchy = "created_at"
    action_form = TicketActionForm
    actions = ["close_tickets", "reopen_tickets", "assign_tickets", "set_priority"]
    inlines = [SlaTargetInline, MessageInline, TicketEventInline]
    readonly_fields = [
        "reference_display",
        "subject",
        "queue",
        "customer",
        "assignee",
        "priority",
        "status",
        "close_reason",
        "created_at",
        "updated_at",
        "status_changed_at",
        "first_replied_at",
        "closed_at",
        "reopen_count",
        "public_reply_count",
        *METRIC_DISPLAY_FIELDS,
    ]
    fieldsets = [
        (None, {"fields": ["reference_display", "subject", "queue", "customer"]}),
        (
            "State (change with the actions on the ticket list)",
            {"fields": ["status", "close_reason", "assignee", "priority"]},
        ),
        (
            "Timeline",
            {"fields": ["created_at", "first_replied_at", "closed_at", "updated_at", "status_changed_at"]},
        ),
        (
            "Metrics (stored at close, from the ticket events)",
            {
                "fields": [
                    "reopen_count",
                    "public_reply_count",
                    *METRIC_DISPLAY_FIELDS,
                ]
            },
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets are created by agents and customers through tickets.services.ticket_create

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a view-only form: changes are the actions on the list, which call the services

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # close as spam instead: deleting would lose the history and the metrics

    @admin.display(description="ticket", ordering="id")
    def reference_display(self, obj: Ticket) -> str:
        return obj.reference

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Ticket], verb: str, call: Callable[[Ticket], object]
    ) -> None:
        done, refused = 0, []
        for ticket in queryset:
            try:
                call(ticket)
                done += 1
            except (DomainError, PermissionDenied) as exc:
                refused.append(f"{ticket.reference}: {exc}")
        if done:
            self.message_user(request, f"{verb} {done} ticket(s).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)

    @admin.action(description="Close selected tickets (with the chosen close reason)")
    def close_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        reason = CloseReason(request.POST.get("close_reason") or CloseReason.SOLVED)
        self._each(
            request,
            queryset,
            "Closed",
            lambda t: services.ticket_close(ticket_id=t.pk, reason=reason, by=request.user),  # type: ignore[arg-type]
        )

    @admin.action(description="Reopen selected tickets")
    def reopen_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._each(
            request,
            queryset,
            "Reopened",
            lambda t: services.ticket_reopen(ticket_id=t.pk, by=request.user),  # type: ignore[arg-type]
        )

    @admin.action(description="Assign selected tickets (to the chosen agent; empty unassigns)")
    def assign_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        assignee_id = request.POST.get("assignee") or None
        assignee = User.objects.filter(pk=assignee_id).first() if assignee_id and assignee_id.isdigit() else None
        if assignee_id and assignee is None:
            self.message_user(request, "Choose an existing agent to assign to.", messages.ERROR)
            return
        self._each(
            request,
            queryset,
            "Assigned",
            lambda t: services.ticket_assign(ticket_id=t.pk, assignee=assignee, by=request.user),  # type: ignore[arg-type]
        )

    @admin.action(description="Set the priority of selected tickets (to the chosen priority)")
    def set_priority(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        priority = Priority(request.POST.get("priority") or Priority.NORMAL)
        self._each(
            request,
            queryset,
            "Updated",
            lambda t: services.ticket_set_priority(ticket_id=t.pk, priority=priority, by=request.user),  # type: ignore[arg-type]
        )


for _stem, _label in METRIC_STEMS:
    setattr(TicketAdmin, f"{_stem}_seconds_display", _metric_column(_stem, _label, business=False))
    setattr(TicketAdmin, f"{_stem}_business_seconds_display", _metric_column(_stem, _label, business=True))


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "author_display", "created_at"]
    list_select_related = ["ticket", "author_user", "author_customer"]
    list_filter = ["kind"]
    search_fields = ["body", "ticket__subject"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages are added through tickets.services.message_add

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind_label", "old_value", "new_value", "actor", "at"]
    list_select_related = ["ticket", "actor"]
    list_filter = [registry_list_filter(ticket_event_kinds, field="kind", title="kind")]
    search_fields = ["ticket__subject", "old_value", "new_value"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


admin.site.register(SlaPolicy, SlaPolicyAdmin)
admin.site.register(Tag, TagAdmin)
admin.site.unregister(User)


@admin.register(User)
class AgentUserAdmin(UserAdmin):
    actions = ["deactivate_agents"]

    @admin.action(description="Deactivate selected agents (no login; their open tickets are unassigned)")
    def deactivate_agents(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        unassigned = 0
        for user in (u for u in queryset if u.pk != request.user.pk):  # never yourself
            unassigned += services.agent_deactivate(user_id=user.pk, by=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Deactivated; {unassigned} open ticket(s) unassigned.", messages.SUCCESS)
