"""Scoring customer texts after they are stored, the mixed-signal follow-up, spikes, moves and erasure.

Scoring runs in a Celery task started on commit of the write (sentiment.receivers), never inside the customer's
request; the beat's sweep scores what a dead broker or worker left unscored. A scorer error leaves the text
"not scored" (reason "scorer error") and is logged: the text itself is never touched.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.links import absolute_url
from outbox.services import email_enqueue
from surveys.models import DETRACTOR_TO, PROMOTER_FROM, FollowUp, NpsSurvey, SurveyResponse
from surveys.services import followup_open, nps_followup_open
from tickets.models import Customer, Message, Queue, Ticket
from tickets.selectors import queue_leads

from .models import SentimentPolicy, SentimentSpike, TextSentiment, TicketSentiment
from .scoring import VERSION, Label, Scored, text_score

logger = logging.getLogger(__name__)

SPIKE_EMAIL = "sentiment_spike"
SWEEP_WINDOW = 5000  # the sweep looks at the newest this many customer messages and comments (an index range)
BASELINE_DAYS = 30


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _score(text: str) -> Scored:
    try:
        return text_score(text)
    except Exception:  # the scorer must never lose or delay a text: it stays "not scored"
        logger.exception("sentiment scorer failed on a text of %d characters", len(text))
        return Scored(label=Label.NOT_SCORED, score=None, language="", version=VERSION, reason="scorer error")


def _fields(scored: Scored, text: str) -> dict[str, object]:
    return {
        "label": scored.label.value,
        "score": scored.score,
        "language": scored.language[:8],
        "version": scored.version,
        "reason": scored.reason[:100],
        "text_digest": _digest(text),
        "scored_at": timezone.now(),
    }


def _unchanged(row: TextSentiment | None, text: str) -> bool:
    return row is not None and row.text_digest == _digest(text) and row.version == VERSION


def _ticket_latest(message: Message, row: TextSentiment) -> None:
    """The ticket's row follows its latest customer message (a late score of an older message changes nothing)."""
    latest = {
        "message_id": message.pk,
        "message_created_at": message.created_at,
        "label": row.label,
        "score": row.score,
    }
    _, created = TicketSentiment.objects.get_or_create(ticket_id=message.ticket_id, defaults=latest)
    if not created:
        TicketSentiment.objects.filter(ticket_id=message.ticket_id, message_created_at__lte=message.created_at).update(
            **latest
        )


def message_score(*, message_id: int) -> TextSentiment | None:
    """Score a customer message (again only if its text or the scorer changed)."""
    message = (
        Message.objects.select_related("ticket")
        .filter(pk=message_id, kind=Message.Kind.CUSTOMER_MESSAGE)
        .only("body", "created_at", "ticket_id", "author_customer_id", "ticket__queue_id")
        .first()
    )
    if message is None:
        return None
    existing = TextSentiment.objects.filter(message_id=message.pk).first()
    if _unchanged(existing, message.body):
        return existing
    fields = _fields(_score(message.body), message.body)
    with transaction.atomic():
        row, _ = TextSentiment.objects.update_or_create(
            message_id=message.pk,
            defaults={
                **fields,
                "ticket_id": message.ticket_id,
                "queue_id": message.ticket.queue_id,
                "customer_id": message.author_customer_id,
                "written_at": message.created_at,
            },
        )
        _ticket_latest(message, row)
    return row


