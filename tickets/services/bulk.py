"""Bulk changes from the ticket list and the API (POST /api/v1/tickets/bulk/): one action on up to BULK_MAX tickets.

Each ticket goes through the same service as a change of that one ticket (ticket_assign, ticket_set_status,
ticket_close…, ticket_tag_add), in a transaction of its own: its events are recorded, its transitions enforced, and
one refused ticket leaves the others changed. A ticket the agent may not see (tickets_visible_to) is skipped as
"not found" and never touched. Nothing at all is written when the request itself is refused (more than BULK_MAX
tickets, an action without its value).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from common.errors import DomainError
from common.users import display_name

from .. import transitions
from ..models import CloseReason, Priority, Queue, Status, Ticket, format_reference
from ..selectors import tickets_visible_to
from .core import ticket_assign, ticket_close, ticket_set_priority, ticket_set_status
from .moves import ticket_move
from .tags import tag_name_clean, ticket_tag_add, ticket_tag_remove

BULK_MAX = 100
NOT_FOUND = "not found"


class BulkAction(models.TextChoices):
    ASSIGN = "assign", "Assign to"
    STATUS = "status", "Set status"
    PRIORITY = "priority", "Set priority"
    MOVE = "move", "Move to queue"
    TAG = "tag", "Add tag"
    UNTAG = "untag", "Remove tag"
    CLOSE = "close", "Close"


@dataclass(frozen=True)
class BulkValues:
    """The action's value: `assignee` (None: unassign) for assign, `status`, `priority`, `queue`, `tag` (a name),
    `reason` (a close reason) for close."""

    assignee: User | None = None
    status: str = ""
    priority: str = ""
    queue: Queue | None = None
    tag: str = ""
    reason: str = ""


@dataclass(frozen=True)
class BulkOutcome:
    ticket_id: int
    changed: bool
    reason: str = ""  # why it was skipped: "not found", a refusal's message, or "already …"

    @property
    def reference(self) -> str:
        return format_reference(self.ticket_id)


@dataclass(frozen=True)
class BulkResult:
    outcomes: list[BulkOutcome] = field(default_factory=list)

    @property
    def changed(self) -> list[BulkOutcome]:
        return [outcome for outcome in self.outcomes if outcome.changed]

    @property
    def skipped(self) -> list[BulkOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.changed]

    def summary(self) -> str:
        """E.g. "12 changed; 1 skipped: this ticket is closed: reopen it first (HD-000042)." — skips grouped by
        reason, in the order first met."""
        by_reason: dict[str, list[str]] = {}
        for outcome in self.skipped:
            by_reason.setdefault(outcome.reason, []).append(outcome.reference)
        parts = [f"{len(self.changed)} changed"]
        for reason, references in by_reason.items():
            shown = ", ".join(references[:5]) + (f" and {len(references) - 5} more" if len(references) > 5 else "")
            parts.append(f"{len(references)} skipped: {reason} ({shown})")
        return "; ".join(parts) + "."


def _reason(error: Exception) -> str:
    text = str(error).strip().rstrip(".")
    return text[:1].lower() + text[1:]


# Performs the action on one visible ticket (read before, its values compared after) → whether it changed.
Perform = Callable[[Ticket, BulkValues, User], bool]


def _assign(ticket: Ticket, values: BulkValues, by: User) -> bool:
    return ticket_assign(ticket_id=ticket.pk, assignee=values.assignee, by=by).assignee_id != ticket.assignee_id


def _status(ticket: Ticket, values: BulkValues, by: User) -> bool:
    return ticket_set_status(ticket_id=ticket.pk, status=Status(values.status), by=by).status != ticket.status


def _priority(ticket: Ticket, values: BulkValues, by: User) -> bool:
    updated = ticket_set_priority(ticket_id=ticket.pk, priority=Priority(values.priority), by=by)
    return updated.priority != ticket.priority


def _move(ticket: Ticket, values: BulkValues, by: User) -> bool:
    assert values.queue is not None  # noqa: S101 - checked by _values_check
    return ticket_move(ticket_id=ticket.pk, queue=values.queue, by=by).queue_id != ticket.queue_id


def _close(ticket: Ticket, values: BulkValues, by: User) -> bool:
    return ticket_close(ticket_id=ticket.pk, reason=CloseReason(values.reason), by=by).status != ticket.status


def _tag(ticket: Ticket, values: BulkValues, by: User) -> bool:
    return ticket_tag_add(ticket_id=ticket.pk, name=values.tag, by=by)


def _untag(ticket: Ticket, values: BulkValues, by: User) -> bool:
    return ticket_tag_remove(ticket_id=ticket.pk, name=values.tag, by=by)


PERFORM: dict[str, Perform] = {
    BulkAction.ASSIGN: _assign,
    BulkAction.STATUS: _status,
    BulkAction.PRIORITY: _priority,
    BulkAction.MOVE: _move,
    BulkAction.CLOSE: _close,
    BulkAction.TAG: _tag,
    BulkAction.UNTAG: _untag,
}


def _unchanged_reason(action: str, values: BulkValues) -> str:
    reasons: dict[str, Callable[[], str]] = {
        BulkAction.ASSIGN: lambda: (
            f"already assigned to {display_name(values.assignee)}" if values.assignee else "already unassigned"
        ),
        BulkAction.STATUS: lambda: f"already {Status(values.status).label.lower()}",
        BulkAction.PRIORITY: lambda: f"already {Priority(values.priority).label.lower()} priority",
        BulkAction.MOVE: lambda: f"already in {values.queue}",
        BulkAction.CLOSE: lambda: "already closed",
        BulkAction.TAG: lambda: f"already tagged {values.tag}",
        BulkAction.UNTAG: lambda: f"not tagged {values.tag}",
    }
    return reasons[action]()


def _values_check(action: str, values: BulkValues) -> BulkValues:
    """Refuse (DomainError) an unknown action or one without a valid value, before any ticket is touched."""
    if action not in PERFORM:
        raise DomainError(f"Unknown bulk action {action!r}.")
    if action == BulkAction.STATUS:
        transitions.check_settable_status(values.status)
    elif action == BulkAction.PRIORITY:
        transitions.check_priority(values.priority)
    elif action == BulkAction.CLOSE:
        transitions.check_close_reason(values.reason)
    elif action == BulkAction.MOVE and values.queue is None:
        raise DomainError("Choose the queue to move the tickets to.")
    elif action in (BulkAction.TAG, BulkAction.UNTAG):
        return BulkValues(tag=tag_name_clean(values.tag))
    return values


def tickets_bulk_change(*, ticket_ids: Sequence[int], action: str, by: User, values: BulkValues) -> BulkResult:
    """Perform `action` with `values` on each ticket (in the order given, each once), each in its own transaction
    through the one-ticket service. More than BULK_MAX tickets, or an invalid action or value: DomainError and
    nothing changes. A ticket `by` may not see: skipped "not found". A refusal of the service (a closed ticket's
    status, an assignee outside the ticket's queue): skipped with its message. A no-op: skipped "already …"."""
    ids = list(dict.fromkeys(int(ticket_id) for ticket_id in ticket_ids))
    if len(ids) > BULK_MAX:
        raise DomainError(f"At most {BULK_MAX} tickets can be changed at once; {len(ids)} were selected.")
    if not ids:
        raise DomainError("Select at least one ticket.")
    values = _values_check(action, values)
    perform = PERFORM[action]
    fields = ("id", "status", "priority", "queue_id", "assignee_id")
    visible = {ticket.pk: ticket for ticket in tickets_visible_to(by).filter(pk__in=ids).only(*fields)}
    outcomes = []
    for ticket_id in ids:
        ticket = visible.get(ticket_id)
        outcomes.append(_one(ticket_id, ticket, perform, values, by, action))
    return BulkResult(outcomes)


def _one(
    ticket_id: int, ticket: Ticket | None, perform: Perform, values: BulkValues, by: User, action: str
) -> BulkOutcome:
    if ticket is None:
        return BulkOutcome(ticket_id, changed=False, reason=NOT_FOUND)
    try:
        with transaction.atomic():
            changed = perform(ticket, values, by)
    except Ticket.DoesNotExist:  # deleted meanwhile
        return BulkOutcome(ticket_id, changed=False, reason=NOT_FOUND)
    except (DomainError, PermissionDenied) as error:
        return BulkOutcome(ticket_id, changed=False, reason=_reason(error))
    return BulkOutcome(ticket_id, changed=changed, reason="" if changed else _unchanged_reason(action, values))


def bulk_values(**kwargs: Any) -> BulkValues:
    """BulkValues from a form's or serializer's cleaned data (missing and empty values left at their defaults)."""
    names = BulkValues.__dataclass_fields__
    return BulkValues(**{name: value for name, value in kwargs.items() if name in names and value not in (None, "")})
