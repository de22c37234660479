"""Tickets domain: data and invariants only. Every write goes through tickets.services.

calendars: business calendars; core: queues, customers, tickets and messages; events: the ticket events; mail: the
email side of a ticket (attachments, CCs, the Message-IDs of our emails); sla: SLA policies and the tickets' targets;
tags: tags on tickets.
"""

from .calendars import BusinessCalendar, Holiday, WorkingHours, validate_timezone
from .core import (
    CONVERSATION_LINK_PURPOSE,
    METRIC_STEMS,
    OPEN_STATUSES,
    Channel,
    CloseReason,
    Customer,
    Message,
    Priority,
    Queue,
    QueueMembership,
    Status,
    Ticket,
    format_reference,
    parse_reference,
)
from .events import TicketEvent
from .mail import Attachment, TicketCC, TicketMailRef, attachment_path
from .sla import SlaDailyCount, SlaPolicy, SlaTarget
from .tags import TAG_NAME_MAX, Tag, TicketTag

__all__ = [
    "CONVERSATION_LINK_PURPOSE",
    "METRIC_STEMS",
    "OPEN_STATUSES",
    "TAG_NAME_MAX",
    "Attachment",
    "BusinessCalendar",
    "Channel",
    "CloseReason",
    "Customer",
    "Holiday",
    "Message",
    "Priority",
    "Queue",
    "QueueMembership",
    "SlaDailyCount",
    "SlaPolicy",
    "SlaTarget",
    "Status",
    "Tag",
    "Ticket",
    "TicketCC",
    "TicketEvent",
    "TicketMailRef",
    "TicketTag",
    "WorkingHours",
    "attachment_path",
    "format_reference",
    "parse_reference",
    "validate_timezone",
]
