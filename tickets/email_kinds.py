"""The email kinds tickets sends (registered with the outbox in TicketsConfig.ready, with their labels, maximum ages
and renderers)."""

from enum import StrEnum


class TicketEmail(StrEnum):
    REPLY_NOTIFICATION = "reply_notification"  # a public reply, to the requester (a render spec)
    CONFIRMATION = "confirmation"  # a new ticket's confirmation, to the requester (a render spec)
    SLA_WARNING = "sla_warning"  # to the assignee (or the leads): a target nearly due
    SLA_BREACH = "sla_breach"  # to the assignee and the leads: a target breached
