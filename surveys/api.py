"""REST API v1 of the surveys app: invitations and responses (read-only) and follow-ups (actions call the services);
the feedback figures of an agent or a queue are in surveys.api_stats. Querysets come from surveys.selectors; an
object the user may not see answers 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import BooleanFilter, CursorPagination, DateRangeFilter, DateTimeRangeFilter, IdFilter
from common.api_errors import document_list_errors
from common.users import signed_in_user
from tickets.api_serializers import ActiveUserField

from . import services
from .models import CES_CHOICES, CSAT_CHOICES, FollowUp, SurveyInvitation, SurveyResponse
from .selectors import (
    followups_visible_to,
    invitations_visible_to,
)

# --- serializers ----------------------------------------------------------------------------------------------------


class ResponseSummarySerializer(serializers.ModelSerializer[SurveyResponse]):
    class Meta:
        model = SurveyResponse
        fields = ["id", "csat", "ces", "comment", "answered_at", "updated_at", "flagged_automated"]
        read_only_fields = fields


class SurveyInvitationSerializer(serializers.ModelSerializer[SurveyInvitation]):
    response = ResponseSummarySerializer(read_only=True, allow_null=True)
    suppression_reason = serializers.ChoiceField(
        choices=SurveyInvitation.SuppressionReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = SurveyInvitation
        fields = [
            "id",
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
            "reopened_at",
            "created_at",
            "response",
        ]
        read_only_fields = fields


class SurveyResponseSerializer(serializers.ModelSerializer[SurveyResponse]):
    ticket = serializers.IntegerField(source="invitation.ticket_id", read_only=True)
    agent = serializers.IntegerField(source="invitation.agent_id", read_only=True, allow_null=True)
    queue = serializers.IntegerField(source="invitation.queue_id", read_only=True)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "invitation",
            "ticket",
            "agent",
            "queue",
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
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer[FollowUp]):
    root_cause = serializers.ChoiceField(choices=FollowUp.RootCause.choices, allow_blank=True, read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "invitation",
            "ticket",
            "customer",
            "nps_survey",
            "queue",
            "owner",
            "status",
            "due_at",
            "created_at",
            "rating_improved_at",
            "contacted_at",
            "closed_at",
            "reminded_at",
            "escalated_at",
            "note",
            "outcome",
            "root_cause",
        ]
        read_only_fields = fields


class FollowUpNoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=5000)


class FollowUpResolveSerializer(serializers.Serializer[Any]):
    outcome = serializers.CharField(max_length=5000)
    root_cause = serializers.ChoiceField(choices=FollowUp.RootCause.choices)


class FollowUpReassignSerializer(serializers.Serializer[Any]):
    owner = ActiveUserField(allow_null=True, help_text="An active member of the follow-up's queue; null: the team.")


# --- filters --------------------------------------------------------------------------------------------------------


class SurveyInvitationFilter(filters.FilterSet):
    agent = IdFilter(field_name="agent_id", label="Agent snapshot (user id)")
    queue = IdFilter(field_name="queue_id", label="Queue snapshot id")
    status = filters.MultipleChoiceFilter(choices=SurveyInvitation.Status.choices)
    sent = DateRangeFilter(field_name="sent_at", label="Emailed between (dates, inclusive)")
    csat = filters.TypedMultipleChoiceFilter(field_name="response__csat", choices=CSAT_CHOICES, coerce=int)
    ces = filters.TypedMultipleChoiceFilter(field_name="response__ces", choices=CES_CHOICES, coerce=int)
    answered = BooleanFilter(field_name="response", lookup_expr="isnull", exclude=True, label="Has a response")

    class Meta:
        model = SurveyInvitation
        fields: list[str] = []


class SurveyResponseFilter(filters.FilterSet):
    agent = IdFilter(field_name="invitation__agent_id", label="Agent snapshot (user id)")
    queue = IdFilter(field_name="invitation__queue_id", label="Queue snapshot id")
    answered = DateRangeFilter(field_name="answered_at", label="Answered between (dates, inclusive)")
    csat = filters.TypedMultipleChoiceFilter(choices=CSAT_CHOICES, coerce=int)
    ces = filters.TypedMultipleChoiceFilter(choices=CES_CHOICES, coerce=int)

    class Meta:
        model = SurveyResponse
        fields: list[str] = []


class FollowUpFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=FollowUp.Status.choices)
    queue = IdFilter(field_name="queue_id", label="Queue id")
    owner = IdFilter(field_name="owner_id", label="Owner (user id)")
    unassigned = BooleanFilter(field_name="owner", lookup_expr="isnull", label="Only unassigned")
    due = DateTimeRangeFilter(field_name="due_at", label="Due between (ISO date-times)")

    class Meta:
        model = FollowUp
        fields: list[str] = []


# --- views ----------------------------------------------------------------------------------------------------------


class InvitationPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class ResponsePagination(CursorPagination):
    ordering = ("-answered_at", "-id")


class FollowUpPagination(CursorPagination):
    ordering = ("due_at", "id")


@extend_schema_view(list=extend_schema(summary="Survey invitations of your queues (by the snapshot at close)"))
@document_list_errors()
class SurveyInvitationViewSet(viewsets.ReadOnlyModelViewSet[SurveyInvitation]):
    lookup_value_regex = "[^/]+"  # any id text reaches the view: a JSON 404
    serializer_class = SurveyInvitationSerializer
    filterset_class = SurveyInvitationFilter
    pagination_class = InvitationPagination

    def get_queryset(self) -> QuerySet[SurveyInvitation]:
        return invitations_visible_to(self.request.user).select_related("response")


@extend_schema_view(list=extend_schema(summary="Survey responses of your queues (latest answer of each)"))
@document_list_errors()
class SurveyResponseViewSet(viewsets.ReadOnlyModelViewSet[SurveyResponse]):
    lookup_value_regex = "[^/]+"  # any id text reaches the view: a JSON 404
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilter
    pagination_class = ResponsePagination

    def get_queryset(self) -> QuerySet[SurveyResponse]:
        visible = invitations_visible_to(self.request.user)
        return SurveyResponse.objects.filter(invitation__in=visible.values("pk")).select_related("invitation")


Perform = Callable[[FollowUp, dict[str, Any], User], FollowUp]


def followup_action(
    name: str, *, summary: str, serializer_class: type[serializers.Serializer[Any]], perform: Perform
) -> Callable[..., Response]:
    """A POST action of FollowUpViewSet at <id>/<name>/: validate the body with `serializer_class`, call the one
    service in `perform`, answer the follow-up it returns (not re-read through the visibility rule: after a
    reassignment the acting agent may no longer see it, but the action succeeded)."""

    def handler(self: FollowUpViewSet, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        followup = perform(followup, serializer.validated_data, signed_in_user(request))
        return Response(FollowUpSerializer(followup).data)

    handler.__name__ = handler.__qualname__ = name  # DRF maps the route's POST to the method of this name
    return extend_schema(summary=summary, request=serializer_class, responses=FollowUpSerializer)(
        action(detail=True, methods=["post"])(handler)
    )


@extend_schema_view(list=extend_schema(summary="Recovery follow-ups you can see (yours, your team's as a lead)"))
@document_list_errors()
class FollowUpViewSet(viewsets.ReadOnlyModelViewSet[FollowUp]):
    lookup_value_regex = "[^/]+"  # any id text reaches the view: a JSON 404
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    pagination_class = FollowUpPagination

    def get_queryset(self) -> QuerySet[FollowUp]:
        return followups_visible_to(self.request.user)

    contacted = followup_action(
        "contacted",
        summary="The customer was contacted",
        serializer_class=FollowUpNoteSerializer,
        perform=lambda f, data, by: services.followup_mark_contacted(followup_id=f.pk, by=by, note=data["note"]),
    )
    resolve = followup_action(
        "resolve",
        summary="Resolve with an outcome and a root cause",
        serializer_class=FollowUpResolveSerializer,
        perform=lambda f, data, by: services.followup_resolve(
            followup_id=f.pk, by=by, outcome=data["outcome"], root_cause=data["root_cause"]
        ),
    )
    unreachable = followup_action(
        "unreachable",
        summary="The customer could not be reached",
        serializer_class=FollowUpNoteSerializer,
        perform=lambda f, data, by: services.followup_mark_unreachable(followup_id=f.pk, by=by, note=data["note"]),
    )
    reassign = followup_action(
        "reassign",
        summary="Give to another queue member",
        serializer_class=FollowUpReassignSerializer,
        perform=lambda f, data, by: services.followup_reassign(followup_id=f.pk, by=by, owner=data["owner"]),
    )
