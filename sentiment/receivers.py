"""Connected in SentimentConfig.ready(). A stored customer text is scored by a task sent on commit, never inside the
customer's request; if the broker is down the text stays unscored and the beat's sweep scores it later."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import Task
from django.db import transaction

from surveys.models import NpsSurvey, SurveyResponse
from tickets.models import Customer, Message, Ticket

from .services import customer_sentiment_erase, ticket_texts_follow
from .tasks import score_message, score_nps_reason, score_response

logger = logging.getLogger(__name__)


def _score_later(task: Task, pk: int) -> None:
    def send() -> None:
        try:
            task.delay(pk)
        except Exception:
            logger.warning("%s(%s) not sent (the sweep will score it)", task.name, pk, exc_info=True)

    transaction.on_commit(send)


def on_message_saved(sender: type[Message], instance: Message, created: bool, **kwargs: Any) -> None:
    if created and instance.kind == Message.Kind.CUSTOMER_MESSAGE:
        _score_later(score_message, instance.pk)


def on_response_saved(
    sender: type[SurveyResponse], instance: SurveyResponse, created: bool, update_fields: Any, **kwargs: Any
) -> None:
    if created and not instance.comment:  # a score's click: nothing to score (a comment removed later is: unscored)
        return
    if update_fields is None or "comment" in update_fields:  # not the settle's own save of settled_at
        _score_later(score_response, instance.pk)


def on_nps_saved(sender: type[NpsSurvey], instance: NpsSurvey, update_fields: Any, **kwargs: Any) -> None:
    """A passive's reason given or changed: does it read negative (a follow-up)?"""
    answered = update_fields is None or "comment" in update_fields  # not the settle's own save of settled_at
    if answered and instance.group == "passive" and instance.comment.strip():
        _score_later(score_nps_reason, instance.pk)


def on_ticket_moved(sender: type[Ticket], ticket: Ticket, **kwargs: Any) -> None:
    ticket_texts_follow(ticket=ticket)


def on_customer_erased(
    sender: type[Customer], customer: Customer, ticket_ids: list[int], now: datetime, **kwargs: Any
) -> None:
    customer_sentiment_erase(customer=customer, ticket_ids=ticket_ids)
