"""REST API v1 of the tickets app: tickets (status changes only through actions), their messages, customers.

Every queryset comes from tickets.selectors (an object outside the user's queues answers 404) and every write is a
service call (PermissionDenied → 403, DomainError → 400, mapped in common.api_errors.ExceptionHandler)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import BooleanFilter, CursorPagination, DateRangeFilter, IdFilter, SearchFilter
from common.api_errors import document_list_errors
from common.users import signed_in_user

from . import services
from .models import Attachment, CloseReason, Customer, Message, Priority, Queue, Status, Ticket
from .selectors import customers_visible_to, queues_visible_to, tickets_visible_to
from .transitions import SETTABLE_STATUSES

# --- serializers ----------------------------------------------------------------------------------------------------


class CustomerSerializer(serializers.ModelSerializer[Customer]):
    class Meta:
        model = Customer
        fields = ["id", "email", "name", "created_at"]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer[Ticket]):
    reference = serializers.CharField(read_only=True)
    customer = CustomerSerializer(read_only=True)
    close_reason = serializers.ChoiceField(choices=CloseReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
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
            "follows",
            "first_reply_seconds",
            "first_reply_business_seconds",
            "resolution_seconds",
            "resolution_business_seconds",
            "requester_wait_seconds",
            "requester_wait_business_seconds",
            "agent_wait_seconds",
            "agent_wait_business_seconds",
            "on_hold_seconds",
            "on_hold_business_seconds",
        ]
        read_only_fields = fields


def _request_user(serializer: serializers.BaseSerializer[Any] | None) -> Any:
    request = serializer.context.get("request") if serializer is not None else None
    return request.user if request is not None else None


@extend_schema_field(OpenApiTypes.INT)
class VisibleQueueField(serializers.PrimaryKeyRelatedField[Queue]):
    """A queue id among the user's queues (another queue is "does not exist", as it answers 404 elsewhere)."""

    def get_queryset(self) -> QuerySet[Queue]:
        return queues_visible_to(_request_user(self.parent))


@extend_schema_field(OpenApiTypes.INT)
class ActiveUserField(serializers.PrimaryKeyRelatedField[User]):
    def get_queryset(self) -> QuerySet[User]:
        return User.objects.filter(is_active=True)


class TicketCreateSerializer(serializers.Serializer[Any]):
    queue = VisibleQueueField()
    customer_email = serializers.EmailField(max_length=254)
    customer_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=250)
    body = serializers.CharField(max_length=50_000, help_text="The customer's first message.")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    assignee = ActiveUserField(required=False, allow_null=True, default=None)


class TicketUpdateSerializer(serializers.Serializer[Any]):
    """PATCH changes the assignee and the priority only; the status changes through the actions."""

    assignee = ActiveUserField(required=False, allow_null=True, help_text="A member of the ticket's queue, or null.")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                f"Only assignee and priority can be changed here, not: {', '.join(unknown)}. "
                "The status changes through the close, reopen and set-status actions."
            )
        return attrs


class TicketCloseSerializer(serializers.Serializer[Any]):
    reason = serializers.ChoiceField(choices=CloseReason.choices)


class TicketSetStatusSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in SETTABLE_STATUSES])


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer[Message]):
    author = serializers.CharField(source="author_display", read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "ticket",
            "kind",
            "channel",
            "body",
            "full_body",
            "reply_to_purpose",
            "attachments",
            "author_user",
            "author_customer",
            "author",
            "created_at",
        ]
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(
        choices=[(k.value, k.label) for k in (Message.Kind.PUBLIC_REPLY, Message.Kind.INTERNAL_NOTE)],
        help_text="A public reply (emailed to the customer) or an internal note.",
    )
    body = serializers.CharField(max_length=50_000)


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


class TicketPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class MessagePagination(CursorPagination):
    ordering = ("created_at", "id")


class CustomerPagination(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema_view(
    list=extend_schema(summary="Tickets in the user's queues", description="`search` matches the subject."),
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
        return tickets_visible_to(self.request.user).select_related("customer")

    def _respond(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)  # as the service left it
        return Response(TicketSerializer(ticket, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TicketCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            customer = services.customer_get_or_create(email=data["customer_email"], name=data["customer_name"])
            ticket = services.ticket_create(
                queue=data["queue"],
                customer=customer,
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
        with transaction.atomic():  # both changes or neither
            if "assignee" in data:
                services.ticket_assign(ticket_id=ticket.pk, assignee=data["assignee"], by=signed_in_user(request))
            if "priority" in data:
                services.ticket_set_priority(ticket_id=ticket.pk, priority=data["priority"], by=signed_in_user(request))
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
