"""Writes of the macros app: saving and deleting a macro (its owner; a queue's shared ones: its leads), and applying
one when the reply is sent (the reply box's on_send, inside the reply's transaction, before the reply): its actions
through the tickets services, each recorded as the ticket's event as a single change is, and its use counted."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from tickets.models import Priority, Queue, Status, Ticket
from tickets.services import tag_names_parse, ticket_assign, ticket_set_priority, ticket_set_status, ticket_tag_add

from .models import Macro, MacroUse
from .selectors import macros_editable, macros_offered, queues_for_shared_macros


@transaction.atomic
def macro_save(*, by: User, fields: dict[str, Any], macro_id: int | None = None) -> Macro:
    """Create or change a macro. `fields["queue"]` None: personal to `by` (its owner stays who made it)."""
    if macro_id is None:
        macro = Macro(created_by=by)
    else:
        macro = macros_editable(user=by).select_for_update().filter(pk=macro_id).first() or _not_found()
    queue: Queue | None = fields["queue"]
    if queue is not None and not queues_for_shared_macros(user=by).filter(pk=queue.pk).exists():
        raise Http404("No such queue.")  # the form offers only the queues the user leads
    macro.queue, macro.owner = queue, (None if queue is not None else (macro.owner or by))
    for name in ("name", "body", "set_status", "set_priority", "assign", "add_tags", "active"):
        setattr(macro, name, fields[name])
    macro.updated_at = timezone.now()
    macro.save()
    return macro


@transaction.atomic
def macro_delete(*, by: User, macro_id: int) -> None:
    macro = macros_editable(user=by).filter(pk=macro_id).first() or _not_found()
    macro.delete()


def _not_found() -> Macro:
    raise Http404("No such macro.")


def macro_apply(*, macro_id: int, ticket: Ticket, by: User) -> str:
    """Perform the macro's actions on the ticket and count its use; the caller holds the reply's transaction. A
    macro the agent is not offered on this ticket (another queue's, someone else's) is a 404."""
    macro = macros_offered(user=by, ticket=ticket).filter(pk=macro_id).first() or _not_found()
    if macro.set_status:
        ticket_set_status(ticket_id=ticket.pk, status=Status(macro.set_status), by=by)
    if macro.set_priority:
        ticket_set_priority(ticket_id=ticket.pk, priority=Priority(macro.set_priority), by=by)
    if macro.assign:
        ticket_assign(ticket_id=ticket.pk, assignee=by if macro.assign == Macro.Assign.ME else None, by=by)
    for name in tag_names_parse(macro.add_tags):  # each through the tags service: a tag_added event each
        ticket_tag_add(ticket_id=ticket.pk, name=name, by=by)
    MacroUse.objects.create(macro=macro, ticket=ticket, by=by)
    return f"macro \u201c{macro.name}\u201d applied" + (f" ({', '.join(macro.actions)})" if macro.actions else "")
