"""Tickets domain: data and invariants only. Every write goes through tickets.services.

calendars: business calendars; core: queues, customers, tickets, messages and events; mail: the email side of a
ticket (attachments, CCs, the Message-IDs of our emails); sla: SLA policies and the tickets' targets.
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
    TicketEvent,
    format_reference,
    parse_reference,
)
from .mail import Attachment, TicketCC, TicketMailRef, attachment_path
from .sla import SlaDailyCount, SlaPolicy, SlaTarget

__all__ = [
    "CONVERSATION_LINK_PURPOSE",
    "METRIC_STEMS",
    "OPEN_STATUSES",
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
    "Ticket",
    "TicketCC",
    "TicketEvent",
    "TicketMailRef",
    "WorkingHours",
    "attachment_path",
    "format_reference",
    "parse_reference",
    "validate_timezone",
]
