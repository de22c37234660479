"""Survey emails: due invitations become outbox rows (beat), each with its own link token; one reminder where the
policy asks for one; unanswered invitations expire. Surveys schedule, the outbox sends."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.links import absolute_url
from common.models import AccessToken
from common.tokens import token_build
from outbox.addresses import mailbox_format
from outbox.models import OutgoingEmail
from outbox.services import email_build, email_enqueue_many

from ..models import CSAT_CHOICES, SURVEY_LINK_PURPOSE, SurveyInvitation, SurveyPolicy
from .policies import survey_policy_get_or_create

Status = SurveyInvitation.Status
SEND_CHUNK = 100  # invitations turned into emails per transaction by the beat task


def _opted_out(invitation: SurveyInvitation) -> bool:
    """Whether the invitation's customer opted out (customer__survey_opt_out is select_related by the callers)."""
    return hasattr(invitation.customer, "survey_opt_out")


def _email_build(
    *, invitation: SurveyInvitation, policy: SurveyPolicy, kind: OutgoingEmail.Kind
) -> tuple[AccessToken, OutgoingEmail]:
    """This email's own token and the survey email, both unsaved (the caller saves them in its transaction)."""
    assert invitation.expires_at is not None  # noqa: S101 - set before any email is queued
    raw, token = token_build(purpose=SURVEY_LINK_PURPOSE, target=invitation, expires_at=invitation.expires_at)
    ticket, queue = invitation.ticket, invitation.queue
    landing = absolute_url(reverse("surveys:landing", args=[raw]))
    one_click = absolute_url(reverse("surveys:unsubscribe-one-click", args=[raw]))
    agent = invitation.agent
    context = {
        "invitation": invitation,
        "ticket": ticket,
        "customer_first_name": invitation.customer.first_name,
        "agent_first_name": (agent.first_name or agent.get_username()) if agent else "",
        "queue": queue,
        "policy": policy,
        "reminder": kind == OutgoingEmail.Kind.SURVEY_REMINDER,
        "landing_url": landing,
        "csat_links": [(score, label, f"{landing}?csat={score}") for score, label in reversed(CSAT_CHOICES)],
        "unsubscribe_url": absolute_url(reverse("surveys:unsubscribe", args=[raw])),
        "expires_at": invitation.expires_at,
    }
    email = email_build(
        kind=kind,
        to=invitation.customer.email,
        from_email=mailbox_format(name=queue.name, address=queue.reply_from_email),
        subject=render_to_string("surveys/email/subject.txt", context).strip(),
        text=render_to_string("surveys/email/invitation.txt", context),
        html=render_to_string("surveys/email/invitation.html", context),
        headers={"List-Unsubscribe": f"<{one_click}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        related=invitation,
    )
    return token, email


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
    re-checked under its row lock: it may have been sent, cancelled or opted out since it was found due."""
    policies: dict[int, SurveyPolicy] = {}
    opted_out: list[int] = []
    due: list[tuple[SurveyInvitation, SurveyPolicy]] = []
    for invitation in _invitations_locked(invitation_ids):
        if invitation.status != Status.SCHEDULED or invitation.send_after > now:
            continue
        if _opted_out(invitation):  # opted out after the close
            opted_out.append(invitation.pk)
            continue
        if invitation.queue_id not in policies:
            policies[invitation.queue_id] = survey_policy_get_or_create(queue_id=invitation.queue_id)
        policy = policies[invitation.queue_id]
        invitation.status, invitation.sent_at = Status.SENT, now
        invitation.expires_at = now + timedelta(days=policy.expiry_days)
        due.append((invitation, policy))
    SurveyInvitation.objects.filter(pk__in=opted_out).update(
        status=Status.SUPPRESSED, suppression_reason=SurveyInvitation.SuppressionReason.OPTED_OUT
    )
    for expires_at in {invitation.expires_at for invitation, _ in due}:  # one UPDATE per policy expiry
        SurveyInvitation.objects.filter(pk__in=[i.pk for i, _ in due if i.expires_at == expires_at]).update(
            status=Status.SENT, sent_at=now, expires_at=expires_at
        )
    built = [_email_build(invitation=i, policy=p, kind=OutgoingEmail.Kind.SURVEY) for i, p in due]
    AccessToken.objects.bulk_create([token for token, _ in built])
    email_enqueue_many([email for _, email in built])
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
    """One reminder, with its own token, for an unanswered invitation whose policy asks for one."""
    (invitation,) = _invitations_locked([invitation_id])
    policy = survey_policy_get_or_create(queue_id=invitation.queue_id)
    if (
        invitation.status != Status.SENT
        or invitation.reminded_at is not None
        or _opted_out(invitation)
        or policy.reminder_after_days is None
        or invitation.expires_at is None
        or invitation.expires_at <= now
    ):
        return False
    invitation.reminded_at = now
    invitation.save(update_fields=["reminded_at"])
    token, email = _email_build(invitation=invitation, policy=policy, kind=OutgoingEmail.Kind.SURVEY_REMINDER)
    token.save(force_insert=True)
    email_enqueue_many([email])
    return True


def invitations_remind_due(*, now: datetime | None = None) -> int:
    """One reminder per unanswered invitation, where its policy asks for one; reminded_at makes it never repeat."""
    now = now or timezone.now()
    reminded = 0
    for policy in SurveyPolicy.objects.filter(reminder_after_days__isnull=False):
        candidates = SurveyInvitation.objects.filter(
            status=Status.SENT,
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
