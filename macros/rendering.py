"""A macro's placeholders, filled by a whitelist: `{{ customer.first_name }}` and the other names below become the
ticket's values; anything else — `{{ settings.SECRET_KEY }}`, `{% load %}`, a misspelt name — stays exactly as the
agent wrote it. The template engine never sees text that agents wrote."""

from __future__ import annotations

import re

from django.contrib.auth.models import User

from common.users import display_name
from tickets.models import Ticket

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
NAMES = ("customer.first_name", "customer.name", "ticket.reference", "agent.name", "agent.first_name", "queue.name")


def _values(ticket: Ticket, agent: User) -> dict[str, str]:
    customer = ticket.customer
    name = customer.name.strip()
    return {
        "customer.first_name": name.split()[0] if name else "",
        "customer.name": name,
        "ticket.reference": ticket.reference,
        "agent.name": display_name(agent),
        "agent.first_name": agent.first_name or agent.get_username(),
        "queue.name": ticket.queue.name,
    }


def macro_text(body: str, *, ticket: Ticket, agent: User) -> str:
    values = _values(ticket, agent)
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body)
