"""The partials of sentiment's cards: the ticket card's messages and trend (agents who may see the ticket), and the
live panel the team dashboard polls (leads of a queue and admins). Anyone else gets 404."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from surveys.selectors import queues_led_by
from tickets.selectors import tickets_visible_to

from .pages import ticket_messages_context
from .selectors import live_negatives, recent_spikes
from .services import queue_shares

LIVE_LIMIT = 20


@require_GET
@login_required
def live(request: HttpRequest) -> HttpResponse:
    queues = list(queues_led_by(request.user).order_by("name"))
    if not queues:
        raise Http404
    now = timezone.now()
    shares = queue_shares(queue_ids=[queue.pk for queue in queues], now=now)
    spikes = recent_spikes(queue_ids=[queue.pk for queue in queues], now=now)
    context = {
        "now": now,
        "since": now - timedelta(hours=1),
        "negatives": live_negatives(queue_ids=[queue.pk for queue in queues], now=now, limit=LIVE_LIMIT),
        "queue_rows": [(queue, shares.get(queue.pk), spikes.get(queue.pk)) for queue in queues],
        "min_messages": settings.SENTIMENT_SPIKE_MIN_MESSAGES,
        "ratio": settings.SENTIMENT_SPIKE_RATIO,
    }
    response = render(request, "sentiment/_live.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def ticket_messages(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_object_or_404(tickets_visible_to(request.user).only("pk"), pk=ticket_id)
    return render(request, "sentiment/_ticket_messages.html", ticket_messages_context(ticket))
