"""Every write to tickets. Keyword-only, atomic, row-locked; each change records a TicketEvent.

core: tickets and messages (create, update, reply, assign, status, priority, close, reopen); replies: a reply and
the status in one step; ccs: addresses copied on a ticket; customers: a customer's address corrected; moves: a ticket
to another queue; events: an event of a kind another app registered; housekeeping: writes to many tickets (stale
pending, agent deactivation); tags: tags on a ticket; bulk: one action on many tickets from the list or the API, each
through its one-ticket service.
"""

from .bulk import BULK_MAX, BulkAction, BulkOutcome, BulkResult, BulkValues, bulk_values, tickets_bulk_change
from .ccs import ticket_cc_add, ticket_cc_remove
from .core import (
    UNCHANGED,
    customer_get_or_create,
    message_add,
    request_submit,
    ticket_assign,
    ticket_close,
    ticket_create,
    ticket_create_for_email,
    ticket_reopen,
    ticket_set_priority,
    ticket_set_status,
    ticket_update,
)
from .customers import customer_email_correct
from .events import ticket_event_record
from .housekeeping import agent_deactivate, tickets_close_stale_pending
from .moves import ticket_move
from .replies import reply_send
from .tags import tag_names_parse, ticket_tag_add, ticket_tag_remove

__all__ = [
    "BULK_MAX",
    "UNCHANGED",
    "BulkAction",
    "BulkOutcome",
    "BulkResult",
    "BulkValues",
    "agent_deactivate",
    "bulk_values",
    "customer_email_correct",
    "customer_get_or_create",
    "message_add",
    "reply_send",
    "request_submit",
    "tag_names_parse",
    "ticket_assign",
    "ticket_cc_add",
    "ticket_cc_remove",
    "ticket_close",
    "ticket_create",
    "ticket_create_for_email",
    "ticket_event_record",
    "ticket_move",
    "ticket_reopen",
    "ticket_set_priority",
    "ticket_set_status",
    "ticket_tag_add",
    "ticket_tag_remove",
    "ticket_update",
    "tickets_bulk_change",
    "tickets_close_stale_pending",
]
