"""Serializers of the tickets REST API (tickets.api): what a ticket, its SLA targets, messages and customers look
like, and the inputs of the writes and actions (checked again by the services)."""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import TAG_NAME_MAX, Attachment, CloseReason, Customer, Message, Priority, Queue, SlaTarget, Ticket
from .selectors import queues_visible_to
from .services import BULK_MAX, BulkAction
from .transitions import SETTABLE_STATUSES

# The statuses set-status and bulk may set: one enum in the schema (helpdesk.settings.api_schema names it).
SETTABLE_STATUS_CHOICES = [(s.value, s.label) for s in SETTABLE_STATUSES]


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
            "sla_due_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"sla_due_at": {"help_text": "The nearest due time of the ticket's running SLA targets."}}


class SlaTargetSerializer(serializers.ModelSerializer[SlaTarget]):
    class Meta:
        model = SlaTarget
        fields = [
            "kind",
            "started_at",
            "due_at",
            "target_seconds",
            "business_hours",
            "elapsed_seconds",
            "result",
            "settled_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "due_at": {"help_text": "While the clock runs; null while it is paused or once it stopped."},
            "elapsed_seconds": {"help_text": "As of the clock's last change (business seconds in business hours)."},
            "result": {"help_text": "Empty while the clock runs or is paused."},
        }


class TicketDetailSerializer(TicketSerializer):
    """One ticket: with its SLA targets (oldest clock first)."""

    sla_targets = SlaTargetSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "sla_targets"]
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


class TicketMoveSerializer(serializers.Serializer[Any]):
    queue = VisibleQueueField(help_text="A queue you work in.")


class TicketCloseSerializer(serializers.Serializer[Any]):
    reason = serializers.ChoiceField(choices=CloseReason.choices)


class TicketSetStatusSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=SETTABLE_STATUS_CHOICES)


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


MAX_ID = 2**63 - 1


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "minItems": 1,
        "maxItems": BULK_MAX,
    }
)
class TicketIdsField(serializers.Field):
    """A list of ticket ids, checked as a whole: its errors name `ids` (not `ids.<n>`, which the error schema does
    not list), and an id past the database's integers is a 400, never an overflow."""

    default_error_messages = {"invalid": "Ticket ids are positive integers."}  # the error schema's codes

    def to_internal_value(self, data: Any) -> list[int]:
        # Every refusal is code "invalid", with its own words.
        if not isinstance(data, list) or not data:
            raise serializers.ValidationError("A non-empty list of ticket ids is required.", code="invalid")
        if len(data) > BULK_MAX:
            raise serializers.ValidationError(
                f"At most {BULK_MAX} tickets can be changed at once; {len(data)} were given. Nothing was changed.",
                code="invalid",
            )
        if not all(type(item) is int and 0 < item <= MAX_ID for item in data):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> list[int]:
        return list(value)


class TicketBulkSerializer(serializers.Serializer[Any]):
    """One action on up to BULK_MAX tickets; the value the action needs (assign: `assignee`, null unassigns; status:
    `status`; priority: `priority`; move: `queue`; tag and untag: `tag`; close: `reason`)."""

    ids = TicketIdsField(help_text=f"Ticket ids, at most {BULK_MAX} (a repeated id counts once).")
    action = serializers.ChoiceField(choices=BulkAction.choices)
    assignee = ActiveUserField(required=False, allow_null=True, help_text="assign: a member of each ticket's queue.")
    status = serializers.ChoiceField(choices=SETTABLE_STATUS_CHOICES, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    queue = VisibleQueueField(required=False, help_text="move: a queue you work in.")
    tag = serializers.CharField(max_length=TAG_NAME_MAX, required=False, help_text="tag / untag: the tag's name.")
    reason = serializers.ChoiceField(choices=CloseReason.choices, required=False, help_text="close: the reason.")


class TicketBulkOutcomeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="ticket_id")
    reference = serializers.CharField()
    outcome = serializers.SerializerMethodField()
    reason = serializers.CharField(
        help_text='Why it was skipped: "not found" (not a ticket you can see), the refusal, or "already …".'
    )

    def get_outcome(self, outcome: Any) -> Literal["changed", "skipped"]:
        return "changed" if outcome.changed else "skipped"


class TicketBulkResultSerializer(serializers.Serializer[Any]):
    changed = serializers.SerializerMethodField()
    skipped = serializers.SerializerMethodField()
    summary = serializers.CharField(help_text='E.g. "12 changed; 1 skipped: not found (HD-000042)."')
    results = TicketBulkOutcomeSerializer(source="outcomes", many=True, help_text="Per ticket, in the order given.")

    def get_changed(self, result: Any) -> int:
        return len(result.changed)

    def get_skipped(self, result: Any) -> int:
        return len(result.skipped)
