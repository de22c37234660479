"""The reads of the customer's history on the ticket page's partial: everything of the customer that the viewing
agent may see (only through tickets_visible_to and followups_visible_to), each list limited and each count one
aggregate, so a customer with 500 tickets costs the same queries as one with 5."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Lower

from common.users import UserLike
from outbox.models import Suppression
from sentiment.models import TextSentiment
from surveys.models import FollowUp, NpsSurvey, SurveyResponse
from surveys.selectors import OPEN_FOLLOWUP_STATUSES, followups_visible_to
from surveys.ticket_pages import rating_annotations
from tickets.models import OPEN_STATUSES, Ticket
from tickets.selectors import queue_ids_visible_to, tickets_visible_to

TICKETS_SHOWN = 5
ANSWERS_SHOWN = 3
FOLLOWUPS_SHOWN = 5
SENTIMENT_SHOWN = 5  # the newest labels listed
SENTIMENT_TREND = 20  # the newest scores the trend is drawn from


@dataclass(frozen=True)
class CustomerHistory:
    ticket: Ticket  # the page's ticket, with its customer, VIP row, opt-out and bounce (history_ticket)
    other_tickets: list[Ticket]  # open first, then the most recently updated; with their survey rating
    other_total: int
    other_open: int
    answers: list[SurveyResponse]  # newest first
    nps_answers: list[NpsSurvey]  # newest first (the relationship survey: of the customer, asked for a queue)
    followups: list[FollowUp]  # open ones, soonest due first
    more_followups: bool
    sentiments: list[TextSentiment]  # newest first, SENTIMENT_TREND at most


def history_ticket(*, user: UserLike, ticket_id: int) -> Ticket | None:
    """The ticket if the user may see it, read with its customer's VIP row (and who set it), survey opt-out and the
    time their address started bouncing (`bouncing_since`, the outbox's suppression list): one query."""
    bounce = Suppression.objects.annotate(lower=Lower("email")).filter(lower=Lower(OuterRef("customer__email")))
    tickets = tickets_visible_to(user).select_related("customer__vip__set_by", "customer__survey_opt_out")
    return tickets.annotate(bouncing_since=Subquery(bounce.values("created_at")[:1])).filter(pk=ticket_id).first()


def _other_tickets(*, user: UserLike, ticket: Ticket) -> tuple[list[Ticket], int, int]:
    others = tickets_visible_to(user).filter(customer_id=ticket.customer_id).exclude(pk=ticket.pk)
    counts = others.aggregate(total=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN_STATUSES)))
    closed_last = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())
    rows = others.annotate(**rating_annotations()).order_by(closed_last, "-updated_at", "-id")[:TICKETS_SHOWN]
    return list(rows), counts["total"], counts["open"]


def customer_history(*, user: UserLike, ticket: Ticket) -> CustomerHistory:
    """Six queries: the other tickets' counts and rows, the latest CSAT/CES and NPS answers, the open follow-ups, the
    sentiment."""
    customer_id = ticket.customer_id
    visible = tickets_visible_to(user)
    others, total, open_count = _other_tickets(user=user, ticket=ticket)
    answers = (
        SurveyResponse.objects.filter(invitation__customer_id=customer_id, invitation__ticket__in=visible.values("pk"))
        .filter(flagged_automated=False)  # a link scanner's burst is not the customer's answer
        .select_related("invitation")
        .order_by("-answered_at", "-id")[:ANSWERS_SHOWN]
    )
    nps_answers = (
        NpsSurvey.objects.filter(customer_id=customer_id, queue_id__in=queue_ids_visible_to(user))
        .filter(score__isnull=False, flagged_automated=False)  # a link scanner's burst is not the customer's answer
        .order_by("-answered_at", "-id")[:ANSWERS_SHOWN]
    )
    followups = list(
        followups_visible_to(user)
        .filter(customer_id=customer_id, status__in=OPEN_FOLLOWUP_STATUSES)
        .select_related("owner")
        .order_by("due_at", "id")[: FOLLOWUPS_SHOWN + 1]
    )
    sentiments = TextSentiment.objects.filter(customer_id=customer_id, ticket__in=visible.values("pk")).order_by(
        "-written_at", "-id"
    )[:SENTIMENT_TREND]
    return CustomerHistory(
        ticket=ticket,
        other_tickets=others,
        other_total=total,
        other_open=open_count,
        answers=list(answers),
        nps_answers=list(nps_answers),
        followups=followups[:FOLLOWUPS_SHOWN],
        more_followups=len(followups) > FOLLOWUPS_SHOWN,
        sentiments=list(sentiments),
    )
