"""What sentiment adds to the agent's pages, through the extension points of tickets and surveys (registered in
SentimentConfig.ready): the list's sentiment column and filter (the latest customer message), the ticket page's
sentiment card (each customer message's label and the trend over the conversation), the feedback pages' negative
comment share and comment filter, and the team dashboard's live panel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from common.users import UserLike
from surveys.extensions import (
    CommentFilter,
    FeedbackFigure,
    TeamPanel,
    comment_filter_register,
    feedback_figure_register,
    team_panel_register,
)
from surveys.forms import Period
from surveys.models import SurveyInvitation, SurveyResponse
from tickets.extensions import (
    ListColumn,
    ListFilter,
    TicketPanel,
    list_column_register,
    list_filter_register,
    ticket_panel_register,
)
from tickets.models import Message, Queue, Ticket

from .models import TextSentiment, TicketSentiment
from .scoring import Label

LABELS = {
    Label.NEGATIVE: "Negative",
    Label.NEUTRAL: "Neutral",
    Label.POSITIVE: "Positive",
    Label.NOT_SCORED: "Not scored",
}
WORDS = {label.value: text for label, text in LABELS.items()}
NOT_YET = mark_safe('<span class="sentiment sentiment-pending">Not scored yet</span>')
PANEL_MESSAGES = 50  # the ticket card shows the newest this many customer messages


def badge(label: str, score: float | None) -> SafeString:
    """A small label badge; the score in its title (the label is the words, so it is not read by colour alone).
    Written with escape() rather than format_html: the list calls it for every row."""
    label, text = escape(label), escape(WORDS.get(label, label))
    title = "" if score is None else f' title="score {float(score):+.2f}"'
    return mark_safe(f'<span class="sentiment sentiment-{label}"{title}>{text}</span>')  # noqa: S308 - escaped above


def sentiment_cell(ticket: Ticket) -> SafeString:
    """The latest customer message's label, read with the row (ticket_panel_annotations, the column's too)."""
    label = getattr(ticket, "sentiment_label", None)
    return (
        badge(label, getattr(ticket, "sentiment_score", None)) if label else mark_safe('<span class="muted">—</span>')
    )


def _narrow_tickets(tickets: QuerySet[Ticket], value: str) -> QuerySet[Ticket]:
    return tickets.filter(sentiment__label=value)


def ticket_messages_context(ticket: Ticket) -> dict[str, Any]:
    """The ticket's newest customer messages with their labels, oldest first, and the trend of their scores: one
    query (the partial the ticket card loads; the caller has checked the ticket is visible)."""
    newest = list(
        Message.objects.filter(ticket=ticket, kind=Message.Kind.CUSTOMER_MESSAGE)
        .select_related("sentiment")
        .order_by("-created_at", "-id")[:PANEL_MESSAGES]
    )
    rows, scores = [], []
    for message in reversed(newest):
        try:
            row: TextSentiment | None = message.sentiment
        except TextSentiment.DoesNotExist:
            row = None
        rows.append({"message": message, "badge": badge(row.label, row.score) if row else NOT_YET, "row": row})
        if row is not None and row.score is not None:
            scores.append(row.score)
    return {"ticket": ticket, "sentiment_rows": rows, "sentiment_trend": trend(scores)}


def ticket_panel_context(ticket: Ticket) -> dict[str, Any]:
    """No query: the latest customer message's label is read with the ticket (the annotations below); the card loads
    each message's label and the trend from its partial."""
    label = getattr(ticket, "sentiment_label", None)
    return {
        "latest_badge": badge(label, getattr(ticket, "sentiment_score", None)) if label else None,
        "messages_url": reverse("sentiment:ticket", args=[ticket.pk]),
    }


def ticket_panel_annotations() -> dict[str, Any]:
    latest = TicketSentiment.objects.filter(ticket_id=OuterRef("pk"))
    return {
        "sentiment_label": Subquery(latest.values("label")[:1]),
        "sentiment_score": Subquery(latest.values("score")[:1]),
    }


