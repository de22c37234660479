"""Template helpers of the agent pages: the nav's "Team" link and figure formatting."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser, User

from tickets.models import Ticket

from ..models import SurveyInvitation
from ..selectors import user_is_lead

register = template.Library()


@register.simple_tag
def is_team_lead(user: User | AnonymousUser) -> bool:
    """Leads of a queue and admins (one cheap query per request, remembered on the user object)."""
    cached = getattr(user, "_surveys_is_team_lead", None)
    if cached is None:
        cached = user_is_lead(user)
        user._surveys_is_team_lead = cached  # type: ignore[union-attr]
    return cached


@register.filter
def one_decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@register.inclusion_tag("surveys/_ticket_survey.html")
def ticket_survey_block(ticket: Ticket) -> dict[str, Any]:
    """The survey panel of the agent's ticket page (the view has already checked the ticket is visible): each close
    round's invitation, its answer and the follow-up it opened. One query."""
    invitations = (
        SurveyInvitation.objects.filter(ticket=ticket)
        .select_related("response", "followup", "agent")
        .order_by("-round")
    )
    return {"invitations": list(invitations)}
