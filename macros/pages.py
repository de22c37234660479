"""What macros adds to the agent's pages through tickets' extension points (registered in MacrosConfig.ready): a
"Macros" navigation entry and the reply box's macro picker, whose `macro` field posts with the reply and whose actions
run when it is sent (ReplyTool.on_send)."""

from __future__ import annotations

from typing import Any

from django import forms

from tickets.extensions import NavEntry, ReplyTool, nav_entry_register, reply_tool_register
from tickets.models import Ticket

from .services import macro_apply


def _fields() -> dict[str, forms.Field]:
    return {"macro": forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)}


def _on_send(ticket: Ticket, data: dict[str, Any], by: Any) -> str:
    macro_id = data.get("macro")
    return macro_apply(macro_id=macro_id, ticket=ticket, by=by) if macro_id else ""


def register() -> None:
    nav_entry_register(NavEntry(label="Macros", url_name="macros:list"))
    reply_tool_register(
        ReplyTool(
            template="macros/_reply_tool.html",
            context=lambda ticket: {"ticket": ticket},
            fields=_fields,
            on_send=_on_send,
        )
    )
