"""What customers adds to the agent's pages, through the extension points of tickets (registered in
CustomersConfig.ready): the ticket page's customer card (the VIP flag read with the ticket, the rest loaded from its
partial, so the page costs no query more), the list's VIP marker and filter, and the thread's lines of its events."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Exists, F, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from sentiment.pages import badge, trend
from surveys.ticket_pages import rating_cell
from tickets.event_kinds import EventRow
from tickets.extensions import (
    ListColumn,
    ListFilter,
    TicketPanel,
    list_column_register,
    list_filter_register,
    ticket_panel_register,
)
from tickets.models import Ticket, format_reference
from tickets.views.sla import sla_due

from .models import Vip
from .selectors import SENTIMENT_SHOWN, CustomerHistory

VIP_BADGE = mark_safe('<span class="badge badge-vip">VIP</span>')
NO_VIP = mark_safe("")


def vip_set_text(event: EventRow) -> str:
    return "Customer marked VIP"


def vip_cleared_text(event: EventRow) -> str:
    return "Customer's VIP flag cleared"


def vip_cell(ticket: Ticket) -> SafeString:
    # read with the row (ticket_panel_annotations, the column's too): no query
    return VIP_BADGE if getattr(ticket, "customer_is_vip", False) else NO_VIP


def _narrow_to_vips(tickets: QuerySet[Ticket], value: str) -> QuerySet[Ticket]:
    return tickets.filter(customer__vip__isnull=False)


def ticket_panel_context(ticket: Ticket) -> dict[str, Any]:
    """No query: the VIP flag is read with the ticket (the annotation below); the card loads the rest from its
    partial."""
    return {
        "ticket": ticket,
        "is_vip": getattr(ticket, "customer_is_vip", False),
        "history_url": reverse("customers:history", args=[ticket.pk]),
        "vip_url": reverse("customers:vip", args=[ticket.pk]),
    }


def ticket_panel_annotations() -> dict[str, Any]:
    return {"customer_is_vip": Exists(Vip.objects.filter(customer_id=OuterRef("customer_id")))}


def history_context(history: CustomerHistory) -> dict[str, Any]:
    """The partial's context: the history, the newest sentiment labels as badges and the trend of the scores (oldest
    first), drawn and worded as sentiment's ticket card draws a conversation's."""
    now = timezone.now()
    scores = [row.score for row in reversed(history.sentiments) if row.score is not None]
    customer = history.ticket.customer
    others = [
        {
            "ticket": other,
            "is_open": not other.is_closed,
            "sla": None if other.is_closed else sla_due(other.sla_due_at, now=now),  # the list's words for it
            "rating": rating_cell(other),  # the list's "Last rating" cell, read with the row
        }
        for other in history.other_tickets
    ]
    return {
        "history": history,
        "other_rows": others,
        "answer_rows": [(answer, format_reference(answer.invitation.ticket_id)) for answer in history.answers],
        "customer": customer,
        "vip": getattr(customer, "vip", None),
        "opt_out": getattr(customer, "survey_opt_out", None),
        # the list's own customer filter (it matches the address as a part): all their tickets, this one too
        "list_url": f"{reverse('tickets:list')}?{urlencode({'view': 'all', 'customer': customer.email})}",
        "sentiment_badges": [(row, badge(row.label, row.score)) for row in history.sentiments[:SENTIMENT_SHOWN]],
        "sentiment_trend": trend(scores),
    }


def register() -> None:
    list_column_register(
        ListColumn(
            key="vip",
            label="VIP",
            cell=vip_cell,
            sort=F("customer__vip__set_at"),
            annotations=ticket_panel_annotations,
        )
    )
    list_filter_register(
        ListFilter(
            name="vip",
            field=lambda: forms.ChoiceField(label="VIP", required=False, choices=[("", "Any"), ("yes", "Yes")]),
            narrow=_narrow_to_vips,
        )
    )
    ticket_panel_register(
        TicketPanel(
            template="customers/_ticket_panel.html",
            context=ticket_panel_context,
            annotations=ticket_panel_annotations,
        )
    )
