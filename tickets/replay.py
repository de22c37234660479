"""Between the pure rules (tickets.transitions) and the rows: a ticket row as the rules' state and back, the rules'
events as TicketEvent rows.

tickets.services applies each Change to the locked row with these; demo.tickets plays whole ticket stories with
tickets.transitions at backdated times and writes the rows in bulk with the same functions. This is the public entry
for a writer outside tickets.services: the modules of tickets.services are private to tickets (import-linter's
"protected" contract), the package's names being its API.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import overload

from django.contrib.auth.models import User

from . import transitions
from .models import Ticket, TicketEvent
from .transitions import TicketState, UserRef

# The Ticket fields a TicketState carries under the same name (the assignee is a UserRef there).
STATE_FIELDS = tuple(name for name in TicketState.__dataclass_fields__ if name != "assignee")


@overload
def user_ref(user: User) -> UserRef: ...
@overload
def user_ref(user: User | None) -> UserRef | None: ...
def user_ref(user: User | None) -> UserRef | None:
    """A user as tickets.transitions sees them (None stays None: the system, or nobody)."""
    return UserRef(id=user.pk, username=user.get_username()) if user else None


def ticket_state(ticket: Ticket) -> TicketState:
    """The rules' view of a ticket row."""
    return TicketState(assignee=user_ref(ticket.assignee), **{name: getattr(ticket, name) for name in STATE_FIELDS})


def ticket_state_apply(*, ticket: Ticket, state: TicketState) -> None:
    """Copy a state onto the row (not saved)."""
    for name in STATE_FIELDS:
        setattr(ticket, name, getattr(state, name))
    assignee_id = state.assignee.id if state.assignee else None
    if ticket.assignee_id != assignee_id:
        ticket.assignee_id = assignee_id


def ticket_event_rows(*, ticket: Ticket, events: Iterable[transitions.Event]) -> list[TicketEvent]:
    """Unsaved TicketEvent rows of a saved ticket; the created event gets the ticket's reference."""
    return [
        TicketEvent(
            ticket=ticket,
            actor_id=event.actor.id if event.actor else None,
            kind=event.kind,
            old_value=event.old_value,
            new_value=ticket.reference if event.kind == TicketEvent.Kind.CREATED else event.new_value,
            at=event.at,
        )
        for event in events
    ]
