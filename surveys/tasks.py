from celery import shared_task

from .services import (
    followups_escalate_due,
    followups_remind_due,
    invitations_expire,
    invitations_remind_due,
    invitations_send_due,
    nps_answers_settle_due,
    nps_expire,
    nps_schedule_due,
    nps_send_due,
    responses_settle_due,
    resurveys_expire,
    resurveys_send_due,
)


@shared_task
def send_due_invitations() -> int:
    """Beat: due invitations, re-surveys and NPS surveys become outgoing emails (the outbox sweep sends them)."""
    return invitations_send_due() + resurveys_send_due() + nps_send_due()


@shared_task
def schedule_nps_surveys() -> int:
    """Beat, hourly: an NPS survey for each customer due one (the NPS policy; its send step runs with the others)."""
    return nps_schedule_due()


@shared_task
def settle_responses() -> int:
    """Beat: act on ratings and NPS answers unchanged for their settle time (poor, detractor → one follow-up)."""
    return responses_settle_due() + nps_answers_settle_due()


@shared_task
def expire_and_remind_invitations() -> tuple[int, int]:
    """Beat: expire unanswered invitations, re-surveys and NPS surveys past their expiry; send each due reminder
    once."""
    return invitations_expire() + resurveys_expire() + nps_expire(), invitations_remind_due()


@shared_task
def remind_and_escalate_followups() -> tuple[int, int]:
    """Beat: remind each follow-up's owner once before the due time; escalate each overdue one once to the leads."""
    return followups_remind_due(), followups_escalate_due()