def trend(scores: Sequence[float]) -> dict[str, Any] | None:
    """A sparkline of the scores (−1 at the bottom, 1 at the top) and its words: needs two scored messages."""
    if len(scores) < 2:
        return None
    width, height = 200, 40
    step = width / (len(scores) - 1)
    points = " ".join(f"{i * step:.1f},{(1 - s) * height / 2:.1f}" for i, s in enumerate(scores))
    change = scores[-1] - scores[0]
    words = "improving" if change >= 0.3 else "getting worse" if change <= -0.3 else "steady"
    return {"points": points, "width": width, "height": height, "words": words, "first": scores[0], "last": scores[-1]}


# --- the feedback pages ---------------------------------------------------------------------------------------------


def comment_share_context(invitations: QuerySet[SurveyInvitation], period: Period) -> dict[str, Any]:
    """The share of negative comments among the scored comments of the invitations emailed in the period (the
    period rule of the figures beside it): one query."""
    # answer_commented (a counted answer with a comment) is in the invitations' stats indexes: only the commented
    # invitations of the period are read, then their responses and scores by their unique indexes.
    commented = invitations.filter(sent_at__gte=period.start, sent_at__lt=period.end, answer_commented=True)
    responses = SurveyResponse.objects.filter(invitation_id__in=commented.values("pk"), flagged_automated=False)
    counts = TextSentiment.objects.filter(response_id__in=responses.values("pk")).aggregate(
        scored=Count("pk", filter=~Q(label=Label.NOT_SCORED)),
        negative=Count("pk", filter=Q(label=Label.NEGATIVE)),
        not_scored=Count("pk", filter=Q(label=Label.NOT_SCORED)),
    )
    scored = counts["scored"]
    return {**counts, "negative_pct": round(100 * counts["negative"] / scored, 1) if scored else None}


def _comment_badge(response: SurveyResponse) -> SafeString:
    try:
        row = response.sentiment  # joined by the filter's select_related
    except TextSentiment.DoesNotExist:
        return NOT_YET
    return badge(row.label, row.score)


def _narrow_comments(responses: QuerySet[SurveyResponse], value: str) -> QuerySet[SurveyResponse]:
    return responses.filter(sentiment__label=value)


# --- the team dashboard ------------------------------------------------------------------------------------------


def live_panel_context(user: UserLike, queues: Sequence[Queue], period: Period) -> dict[str, Any]:
    """No query: the panel loads its partial at once and every SENTIMENT_LIVE_REFRESH_SECONDS."""
    return {"live_url": reverse("sentiment:live"), "refresh_seconds": settings.SENTIMENT_LIVE_REFRESH_SECONDS}


def register() -> None:
    list_column_register(
        ListColumn(
            key="sentiment",
            label="Sentiment",
            cell=sentiment_cell,
            sort=F("sentiment__score"),
            annotations=ticket_panel_annotations,
        )
    )
    choices = [("", "Any"), *[(label.value, LABELS[label]) for label in Label]]
    list_filter_register(
        ListFilter(
            name="sentiment",
            field=lambda: forms.ChoiceField(label="Sentiment", required=False, choices=choices),
            narrow=_narrow_tickets,
        )
    )
    ticket_panel_register(
        TicketPanel(
            template="sentiment/_ticket_panel.html",
            context=ticket_panel_context,
            annotations=ticket_panel_annotations,
        )
    )
    feedback_figure_register(FeedbackFigure(template="sentiment/_comment_share.html", context=comment_share_context))
    comment_filter_register(
        CommentFilter(
            name="sentiment",
            label="Sentiment",
            choices=((Label.NEGATIVE.value, "Negative"), (Label.POSITIVE.value, "Positive")),
            narrow=_narrow_comments,
            badge=_comment_badge,
            select_related=("sentiment",),
        )
    )
    team_panel_register(TeamPanel(template="sentiment/_live_panel.html", context=live_panel_context))
