"""What surveys adds to the agent's ticket pages, through tickets.extensions (registered in SurveysConfig.ready):
the list's "Last rating" column, "Poor ratings" view and rating filter; the ticket page's survey panel; and the
navigation entries My feedback, Follow-ups and Team."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from common.users import UserLike
from tickets.extensions import (
    ListColumn,
    ListFilter,
    ListView,
    NavEntry,
    TicketPanel,
    list_column_register,
    list_filter_register,
    list_view_register,
    nav_entry_register,
    ticket_panel_register,
)
from tickets.models import Message, Ticket
from tickets.selectors import queue_ids_visible_to

from .models import SURVEY_MAIL_PURPOSE, SurveyInvitation, TicketRating
from .selectors import user_is_lead

RATING_CHOICES = [
    ("", "Any"),
    ("poor", "Poor"),
    ("none", "Not rated"),
    *[(str(n), f"CSAT {n}") for n in range(5, 0, -1)],
]
NO_RATING = mark_safe('<span class="muted">—</span>')


def rating_annotations() -> dict[str, Any]:
    """What the "Last rating" cell reads with each ticket (the list's rows, the customer card's other tickets)."""
    rating = TicketRating.objects.filter(ticket_id=OuterRef("pk"))
    return {f"rating_{name}": Subquery(rating.values(name)[:1]) for name in ("csat", "ces", "poor")}


def rating_cell(ticket: Ticket) -> SafeString:
    csat, ces = getattr(ticket, "rating_csat", None), getattr(ticket, "rating_ces", None)
    if csat is None and ces is None:
        return NO_RATING
    scores = " · ".join(text for text in (csat and f"CSAT {csat}/5", ces and f"CES {ces}/7") if text)
    if getattr(ticket, "rating_poor", False):
        return format_html(
            '<span class="rating rating-poor">{}</span> <span class="badge badge-poor">Poor</span>', scores
        )
    return format_html('<span class="rating">{}</span>', scores)


def _narrow_by_rating(tickets: QuerySet[Ticket], value: str) -> QuerySet[Ticket]:
    if value == "poor":
        return tickets.filter(survey_rating__poor=True)
    if value == "none":
        return tickets.filter(
            Q(survey_rating__isnull=True) | Q(survey_rating__csat__isnull=True, survey_rating__ces__isnull=True)
        )
    return tickets.filter(survey_rating__csat=int(value))


def poor_ratings(tickets: QuerySet[Ticket], user: UserLike) -> QuerySet[Ticket]:
    """Tickets whose latest rating is poor. Read from the poor ratings of the user's queues
    (the partial index rating_poor_queue holds queue, time and ticket) rather than by joining every ticket of those
    queues to its rating; joining on the queue too lets the database check each ticket's visibility in its
    (queue, id) index instead of reading the ticket."""
    return tickets.filter(
        survey_rating__poor=True,
        survey_rating__queue_id__in=queue_ids_visible_to(user),
        survey_rating__queue_id=F("queue_id"),
    )


def _survey_replies(ticket: Any) -> QuerySet[Message]:
    return Message.objects.filter(
        ticket=ticket, kind=Message.Kind.CUSTOMER_MESSAGE, reply_to_purpose=SURVEY_MAIL_PURPOSE
    )


def survey_panel_context(ticket: Ticket) -> dict[str, Any]:
    """Each close round's invitation, its answer, the customer's emails answering its survey email and the follow-up
    it opened, newest round first (the view has checked the ticket is visible). Two queries (one without a survey).

    A reply goes with the newest round emailed before it came (one that came before any was emailed, e.g. to an
    email the outbox had not marked sent yet, with the oldest round)."""
    invitations = list(
        SurveyInvitation.objects.filter(ticket=ticket)
        .select_related("response", "followup", "agent")
        .order_by("-round")
    )
    rounds: list[dict[str, Any]] = [{"invitation": invitation, "replies": []} for invitation in invitations]
    if not rounds or not getattr(ticket, "has_survey_replies", True):  # no survey email, or no reply to one
        return {"rounds": rounds}
    replies = _survey_replies(ticket).order_by("created_at", "id")
    for reply in replies:
        emailed_before = (r for r in rounds if r["invitation"].sent_at and r["invitation"].sent_at <= reply.created_at)
        next(emailed_before, rounds[-1])["replies"].append(reply)
    return {"rounds": rounds}


def is_team_lead(user: User | AnonymousUser) -> bool:
    """Leads of a queue and admins (one cheap query per request, remembered on the user object)."""
    cached = getattr(user, "_surveys_is_team_lead", None)
    if cached is None:
        cached = user_is_lead(user)
        user._surveys_is_team_lead = cached  # type: ignore[union-attr]
    return cached


def register() -> None:
    list_column_register(
        ListColumn(
            key="rating",
            label="Last rating",
            cell=rating_cell,
            sort=F("survey_rating__csat"),
            annotations=rating_annotations,
        )
    )
    list_view_register(
        ListView(
            key="poor",
            label="Poor ratings",
            narrow=poor_ratings,
            # by queue, newest rating first: the order of rating_poor_queue, so a page reads ~50 index entries
            default_order=(F("survey_rating__queue").asc(), F("survey_rating__rated_at").desc()),
        )
    )
    list_filter_register(
        ListFilter(
            name="rating",
            field=lambda: forms.ChoiceField(label="Rating", required=False, choices=RATING_CHOICES),
            narrow=_narrow_by_rating,
        )
    )
    ticket_panel_register(
        TicketPanel(
            template="surveys/_ticket_survey.html",
            context=survey_panel_context,
            annotations=lambda: {"has_survey_replies": Exists(_survey_replies(OuterRef("pk")))},
        )
    )
    nav_entry_register(NavEntry(label="My feedback", url_name="surveys:my-feedback"))
    nav_entry_register(NavEntry(label="Follow-ups", url_name="surveys:my-followups"))
    nav_entry_register(NavEntry(label="Team", url_name="surveys:team", visible=is_team_lead))