def response_score(*, response_id: int) -> TextSentiment | None:
    """Score a survey comment (again when it is edited); a removed comment removes its score. A clearly negative
    comment beside a good score opens the response's recovery follow-up (once per response)."""
    response = SurveyResponse.objects.select_related("invitation").filter(pk=response_id).first()
    if response is None:
        return None
    existing = TextSentiment.objects.filter(response_id=response.pk).first()
    if not response.comment.strip():
        TextSentiment.objects.filter(response_id=response.pk).delete()
        return None
    if _unchanged(existing, response.comment):
        return existing
    invitation = response.invitation
    row, _ = TextSentiment.objects.update_or_create(
        response_id=response.pk,
        defaults={
            **_fields(_score(response.comment), response.comment),
            "ticket_id": invitation.ticket_id,
            "queue_id": invitation.queue_id,
            "customer_id": invitation.customer_id,
            "written_at": response.updated_at,
        },
    )
    reason = mixed_signal_reason(response=response, row=row)
    if reason and _policy(invitation.queue_id).followup_on_negative_comment:
        followup_open(response_id=response.pk, reason=reason)
    return row


def _policy(queue_id: int) -> SentimentPolicy:
    return SentimentPolicy.objects.filter(queue_id=queue_id).first() or SentimentPolicy(queue_id=queue_id)


def mixed_signal_reason(*, response: SurveyResponse, row: TextSentiment) -> str:
    """Why this answer is a mixed signal ("" when it is not): a good score — CSAT 4–5, or CES 5–7 when no CSAT was
    given — with a comment scoring at or below SENTIMENT_MIXED_SIGNAL_SCORE. A link scanner's answer never is."""
    if response.flagged_automated or row.score is None or row.score > settings.SENTIMENT_MIXED_SIGNAL_SCORE:
        return ""
    if response.csat is not None:
        good, score = response.csat >= 4, f"CSAT {response.csat}"
    elif response.ces is not None:
        good, score = response.ces >= 5, f"CES {response.ces}"
    else:
        return ""
    return f"comment reads negative ({row.score:.2f}) despite {score}".replace("(-", "(−") if good else ""


def nps_reason_score(*, nps_id: int) -> FollowUp | None:
    """A passive NPS answer (7–8) whose reason reads negative (at or below SENTIMENT_MIXED_SIGNAL_SCORE) opens the
    answer's follow-up, with the reason, if the queue's policy says so (once per answer). The reason is scored, not
    kept: it belongs to no ticket, and sentiment is read per ticket."""
    nps = NpsSurvey.objects.filter(pk=nps_id).first()
    if nps is None or not nps.counts or nps.group != "passive" or not nps.comment.strip():
        return None
    if not _policy(nps.queue_id).followup_on_negative_comment:
        return None
    scored = _score(nps.comment)
    if scored.score is None or scored.score > settings.SENTIMENT_MIXED_SIGNAL_SCORE:
        return None
    reason = f"reason reads negative ({scored.score:.2f}) beside NPS {nps.score}".replace("(-", "(−")
    return nps_followup_open(nps_id=nps.pk, reason=reason)


def _nps_reasons_check(since: datetime) -> int:
    """The passive NPS answers with a reason given since `since` that have no follow-up (a dead broker or worker
    left them unchecked): checked again. Returns how many follow-ups they opened."""
    passives = NpsSurvey.objects.filter(
        score__gt=DETRACTOR_TO, score__lt=PROMOTER_FROM, answered_at__gte=since, followup__isnull=True
    ).exclude(comment="")
    return sum(nps_reason_score(nps_id=pk) is not None for pk in passives.values_list("pk", flat=True)[:SWEEP_WINDOW])


# --- the recovery sweep and the demo ---------------------------------------------------------------------------------


