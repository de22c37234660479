"""REST API v1 of the tickets app: tickets (status changes only through actions), their messages, customers.

Every queryset comes from tickets.selectors (an object outside the user's queues answers 404) and every write is a
service call (PermissionDenied → 403, DomainError → 400, mapped in common.api_errors.ExceptionHandler). The
serializers are in tickets.api_serializers."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import BooleanFilter, CursorPagination, DateRangeFilter, IdFilter, SearchFilter
from common.api_errors import document_list_errors
from common.users import signed_in_user

from . import services
from .api_serializers import (
    CustomerSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    TicketBulkResultSerializer,
    TicketBulkSerializer,
    TicketCloseSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketMoveSerializer,
    TicketSerializer,
    TicketSetStatusSerializer,
    TicketUpdateSerializer,
)
from .models import Customer, Message, Priority, SlaTarget, Status, Ticket
from .selectors import customers_visible_to, tickets_visible_to
from .services import BULK_MAX

# --- filters --------------------------------------------------------------------------------------------------------


class TicketFilter(filters.FilterSet):
    queue = IdFilter(field_name="queue_id", label="Queue id")
    status = filters.MultipleChoiceFilter(choices=Status.choices)
    priority = filters.MultipleChoiceFilter(choices=Priority.choices)
    assignee = IdFilter(field_name="assignee_id", label="Assignee (user id)")
    unassigned = BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Only unassigned")
    customer = IdFilter(field_name="customer_id", label="Customer id")
    created = DateRangeFilter(field_name="created_at", label="Created between (dates, inclusive)")

    class Meta:
        model = Ticket
        fields: list[str] = []


class CustomerFilter(filters.FilterSet):
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")

    class Meta:
        model = Customer
        fields: list[str] = []


# --- views ----------------------------------------------------------------------------------------------------------


SLA_TARGETS = Prefetch("sla_targets", queryset=SlaTarget.objects.order_by("started_at", "id"))


class TicketPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class MessagePagination(CursorPagination):
    ordering = ("created_at", "id")


class CustomerPagination(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema_view(
    list=extend_schema(summary="Tickets in the user's queues", description="`search` matches the subject."),
    retrieve=extend_schema(summary="One ticket, with its SLA targets", responses=TicketDetailSerializer),
    create=extend_schema(
        summary="Create a ticket with the customer's first message",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
    ),
    partial_update=extend_schema(
        summary="Change the assignee and/or the priority",
        request=TicketUpdateSerializer,
        responses=TicketSerializer,
    ),
)
@document_list_errors(search=True)
class TicketViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Ticket],
):
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    filter_backends = [filters.DjangoFilterBackend, SearchFilter]
    search_fields = ["subject"]
    pagination_class = TicketPagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[^/]+"  # any id text reaches the view: a JSON 404, not Django's HTML one

    def get_queryset(self) -> QuerySet[Ticket]:
        tickets = tickets_visible_to(self.request.user).select_related("customer")
        return tickets.prefetch_related(SLA_TARGETS) if self.action == "retrieve" else tickets  # one query, not per row

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Ticket]]:
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def _respond(self, ticket: Ticket, code: int = status.HTTP_200_OK, *, detail: bool = False) -> Response:
        tickets = Ticket.objects.select_related("customer")  # as the service left it
        if detail:
            tickets = tickets.prefetch_related(SLA_TARGETS)
        serializer = TicketDetailSerializer if detail else TicketSerializer
        return Response(serializer(tickets.get(pk=ticket.pk), context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TicketCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = services.ticket_create_for_email(
            queue=data["queue"],
            email=data["customer_email"],
            name=data["customer_name"],
            subject=data["subject"],
            body=data["body"],
            by=signed_in_user(request),
            priority=data["priority"],
            assignee=data["assignee"],
        )
        return self._respond(ticket, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        serializer = TicketUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.ticket_update(
            ticket_id=ticket.pk,
            by=signed_in_user(request),
            assignee=data.get("assignee", services.UNCHANGED),
            priority=data.get("priority", services.UNCHANGED),
        )
        return self._respond(ticket)

    @extend_schema(summary="Close the ticket with a reason", request=TicketCloseSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        serializer = TicketCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_close(
            ticket_id=ticket.pk, reason=serializer.validated_data["reason"], by=signed_in_user(request)
        )
        return self._respond(ticket)

    @extend_schema(
        summary="Move the ticket to another queue",
        description="You must work in both queues. Its SLA targets follow the new queue's policy (answered with "
        "them); an assignee who is not a member of the new queue is unassigned.",
        request=TicketMoveSerializer,
        responses=TicketDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        serializer = TicketMoveSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.ticket_move(ticket_id=ticket.pk, queue=serializer.validated_data["queue"], by=signed_in_user(request))
        return self._respond(ticket, detail=True)

    @extend_schema(summary="Reopen a closed ticket", request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        services.ticket_reopen(ticket_id=ticket.pk, by=signed_in_user(request))
        return self._respond(ticket)

    @extend_schema(
        summary="Move an open ticket between open, pending and on hold",
        request=TicketSetStatusSerializer,
        responses=TicketSerializer,
    )
    @action(detail=True, methods=["post"], url_path="set-status")
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        serializer = TicketSetStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_set_status(
            ticket_id=ticket.pk, status=serializer.validated_data["status"], by=signed_in_user(request)
        )
        return self._respond(ticket)

    @extend_schema(
        summary="One action on many tickets",
        description=f"Assign, set the status (open, pending, on hold), priority, move, tag, untag or close (with a "
        f"reason) up to {BULK_MAX} tickets. Each ticket is changed as its own action would change it, in a "
        "transaction of its own (events recorded, transitions enforced); the answer says per ticket whether it "
        'changed or was skipped, and why. A ticket you cannot see is skipped as "not found" and never changed. '
        f"More than {BULK_MAX} ids, or an action without a valid value: 400 and nothing changes.",
        request=TicketBulkSerializer,
        responses=TicketBulkResultSerializer,
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        serializer = TicketBulkSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.tickets_bulk_change(
            ticket_ids=data["ids"],
            action=data["action"],
            by=signed_in_user(request),
            values=services.bulk_values(**data),
        )
        return Response(TicketBulkResultSerializer(result).data)


TICKET_PK = OpenApiParameter("ticket_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The ticket id.")


@extend_schema_view(
    list=extend_schema(summary="The ticket's messages, oldest first", parameters=[TICKET_PK]),
    create=extend_schema(
        summary="Add a public reply or an internal note",
        parameters=[TICKET_PK],
        request=MessageCreateSerializer,
        responses={201: MessageSerializer},
    ),
)
@document_list_errors()
class TicketMessageViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[Message]):
    lookup_value_regex = "[^/]+"
    serializer_class = MessageSerializer
    pagination_class = MessagePagination
    filter_backends: list[Any] = []

    def get_ticket(self) -> Ticket:
        return get_object_or_404(tickets_visible_to(self.request.user), pk=self.kwargs["ticket_pk"])

    def get_queryset(self) -> QuerySet[Message]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Message.objects.none()
        return (
            Message.objects.filter(ticket=self.get_ticket())
            .select_related("author_user", "author_customer")
            .prefetch_related("attachments")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_ticket()
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_add(
            ticket_id=ticket.pk,
            kind=serializer.validated_data["kind"],
            body=serializer.validated_data["body"],
            by=signed_in_user(request),
        )
        message = Message.objects.select_related("author_user", "author_customer").get(pk=message.pk)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(summary="Customers of the tickets you can see; `search`: email or name"))
@document_list_errors(search=True)
class CustomerViewSet(viewsets.ReadOnlyModelViewSet[Customer]):
    lookup_value_regex = "[^/]+"
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    filter_backends = [filters.DjangoFilterBackend, SearchFilter]
    search_fields = ["email", "name"]
    pagination_class = CustomerPagination

    def get_queryset(self) -> QuerySet[Customer]:
        return customers_visible_to(self.request.user)
