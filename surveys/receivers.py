"""Connected in SurveysConfig.ready(): the ticket services send these inside their transaction."""

from datetime import datetime
from typing import Any

from tickets.models import Customer, Ticket

from .services import (
    customer_survey_data_erase,
    followups_queue_follow,
    invitation_cancel_unsent,
    invitation_schedule_for_close,
    rating_queue_follow,
)


def on_ticket_closed(sender: type[Ticket], ticket: Ticket, **kwargs: Any) -> None:
    invitation_schedule_for_close(ticket=ticket)


def on_ticket_reopened(sender: type[Ticket], ticket: Ticket, **kwargs: Any) -> None:
    invitation_cancel_unsent(ticket=ticket)


def on_ticket_moved(sender: type[Ticket], ticket: Ticket, **kwargs: Any) -> None:
    rating_queue_follow(ticket=ticket)
    followups_queue_follow(ticket=ticket)


def on_customer_erased(sender: type[Customer], customer: Customer, now: datetime, **kwargs: Any) -> None:
    customer_survey_data_erase(customer=customer, now=now)
