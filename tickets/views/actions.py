"""POST actions on one ticket, one table (ACTIONS: URL name → route, form, perform) and one view (`act`, routed by
tickets.urls for each row). Each parses its form, calls one service and then redirects (PRG) with a flash message;
htmx requests get the re-rendered #ticket part instead. DomainError is shown next to the form; PermissionDenied → 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from common.errors import DomainError
from common.users import display_name, signed_in_user

from ..extensions import reply_tools
from ..models import CloseReason, Message, Status, Ticket
from ..selectors import tickets_visible_to
from ..services import (
    customer_email_correct,
    message_add,
    reply_send,
    ticket_assign,
    ticket_cc_add,
    ticket_cc_remove,
    ticket_close,
    ticket_move,
    ticket_reopen,
    ticket_set_priority,
    ticket_set_status,
    ticket_tag_add,
    ticket_tag_remove,
)
from .agent import DETAIL_FORMS, render_detail, visible_ticket

Perform = Callable[[Ticket, dict[str, Any], User], str]


@dataclass(frozen=True)
class Action:
    route: str  # under tickets/<pk>/
    form: str  # its key in DETAIL_FORMS
    perform: Perform  # calls the one service; returns the flash message
    may_hide: bool = False  # the action can take the ticket out of the user's sight (a move)


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: Action) -> HttpResponse:
    """Perform the action's form on the ticket; then show the ticket again, or the list when the action took the
    ticket out of the user's sight (a move to a queue they do not see)."""
    ticket = visible_ticket(request, pk)
    form = DETAIL_FORMS[action.form](request.POST, ticket=ticket, user=request.user)
    if form.is_valid():
        try:
            success = action.perform(ticket, form.cleaned_data, signed_in_user(request))
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, success)
            if action.may_hide and not tickets_visible_to(request.user).filter(pk=pk).exists():
                return _to_list(request)
            if getattr(request, "htmx", None):
                return render_detail(request, visible_ticket(request, pk))
            return redirect("tickets:detail", pk=pk)
    return render_detail(request, ticket, bound={action.form: form}, status=400)


def _to_list(request: HttpRequest) -> HttpResponse:
    if getattr(request, "htmx", None):  # a full page, not a swap of the #ticket part
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("tickets:list")
        return response
    return redirect("tickets:list")


def _reply(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    """The reply, and the status the button chose (submit as), in one service call."""
    then = data.get("then") or ""
    reason = CloseReason(then.removeprefix("close:")) if then.startswith("close:") else None
    status = Status(then) if then and reason is None else None
    with transaction.atomic():  # the reply box's tools act first (e.g. a macro's actions), then the reply
        done = [tool.on_send(ticket, data, by) for tool in reply_tools() if tool.on_send is not None]
        reply_send(ticket_id=ticket.pk, body=data["body"], by=by, status=status, close_reason=reason)
    if reason is not None:
        done.append(f"ticket closed ({reason.label})")
    elif status is not None:
        done.append(f"status set to {status.label}")
    return "; ".join(["Reply sent to the customer", *filter(None, done)]) + "."


def _note(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    message_add(ticket_id=ticket.pk, kind=Message.Kind.INTERNAL_NOTE, body=data["body"], by=by)
    return "Internal note added."


def _assign(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    assignee = data["assignee"]
    ticket_assign(ticket_id=ticket.pk, assignee=assignee, by=by)
    if assignee is None:
        return "Ticket unassigned."
    return f"Assigned to {display_name(assignee)}."


def _status(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    updated = ticket_set_status(ticket_id=ticket.pk, status=data["status"], by=by)
    return f"Status set to {updated.get_status_display()}."


def _priority(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    updated = ticket_set_priority(ticket_id=ticket.pk, priority=data["priority"], by=by)
    return f"Priority set to {updated.get_priority_display()}."


def _move(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    old_queue = ticket.queue.name
    moved = ticket_move(ticket_id=ticket.pk, queue=data["queue"], by=by)
    if moved.queue_id == ticket.queue_id:
        return f"The ticket is already in {old_queue}."
    return f"Moved from {old_queue} to {moved.queue.name}."


def _close(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    updated = ticket_close(ticket_id=ticket.pk, reason=data["reason"], by=by)
    return f"Ticket closed ({updated.get_close_reason_display()})."


def _reopen(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    ticket_reopen(ticket_id=ticket.pk, by=by)
    return "Ticket reopened."


def _cc_add(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    cc = ticket_cc_add(ticket_id=ticket.pk, email=data["email"], by=by)
    return f"{cc.email} is copied on the ticket."


def _customer_email(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    customer = customer_email_correct(ticket_id=ticket.pk, email=data["email"], by=by)
    return f"The customer's address is now {customer.email}; the conversation link was sent to it."


def _cc_remove(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    ticket_cc_remove(ticket_id=ticket.pk, cc_id=data["cc"].pk, by=by)
    return f"{data['cc'].email} is no longer copied on the ticket."


def _tag_add(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    added = ticket_tag_add(ticket_id=ticket.pk, name=data["name"], by=by)
    return f"Tagged {data['name']}." if added else f"The ticket is already tagged {data['name']}."


def _tag_remove(ticket: Ticket, data: dict[str, Any], by: User) -> str:
    removed = ticket_tag_remove(ticket_id=ticket.pk, name=data["name"], by=by)
    return f"Tag {data['name']} removed." if removed else f"The ticket is not tagged {data['name']} (any more)."


ACTIONS: dict[str, Action] = {
    "reply": Action("reply/", "reply_form", _reply),
    "note": Action("note/", "note_form", _note),
    "assign": Action("assign/", "assign_form", _assign),
    "status": Action("status/", "status_form", _status),
    "priority": Action("priority/", "priority_form", _priority),
    "move": Action("move/", "move_form", _move, may_hide=True),
    "close": Action("close/", "close_form", _close),
    "reopen": Action("reopen/", "reopen_form", _reopen),
    "cc-add": Action("cc/", "cc_add_form", _cc_add),
    "cc-remove": Action("cc/remove/", "cc_remove_form", _cc_remove),
    "customer-email": Action("customer-email/", "customer_email_form", _customer_email),
    "tag-add": Action("tags/", "tag_add_form", _tag_add),
    "tag-remove": Action("tags/remove/", "tag_remove_form", _tag_remove),
}
