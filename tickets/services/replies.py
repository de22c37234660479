"""Submit as: the reply box sends the reply and sets the ticket's status in one step ("Send and set pending",
"Send and close: solved") — one transaction, so the customer never gets a reply on a ticket left in the old status,
and a refused status change sends nothing."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from ..models import CloseReason, Message, Status
from .core import message_add, ticket_close, ticket_set_status


@transaction.atomic
def reply_send(
    *, ticket_id: int, body: str, by: User, status: Status | None = None, close_reason: CloseReason | None = None
) -> Message:
    """A public reply, then the status (open, pending, on hold) or the close with its reason, if given."""
    message = message_add(ticket_id=ticket_id, kind=Message.Kind.PUBLIC_REPLY, body=body, by=by)
    if close_reason is not None:
        ticket_close(ticket_id=ticket_id, reason=close_reason, by=by)
    elif status is not None:
        ticket_set_status(ticket_id=ticket_id, status=status, by=by)
    return message
