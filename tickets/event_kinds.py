"""Ticket event kinds: a registry that each app recording ticket events fills in its `AppConfig.ready()`.

`TicketEvent.kind` is a plain string validated against this registry; tickets never names the kinds of the apps
above it. A registration gives the kind's label and how the ticket's thread shows one event of it (`render(event)`
→ one plain-text line, escaped by the template; without it, the label):

    ticket_event_kind_register(app="nps", key="nps_answered", label="NPS answered", render=nps_event_text)

An event whose kind no app registers any more (its app was removed) reads "unknown event (<key>)", never an error.
tickets' own kinds are `TicketEvent.Kind`, registered by TicketsConfig.ready (tickets.event_texts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ValidationError

from common.registry import Registry


class EventRow(Protocol):
    """What a render reads of a TicketEvent."""

    @property
    def kind(self) -> str: ...
    @property
    def actor_id(self) -> int | None: ...
    @property
    def old_value(self) -> str: ...
    @property
    def new_value(self) -> str: ...


EventRender = Callable[[EventRow], str]


@dataclass(frozen=True)
class TicketEventKind:
    key: str
    label: str
    app_label: str
    render: EventRender | None = None


ticket_event_kinds: Registry[TicketEventKind] = Registry("event")


def ticket_event_kind_register(*, app: str, key: str, label: str, render: EventRender | None = None) -> None:
    """Declare a ticket event kind (from the recording app's ready(); `app` is its label)."""
    ticket_event_kinds.add(TicketEventKind(key=str(key), label=label, app_label=app, render=render))


def ticket_event_kind_validate(value: str) -> None:
    """The model field's validator: only registered kinds are recorded."""
    if value not in ticket_event_kinds:
        raise ValidationError(f"{value!r} is not a registered ticket event kind.")


def ticket_event_text(event: EventRow) -> str:
    """One plain-text line for the thread, e.g. "Status: Open → Pending"."""
    kind = ticket_event_kinds.get(event.kind)
    if kind is None:
        return ticket_event_kinds.label(event.kind)
    return kind.render(event) if kind.render is not None else kind.label
