"""Presentation of ticket events in the thread."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from common.users import UserLike, display_name
from outbox.kinds import email_kinds

from ..event_kinds import ticket_event_text
from ..models import Message, TicketEvent
from ..nav_counts import NavLink, nav_links_for

register = template.Library()


@register.filter
def event_text(event: TicketEvent) -> str:
    """One plain-text line, e.g. "Status: Open → Pending" (the template escapes it): the kind's registered render."""
    return ticket_event_text(event)


@register.filter
def answering_text(message: Message) -> str:
    """ ", answering the survey email" for a customer's email answering one of ours whose purpose is the key of a
    registered email kind (the apps above name their own purposes so); else nothing."""
    kind = email_kinds.get(message.reply_to_purpose) if message.reply_to_purpose else None
    return f", answering the {kind.label.lower()} email" if kind is not None else ""


@register.simple_tag
def nav_entries(user: UserLike) -> list[NavLink]:
    """The navigation links other apps registered (tickets.extensions), those this user may see, with their cached
    counts (tickets.nav_counts: never a query)."""
    return nav_links_for(user)


@register.filter
def actor_name(event: TicketEvent) -> str:
    if event.actor is None:
        return "" if event.kind == TicketEvent.Kind.CREATED else "automatically"
    return f"by {display_name(event.actor)}"


@register.filter
def field_group(field: BoundField) -> SafeString:
    """A field's label, help text, errors and widget, as `as_field_group` writes them but without its templates
    (field, label and error list, for each of the twenty fields of the list page's filter and bulk forms)."""
    label = format_html('<label for="{}">{}</label>', field.id_for_label, field.label) if field.label else ""
    help_text = format_html('<div class="helptext" id="{}_helptext">{}</div>', field.auto_id, field.help_text)
    errors = str(field.errors) if field.errors else ""
    return format_html("{}{}{}{}", label, help_text if field.help_text else "", mark_safe(errors), field.as_widget())  # noqa: S308 - Django's own error list
