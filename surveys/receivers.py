"""Connected in SurveysConfig.ready(): the ticket services send these inside their transaction."""

from typing import Any

from tickets.models import Ticket

from .services import invitation_cancel_unsent, invitation_schedule_for_close


def on_ticket_closed(sender: type[Ticket], ticket: Ticket, **kwargs: Any) -> None:
    invitation_schedule_for_close(ticket=ticket)


def on_ticket_reopened(sender: type[Ticket], ticket: Ticket, **kwargs: Any) -> None:
    invitation_cancel_unsent(ticket=ticket)
