"""customers' answers to the signals of tickets (connected in CustomersConfig.ready)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tickets.models import Customer

from .services import customer_vip_erase


def on_customer_erased(
    sender: type[Customer], customer: Customer, ticket_ids: list[int], now: datetime, **kwargs: Any
) -> None:
    customer_vip_erase(customer=customer)
