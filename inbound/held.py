"""What an agent does with a held (unverified) email: add it to the ticket it claims (the customer's own email, held
for lack of proof), trust its sender for that ticket (a CC) and add it, make a new ticket of it, or discard it.

One service per action, each in one transaction: the row is locked and its status re-checked (a second click, or a
second agent, changes nothing: the decided row is returned as it is), the agent must see the email
(`inbound_visible_to`: the ticket it claims through tickets_visible_to, else its queue through queues_visible_to:
PermissionDenied otherwise), tickets change only through tickets.services (the message, the CC and the new ticket
record their own events), and a `held_email` ticket event says who decided what on each ticket concerned. The row
keeps the decision: status (accepted / rejected), decided_by and the outcome in words.

Trust stays per ticket: copying the sender makes their later emails to that ticket count as the customer's, never
their mail to other tickets or a new one (held mail is unverified by definition).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from common.errors import DomainError
from tickets.event_kinds import EventRow
from tickets.models import Ticket
from tickets.services import ticket_cc_add, ticket_event_record

from .models import InboundEmail
from .routing import Outcome, email_read, forwarding_agent, message_add_from_email, ticket_from_email, trusted_sender
from .selectors import inbound_visible_to

HELD_EVENT = "held_email"
RowStatus = InboundEmail.Status


def held_event_text(event: EventRow) -> str:
    return f"Held email from {event.old_value or '(no sender)'}: {event.new_value}"


@dataclass(frozen=True)
class Decision:
    row: InboundEmail
    done: bool  # False: it was decided already (a double submit), nothing changed


def _locked_held(email_id: int, by: User) -> InboundEmail | None:
    """The row locked, if the agent may see it (else PermissionDenied); None when it is no longer held."""
    row = (
        InboundEmail.objects.select_for_update(of=("self",))
        .select_related("queue", "ticket__customer", "ticket__queue")
        .get(pk=email_id)
    )
    if not inbound_visible_to(by).filter(pk=row.pk).exists():
        raise PermissionDenied("This email is not in your queues.")
    return row if row.status == RowStatus.HELD else None


def _claimed(row: InboundEmail) -> Ticket:
    if row.ticket is None:
        raise DomainError("This email claims no ticket: make a new ticket of it, or discard it.")
    return row.ticket


def _record(ticket: Ticket, row: InboundEmail, by: User, what: str) -> None:
    ticket_event_record(ticket=ticket, kind=HELD_EVENT, actor=by, old_value=row.from_address, new_value=what)


def _decided(row: InboundEmail, by: User, status: str, outcome: Outcome | None, text: str) -> Decision:
    row.status, row.decided_by, row.outcome = status, by, f"{text} by {by.get_username()}"[:300]
    if outcome is not None:
        row.outcome = f"{row.outcome}: {outcome.text}"[:300]
        row.ticket, row.ticket_message = outcome.ticket, outcome.message
    row.save(update_fields=["status", "decided_by", "outcome", "ticket", "ticket_message"])
    return Decision(row, True)


def _add(row: InboundEmail, by: User, *, trust: bool) -> Decision:
    ticket = _claimed(row)
    parsed = email_read(row)
    copied = not trusted_sender(ticket, parsed.from_email)
    if copied and not trust:  # tickets' invariant: only the customer and copied addresses write as customers
        raise DomainError(f"{parsed.from_email} is not on {ticket.reference}: copy the sender on it to add this email.")
    if copied:
        ticket_cc_add(ticket_id=ticket.pk, email=parsed.from_email, by=by)
    outcome = message_add_from_email(ticket, parsed, purpose="")
    _record(outcome.ticket or ticket, row, by, "added, its sender copied on the ticket" if copied else "added")
    return _decided(row, by, RowStatus.ACCEPTED, outcome, "Accepted")


@transaction.atomic
def held_add(*, email_id: int, by: User) -> Decision:
    """Add the email of the ticket's customer (or an address copied on it) to the ticket it claims, as routing adds
    a verified reply (a closed ticket reopens; past its reopen window a linked new ticket starts). Another sender's
    email is refused (DomainError): only `held_trust` makes a stranger a writer of the ticket."""
    row = _locked_held(email_id, by)
    return _add(row, by, trust=False) if row else Decision(InboundEmail.objects.get(pk=email_id), False)


@transaction.atomic
def held_trust(*, email_id: int, by: User) -> Decision:
    """Copy the sender on the ticket it claims (a CC: trusted for that ticket only) and add the email to it."""
    row = _locked_held(email_id, by)
    return _add(row, by, trust=True) if row else Decision(InboundEmail.objects.get(pk=email_id), False)


@transaction.atomic
def held_new_ticket(*, email_id: int, by: User) -> Decision:
    """A new ticket of the email, as routing makes one for a new sender (an agent's forward: for its original
    sender), in the queue of the ticket it claimed (one the agent sees), else the queue it came to."""
    row = _locked_held(email_id, by)
    if row is None:
        return Decision(InboundEmail.objects.get(pk=email_id), False)
    claimed = row.ticket
    queue = claimed.queue if claimed is not None else row.queue
    parsed = email_read(row)
    outcome = ticket_from_email(queue, parsed, by=forwarding_agent(queue, parsed))
    if outcome.ticket is None:  # ticket_from_email always makes one
        raise DomainError("No ticket could be made of this email.")
    _record(outcome.ticket, row, by, "a new ticket made of it")
    if claimed is not None:
        _record(claimed, row, by, f"made into a new ticket, {outcome.ticket.reference}")
    return _decided(row, by, RowStatus.ACCEPTED, outcome, "Made a new ticket")


@transaction.atomic
def held_discard(*, email_id: int, by: User) -> Decision:
    """Discard the email: it stays stored (the admin shows it), marked rejected; nothing is added anywhere."""
    row = _locked_held(email_id, by)
    if row is None:
        return Decision(InboundEmail.objects.get(pk=email_id), False)
    if row.ticket is not None:
        _record(row.ticket, row, by, "discarded")
    return _decided(row, by, RowStatus.REJECTED, None, "Discarded")


def held_decide(*, email_id: int, accept: bool, by: User) -> InboundEmail:
    """The ticket page's accept (trust the sender for the ticket and add the email) or reject (discard)."""
    decide = held_trust if accept else held_discard
    return decide(email_id=email_id, by=by).row
