"""Survey emails: due invitations become outbox rows (beat); one reminder where the policy asks for one; unanswered
invitations expire. Surveys schedule, the outbox sends. A row holds only the invitation's id (a render spec): the
email and its link tokens are made when the outbox sends it (surveys.emails), so no stored row holds a link."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from outbox.models import OutgoingEmail
from outbox.services import email_enqueue_many, email_spec_build, outbox_cancel_related
from tickets.mailthread import mail_refs_record

from ..models import SURVEY_MAIL_PURPOSE, SurveyEmail, SurveyInvitation, SurveyPolicy
from .policies import survey_policy_get_or_create

Status = SurveyInvitation.Status
SEND_CHUNK = 100  # invitations turned into emails per transaction by the beat task


def _opted_out(invitation: SurveyInvitation) -> bool:
    """Whether the invitation's customer opted out (customer__survey_opt_out is select_related by the callers)."""
    return hasattr(invitation.customer, "survey_opt_out")


def _email_spec(*, invitation: SurveyInvitation, kind: SurveyEmail) -> OutgoingEmail:
    """The survey email's outbox row, unsaved (the caller saves it in its transaction): the invitation's id only."""
    return email_spec_build(
        kind=kind, to=invitation.customer.email, spec={"invitation_id": invitation.pk}, related=invitation
    )


def _emails_queue(invitations: list[SurveyInvitation], *, kind: SurveyEmail) -> None:
    """Queue the survey emails (or reminders) of these invitations, their Message-IDs recorded with their tickets:
    a customer's reply to one joins the ticket without reopening it (SURVEY_MAIL_PURPOSE)."""
    emails = email_enqueue_many([_email_spec(invitation=invitation, kind=kind) for invitation in invitations])
    mail_refs_record(
        emails=[(email, invitation.ticket_id) for email, invitation in zip(emails, invitations, strict=True)],
        purpose=SURVEY_MAIL_PURPOSE,
    )


def invitation_emails_withdraw(*, invitation_ids: Collection[int], never_emailed: dict[str, Any]) -> set[int]:
    """Cancel the survey emails and reminders of these invitations still waiting in the outbox (queued, or failed
    and retriable). An invitation whose survey email was among them was never emailed: it is updated with
    `never_emailed` (its new status), sent_at and expires_at cleared. Returns the ids of those. Call it in the
    transaction of the change that withdraws them (an opt-out, a reopen)."""
    cancelled = outbox_cancel_related(
        model=SurveyInvitation,
        ids=invitation_ids,
        kinds=[SurveyEmail.SURVEY, SurveyEmail.SURVEY_REMINDER],
    )
    never = {pk for pk, kind in cancelled if kind == SurveyEmail.SURVEY}
    SurveyInvitation.objects.filter(pk__in=never).update(sent_at=None, expires_at=None, **never_emailed)
    return never


def _invitations_locked(invitation_ids: list[int]) -> list[SurveyInvitation]:
    return list(
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("ticket", "customer__survey_opt_out", "agent", "queue")
        .filter(pk__in=invitation_ids)
        .order_by("pk")  # one lock order for every sender
    )


@transaction.atomic
def _invitations_send(*, invitation_ids: list[int], now: datetime) -> int:
    """Turn due invitations into outgoing emails in one transaction: one locking read, then bulk writes. Each is
    re-checked under its row lock: it may have been sent, cancelled or opted out since it was found due. They are
    `queued` until the outbox's outcome: sent (sent_at: the send time), or not emailed and why."""
    policies: dict[int, SurveyPolicy] = {}
    opted_out: list[int] = []
    due: list[SurveyInvitation] = []
    for invitation in _invitations_locked(invitation_ids):
        if invitation.status != Status.SCHEDULED or invitation.send_after > now:
            continue
        if _opted_out(invitation):  # opted out after the close
            opted_out.append(invitation.pk)
            continue
        if invitation.queue_id not in policies:
            policies[invitation.queue_id] = survey_policy_get_or_create(queue_id=invitation.queue_id)
        invitation.status = Status.QUEUED  # "sent" (sent_at) once the outbox sent it: surveys.emails
        invitation.expires_at = now + timedelta(days=policies[invitation.queue_id].expiry_days)
        due.append(invitation)
    SurveyInvitation.objects.filter(pk__in=opted_out).update(
        status=Status.SUPPRESSED, suppression_reason=SurveyInvitation.SuppressionReason.OPTED_OUT
    )
    for expires_at in {invitation.expires_at for invitation in due}:  # one UPDATE per policy expiry
        SurveyInvitation.objects.filter(pk__in=[i.pk for i in due if i.expires_at == expires_at]).update(
            status=Status.QUEUED, expires_at=expires_at
        )
    _emails_queue(due, kind=SurveyEmail.SURVEY)
    return len(due)


def invitation_send(*, invitation_id: int, now: datetime | None = None) -> bool:
    """Turn one due invitation into an outgoing email. False when it is no longer due (sent, cancelled, opted out)."""
    return _invitations_send(invitation_ids=[invitation_id], now=now or timezone.now()) == 1


def invitations_send_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Beat: the due invitations (up to `limit`), SEND_CHUNK per transaction."""
    now = now or timezone.now()
    due = SurveyInvitation.objects.filter(status=Status.SCHEDULED, send_after__lte=now).order_by("send_after")
    ids = list(due.values_list("pk", flat=True)[:limit])
    return sum(
        _invitations_send(invitation_ids=ids[i : i + SEND_CHUNK], now=now) for i in range(0, len(ids), SEND_CHUNK)
    )


def invitations_expire(*, now: datetime | None = None) -> int:
    """Sent and unanswered past expiry → expired (answered ones keep their status; their links stop working)."""
    now = now or timezone.now()
    return SurveyInvitation.objects.filter(status=Status.SENT, expires_at__lte=now).update(status=Status.EXPIRED)


@transaction.atomic
def invitation_remind(*, invitation_id: int, now: datetime) -> bool:
    """One reminder (its own tokens, minted when it is sent) for an unanswered invitation whose policy asks for one."""
    (invitation,) = _invitations_locked([invitation_id])
    policy = survey_policy_get_or_create(queue_id=invitation.queue_id)
    if (
        invitation.status != Status.SENT
        or invitation.reopened_at is not None
        or invitation.reminded_at is not None
        or _opted_out(invitation)
        or policy.reminder_after_days is None
        or invitation.expires_at is None
        or invitation.expires_at <= now
    ):
        return False
    invitation.reminded_at = now
    invitation.save(update_fields=["reminded_at"])
    _emails_queue([invitation], kind=SurveyEmail.SURVEY_REMINDER)
    return True


def invitations_remind_due(*, now: datetime | None = None) -> int:
    """One reminder per unanswered invitation, where its policy asks for one; reminded_at makes it never repeat."""
    now = now or timezone.now()
    reminded = 0
    for policy in SurveyPolicy.objects.filter(reminder_after_days__isnull=False):
        candidates = SurveyInvitation.objects.filter(
            status=Status.SENT,
            reopened_at__isnull=True,
            reminded_at__isnull=True,
            sent_at__lte=now - timedelta(days=policy.reminder_after_days or 0),
            expires_at__gt=now,
        )
        if policy.queue_id is None:  # the default policy covers queues without their own
            candidates = candidates.exclude(queue__survey_policy__isnull=False)
        else:
            candidates = candidates.filter(queue_id=policy.queue_id)
        for pk in candidates.values_list("pk", flat=True):
            reminded += invitation_remind(invitation_id=pk, now=now)
    return reminded
