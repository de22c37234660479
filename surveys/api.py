"""REST API v1 of the surveys app: invitations and responses (read-only), follow-ups (actions call the services),
and the feedback figures of an agent or a queue — computed by the same selectors as the web pages, so the numbers
are the same. Querysets come from surveys.selectors; an object the user may not see answers 404."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import BooleanFilter, CursorPagination, DateRangeFilter, DateTimeRangeFilter, IdFilter
from common.api_errors import document_list_errors
from common.users import signed_in_user
from tickets.api_serializers import ActiveUserField

from . import services
from .forms import Period, PeriodForm
from .models import CES_CHOICES, CSAT_CHOICES, FollowUp, SurveyInvitation, SurveyResponse
from .selectors import (
    FeedbackStats,
    agent_feedback_invitations,
    feedback_for_queue,
    feedback_stats,
    followups_visible_to,
    invitations_visible_to,
    queues_led_by,
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


@extend_schema_view(list=extend_schema(summary="Recovery follow-ups you can see (yours, your team's as a lead)"))
@document_list_errors()
class FollowUpViewSet(viewsets.ReadOnlyModelViewSet[FollowUp]):
    lookup_value_regex = "[^/]+"  # any id text reaches the view: a JSON 404
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    pagination_class = FollowUpPagination

    def get_queryset(self) -> QuerySet[FollowUp]:
        return followups_visible_to(self.request.user)

    def _respond(self, followup: FollowUp) -> Response:
        # The service's result, not a re-read through the visibility rule: after a reassignment the acting agent
        # may no longer see the follow-up, but the action succeeded.
        return Response(FollowUpSerializer(followup).data)

    @extend_schema(summary="The customer was contacted", request=FollowUpNoteSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def contacted(self, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        serializer = FollowUpNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        followup = services.followup_mark_contacted(
            followup_id=followup.pk, by=signed_in_user(request), note=serializer.validated_data["note"]
        )
        return self._respond(followup)

    @extend_schema(
        summary="Resolve with an outcome and a root cause",
        request=FollowUpResolveSerializer,
        responses=FollowUpSerializer,
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        serializer = FollowUpResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        followup = services.followup_resolve(
            followup_id=followup.pk,
            by=signed_in_user(request),
            outcome=serializer.validated_data["outcome"],
            root_cause=serializer.validated_data["root_cause"],
        )
        return self._respond(followup)

    @extend_schema(
        summary="The customer could not be reached", request=FollowUpNoteSerializer, responses=FollowUpSerializer
    )
    @action(detail=True, methods=["post"])
    def unreachable(self, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        serializer = FollowUpNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        followup = services.followup_mark_unreachable(
            followup_id=followup.pk, by=signed_in_user(request), note=serializer.validated_data["note"]
        )
        return self._respond(followup)

    @extend_schema(
        summary="Give to another queue member", request=FollowUpReassignSerializer, responses=FollowUpSerializer
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        followup = self.get_object()
        serializer = FollowUpReassignSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        followup = services.followup_reassign(
            followup_id=followup.pk, by=signed_in_user(request), owner=serializer.validated_data["owner"]
        )
        return self._respond(followup)


# --- feedback figures -----------------------------------------------------------------------------------------------


class StatsQuerySerializer(serializers.Serializer[Any]):
    """The period, validated by the web pages' PeriodForm (same limits); none given: the pages' default period."""

    start = serializers.DateField(required=False, help_text="First day (inclusive). Give both or neither.")
    end = serializers.DateField(required=False, help_text="Last day (inclusive). Give both or neither.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            raise serializers.ValidationError("Give both start and end, or neither (the default period).")
        if start is None:
            attrs["period"] = PeriodForm().period_or_default()  # the web pages' default period
            return attrs
        form = PeriodForm({"period": "custom", "from": start, "to": end})
        if not form.is_valid():
            raise serializers.ValidationError([str(e) for errors in form.errors.values() for e in errors])
        attrs["period"] = form.period_or_default()
        return attrs


class FeedbackStatsSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField(help_text="Period start (inclusive).")
    end = serializers.DateTimeField(help_text="Period end (exclusive).")
    invitations_sent = serializers.IntegerField(help_text="Invitations emailed in the period (by sent_at).")
    responses = serializers.IntegerField()
    csat_responses = serializers.IntegerField()
    csat_satisfied = serializers.IntegerField(help_text="CSAT 4–5.")
    csat_satisfied_pct = serializers.FloatField(allow_null=True, help_text="Satisfied / CSAT responses, 0–100.")
    csat_mean = serializers.FloatField(allow_null=True)
    ces_responses = serializers.IntegerField()
    ces_agree = serializers.IntegerField(help_text="CES 5–7.")
    ces_mean = serializers.FloatField(allow_null=True)
    ces_agree_pct = serializers.FloatField(allow_null=True, help_text="Agree / CES responses, 0–100.")
    response_rate = serializers.FloatField(allow_null=True, help_text="Responses / invitations emailed, 0–100.")
    min_sample = serializers.IntegerField(help_text="Below this many responses the figures are not significant.")
    enough = serializers.BooleanField(help_text="responses >= min_sample")


STATS_PARAMETERS = [
    OpenApiParameter(
        "start",
        OpenApiTypes.DATE,
        description="First day (inclusive); give both or neither (default: the web pages' default period).",
    ),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (inclusive); give both or neither."),
]


@extend_validation_errors(["invalid"], field_name="non_field_errors")
@extend_validation_errors(["invalid"], field_name="start")
@extend_validation_errors(["invalid"], field_name="end")
class _StatsView(APIView):
    kwarg = ""

    def stats(self, request: Request, pk: int, period: Period) -> FeedbackStats:
        raise NotImplementedError

    def get(self, request: Request, **kwargs: Any) -> Response:
        value = kwargs[self.kwarg]
        if not (value.isascii() and value.isdigit() and 0 < int(value) < 2**63):
            raise Http404
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period: Period = query.validated_data["period"]
        stats = self.stats(request, int(value), period)
        data = {"start": period.start, "end": period.end, **dataclasses.asdict(stats)}
        return Response(FeedbackStatsSerializer(data).data)


@extend_schema(
    summary="Feedback figures of an agent (what My feedback / the lead's agent page show)",
    parameters=[OpenApiParameter("agent_id", OpenApiTypes.INT, OpenApiParameter.PATH), *STATS_PARAMETERS],
    responses=FeedbackStatsSerializer,
)
class AgentStatsView(_StatsView):
    kwarg = "agent_id"

    def stats(self, request: Request, pk: int, period: Period) -> FeedbackStats:
        """As the web pages: your own ratings all; a lead a team member's in the queues they lead; admins anyone's."""
        invitations = agent_feedback_invitations(viewer=request.user, agent_id=pk)
        if invitations is None:
            raise Http404
        return feedback_stats(invitations=invitations, start=period.start, end=period.end)


@extend_schema(
    summary="Feedback figures of a queue (leads of the queue and admins)",
    parameters=[OpenApiParameter("queue_id", OpenApiTypes.INT, OpenApiParameter.PATH), *STATS_PARAMETERS],
    responses=FeedbackStatsSerializer,
)
class QueueStatsView(_StatsView):
    kwarg = "queue_id"

    def stats(self, request: Request, pk: int, period: Period) -> FeedbackStats:
        if not queues_led_by(request.user).filter(pk=pk).exists():
            raise Http404
        return feedback_for_queue(queue_id=pk, start=period.start, end=period.end)
