"""Reads of the live panel, from the (queue, scored at, label) index: never by rescoring."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import QuerySet

from .models import SentimentSpike, TextSentiment
from .scoring import Label


def live_negatives(*, queue_ids: Sequence[int], now: datetime, limit: int) -> QuerySet[TextSentiment]:
    """The last hour's negative customer messages and comments of these queues, newest first (one query)."""
    return (
        TextSentiment.objects.filter(
            queue_id__in=queue_ids, scored_at__gte=now - timedelta(hours=1), scored_at__lte=now, label=Label.NEGATIVE
        )
        .select_related("ticket", "customer", "message", "response")
        .order_by("-scored_at", "-id")[:limit]
    )


def recent_spikes(*, queue_ids: Sequence[int], now: datetime) -> dict[int, SentimentSpike]:
    """Each queue's spike flagged in the last hour, if any (one query)."""
    spikes = SentimentSpike.objects.filter(queue_id__in=queue_ids, flagged_at__gt=now - timedelta(hours=1))
    return {spike.queue_id: spike for spike in spikes.order_by("flagged_at")}
