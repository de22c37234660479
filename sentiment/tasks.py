from celery import shared_task

from .services import message_score, nps_reason_score, response_score, spikes_flag, texts_score_unscored


@shared_task
def score_message(message_id: int) -> None:
    message_score(message_id=message_id)


@shared_task
def score_response(response_id: int) -> None:
    response_score(response_id=response_id)


@shared_task
def score_nps_reason(nps_id: int) -> None:
    nps_reason_score(nps_id=nps_id)


@shared_task
def score_unscored() -> int:
    """Beat, every 5 minutes: what a dead broker or worker left unscored."""
    return texts_score_unscored()


@shared_task
def flag_spikes() -> int:
    """Beat, every 5 minutes."""
    return len(spikes_flag())