def texts_score_unscored(*, now: datetime | None = None, window: int | None = SWEEP_WINDOW) -> int:
    """Score the customer messages and comments that have no score (or an outdated one) among the newest `window`
    of each, written in the last SENTIMENT_SWEEP_DAYS; window None: every text of any age (seed_demo). The passive
    NPS answers of those days with a reason and no follow-up are checked again."""
    now = now or timezone.now()
    _nps_reasons_check(now - timedelta(days=settings.SENTIMENT_SWEEP_DAYS))
    messages = Message.objects.filter(kind=Message.Kind.CUSTOMER_MESSAGE)
    responses = SurveyResponse.objects.exclude(comment="")
    if window is not None:
        since = now - timedelta(days=settings.SENTIMENT_SWEEP_DAYS)
        messages = messages.filter(pk__in=messages.order_by("-pk").values("pk")[:window], created_at__gte=since)
        responses = responses.filter(pk__in=responses.order_by("-pk").values("pk")[:window], updated_at__gte=since)
    message_ids = list(messages.filter(sentiment__isnull=True).values_list("pk", flat=True))
    response_ids = list(
        responses.filter(Q(sentiment__isnull=True) | Q(sentiment__written_at__lt=F("updated_at"))).values_list(
            "pk", flat=True
        )
    )
    if window is None:
        return _score_new_messages(message_ids) + _score_new_comments(response_ids)
    for message_id in message_ids:
        message_score(message_id=message_id)
    for response_id in response_ids:
        response_score(response_id=response_id)
    return len(message_ids) + len(response_ids)


def _batches(ids: list[int], size: int = 2000) -> Iterable[list[int]]:
    return (ids[start : start + size] for start in range(0, len(ids), size))


def _score_new_messages(message_ids: list[int]) -> int:
    """Bulk: the rows of messages that have none (seed_demo's bulk-written messages), and their tickets' latest."""
    for batch in _batches(message_ids):
        messages = (
            Message.objects.filter(pk__in=batch)
            .select_related("ticket")
            .only("body", "created_at", "ticket_id", "author_customer_id", "ticket__queue_id")
        )
        rows: list[TextSentiment] = []
        latest: dict[int, tuple[Message, TextSentiment]] = {}
        for message in messages:
            rows.append(
                TextSentiment(
                    message_id=message.pk,
                    ticket_id=message.ticket_id,
                    queue_id=message.ticket.queue_id,
                    customer_id=message.author_customer_id,  # type: ignore[misc]  # a customer message has one
                    written_at=message.created_at,
                    **_fields(_score(message.body), message.body),
                )
            )
            if message.ticket_id not in latest or latest[message.ticket_id][0].created_at < message.created_at:
                latest[message.ticket_id] = (message, rows[-1])
        with transaction.atomic():
            TextSentiment.objects.bulk_create(rows)
            known = set(TicketSentiment.objects.filter(ticket_id__in=latest).values_list("ticket_id", flat=True))
            TicketSentiment.objects.bulk_create(
                TicketSentiment(
                    ticket_id=ticket_id,
                    message_id=message.pk,
                    message_created_at=message.created_at,
                    label=row.label,
                    score=row.score,
                )
                for ticket_id, (message, row) in latest.items()
                if ticket_id not in known
            )
            for ticket_id in known:
                _ticket_latest(*latest[ticket_id])
    return len(message_ids)


def _score_new_comments(response_ids: list[int]) -> int:
    for batch in _batches(response_ids):
        responses = SurveyResponse.objects.filter(pk__in=batch, sentiment__isnull=True).select_related("invitation")
        TextSentiment.objects.bulk_create(
            TextSentiment(
                response_id=response.pk,
                ticket_id=response.invitation.ticket_id,
                queue_id=response.invitation.queue_id,
                customer_id=response.invitation.customer_id,
                written_at=response.updated_at,
                **_fields(_score(response.comment), response.comment),
            )
            for response in responses
        )
    return len(response_ids)


# --- moves and erasure ------------------------------------------------------------------------------------------


def ticket_texts_follow(*, ticket: Ticket) -> None:
    """A moved ticket's texts count in its new queue (the live panel and the spikes read by queue)."""
    TextSentiment.objects.filter(ticket_id=ticket.pk).update(queue_id=ticket.queue_id)


def customer_sentiment_erase(*, customer: Customer, ticket_ids: list[int]) -> None:
    TextSentiment.objects.filter(Q(customer_id=customer.pk) | Q(ticket_id__in=ticket_ids)).delete()
    TicketSentiment.objects.filter(ticket_id__in=ticket_ids).delete()


# --- spikes -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueShare:
    queue_id: int
    hour_scored: int
    hour_negative: int
    baseline_scored: int
    baseline_negative: int

    @property
    def hour_share(self) -> float | None:
        return self.hour_negative / self.hour_scored if self.hour_scored else None

    @property
    def baseline_share(self) -> float | None:
        return self.baseline_negative / self.baseline_scored if self.baseline_scored else None

    @property
    def is_spike(self) -> bool:
        """At least SENTIMENT_SPIKE_MIN_MESSAGES scored in the hour, some negative, and a negative share at least
        SENTIMENT_SPIKE_RATIO × the 30-day baseline (a queue with no baseline yet is never a spike)."""
        baseline = self.baseline_share
        return (
            self.hour_scored >= settings.SENTIMENT_SPIKE_MIN_MESSAGES
            and self.hour_negative > 0
            and baseline is not None
            and self.hour_negative / self.hour_scored >= settings.SENTIMENT_SPIKE_RATIO * baseline
        )


def queue_shares(*, queue_ids: Iterable[int] | None, now: datetime) -> dict[int, QueueShare]:
    """Each queue's negative share over the last hour and over the 30 days before it: one query on the (queue,
    scored at, label) index, never rescoring. queue_ids None: every queue."""
    hour_ago, negative = now - timedelta(hours=1), Q(label=Label.NEGATIVE)
    texts = TextSentiment.objects.filter(scored_at__gte=now - timedelta(days=BASELINE_DAYS), scored_at__lte=now)
    if queue_ids is not None:
        texts = texts.filter(queue_id__in=list(queue_ids))
    rows = (
        texts.exclude(label=Label.NOT_SCORED)
        .values("queue_id")
        .order_by("queue_id")
        .annotate(
            hour_scored=Count("pk", filter=Q(scored_at__gte=hour_ago)),
            hour_negative=Count("pk", filter=Q(scored_at__gte=hour_ago) & negative),
            baseline_scored=Count("pk", filter=Q(scored_at__lt=hour_ago)),
            baseline_negative=Count("pk", filter=Q(scored_at__lt=hour_ago) & negative),
        )
    )
    return {row["queue_id"]: QueueShare(**row) for row in rows}


def spikes_flag(*, now: datetime | None = None) -> list[SentimentSpike]:
    """Beat: flag every queue in a spike that has not been flagged in the last hour, and email its leads (so one
    email per queue per hour at most, through the outbox)."""
    now = now or timezone.now()
    spiking = [share for share in queue_shares(queue_ids=None, now=now).values() if share.is_spike]
    if not spiking:
        return []
    recent = set(
        SentimentSpike.objects.filter(
            queue_id__in=[share.queue_id for share in spiking], flagged_at__gt=now - timedelta(hours=1)
        ).values_list("queue_id", flat=True)
    )
    new = [share for share in spiking if share.queue_id not in recent]
    leads = queue_leads(queue_ids=[share.queue_id for share in new])
    queues = Queue.objects.in_bulk([share.queue_id for share in new])
    spikes = []
    for share in new:
        with transaction.atomic():
            spike = SentimentSpike.objects.create(
                queue_id=share.queue_id,
                flagged_at=now,
                scored=share.hour_scored,
                negative=share.hour_negative,
                baseline_share=share.baseline_share or 0.0,
            )
            for lead in leads.get(share.queue_id, []):
                _spike_email(spike=spike, queue=queues[share.queue_id], to=lead.email)
        spikes.append(spike)
    return spikes


def _spike_email(*, spike: SentimentSpike, queue: Queue, to: str) -> None:
    context = {"spike": spike, "queue": queue, "dashboard_url": absolute_url(reverse("surveys:team"))}
    email_enqueue(
        kind=SPIKE_EMAIL,
        to=to,
        subject=f"Negative sentiment spike in {queue.name}: {spike.share:.0%} of the last hour's customer texts",
        text=render_to_string("sentiment/email/spike.txt", context),
        related=spike,
    )
