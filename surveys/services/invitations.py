"""Every write of the surveys app. Surveys schedule, the outbox sends (DESIGN.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.errors import DomainError
from common.models import AccessToken
from common.tokens import token_build
from outbox.models import OutgoingEmail
from outbox.services import email_build, email_enqueue_many
from tickets.calendar import add_business_seconds
from tickets.models import Customer, QueueMembership, Ticket
from tickets.services import ticket_rating_record

from ..models import (
    CSAT_CHOICES,
    SURVEY_LINK_PURPOSE,
    FollowUp,
    FollowUpEvent,
    SurveyInvitation,
    SurveyPolicy,
    SurveyResponse,
    SurveyResponseChange,
)
from .webhook_events import followup_created_emit, survey_answered_emit

Invitation = SurveyInvitation
Reason = SurveyInvitation.SuppressionReason
DEFAULT_SETTLE_MINUTES = SurveyPolicy._meta.get_field("settle_minutes").get_default()
EMAILED_STATUSES = (Invitation.Status.SENT, Invitation.Status.ANSWERED, Invitation.Status.EXPIRED)
SEND_CHUNK = 100  # invitations turned into emails per transaction by the beat task


def policy_for_queue(*, queue_id: int) -> SurveyPolicy:
    """The queue's own policy, else the default one (created on first use, so no migration data is needed)."""
    policies = {p.queue_id: p for p in SurveyPolicy.objects.filter(Q(queue_id=queue_id) | Q(queue__isnull=True))}
    policy = policies.get(queue_id) or policies.get(None)
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            return SurveyPolicy.objects.create(queue=None)
    except IntegrityError:  # created concurrently
        return SurveyPolicy.objects.get(queue__isnull=True)


# --- close / reopen hooks (run inside the ticket's transaction) -------------------------------------------------------


def _suppression_reason(*, ticket: Ticket, policy: SurveyPolicy, now: datetime) -> str:
    customer = ticket.customer
    if not policy.enabled or not (policy.ask_csat or policy.ask_ces):
        return Reason.POLICY_OFF
    if ticket.close_reason not in policy.close_reasons:
        return Reason.CLOSE_REASON
    if not customer.email:
        return Reason.NO_EMAIL
    if customer.surveys_opted_out_at is not None:
        return Reason.OPTED_OUT
    if policy.throttle_days and (
        Invitation.objects.filter(
            customer=customer,
            status__in=(Invitation.Status.SCHEDULED, *EMAILED_STATUSES),
            closed_at__gte=now - timedelta(days=policy.throttle_days),
        ).exists()
    ):
        return Reason.THROTTLED
    return ""


def invitation_schedule_for_close(*, ticket: Ticket) -> SurveyInvitation:
    """Close hook: the next round's invitation, scheduled, or suppressed with its reason. Snapshots agent and queue."""
    now = ticket.closed_at or timezone.now()
    policy = policy_for_queue(queue_id=ticket.queue_id)
    last_round = Invitation.objects.filter(ticket=ticket).aggregate(last=Max("round"))["last"] or 0
    reason = _suppression_reason(ticket=ticket, policy=policy, now=now)
    return Invitation.objects.create(
        ticket=ticket,
        round=last_round + 1,
        customer_id=ticket.customer_id,
        agent_id=ticket.assignee_id,
        queue_id=ticket.queue_id,
        status=Invitation.Status.SUPPRESSED if reason else Invitation.Status.SCHEDULED,
        suppression_reason=reason,
        closed_at=now,
        send_after=now + timedelta(minutes=policy.delay_minutes),
    )


def invitation_cancel_unsent(*, ticket: Ticket) -> int:
    """Reopen hook: an invitation not yet emailed is cancelled (a reopened ticket is not done)."""
    return Invitation.objects.filter(ticket=ticket, status=Invitation.Status.SCHEDULED).update(
        status=Invitation.Status.CANCELLED
    )


# --- sending (beat) -----------------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _first_name(user: User | None) -> str:
    return (user.first_name or user.get_username()) if user else ""


def _build_email(
    *, invitation: SurveyInvitation, policy: SurveyPolicy, kind: OutgoingEmail.Kind
) -> tuple[AccessToken, OutgoingEmail]:
    """This email's own token and the survey email, both unsaved (the caller saves them in its transaction)."""
    assert invitation.expires_at is not None  # noqa: S101 - set before any email is queued
    raw, token = token_build(purpose=SURVEY_LINK_PURPOSE, target=invitation, expires_at=invitation.expires_at)
    ticket, queue = invitation.ticket, invitation.queue
    landing = _absolute(reverse("surveys:landing", args=[raw]))
    one_click = _absolute(reverse("surveys:unsubscribe-one-click", args=[raw]))
    context = {
        "invitation": invitation,
        "ticket": ticket,
        "customer_first_name": invitation.customer.first_name,
        "agent_first_name": _first_name(invitation.agent),
        "queue": queue,
        "policy": policy,
        "reminder": kind == OutgoingEmail.Kind.SURVEY_REMINDER,
        "landing_url": landing,
        "csat_links": [(score, label, f"{landing}?csat={score}") for score, label in reversed(CSAT_CHOICES)],
        "unsubscribe_url": _absolute(reverse("surveys:unsubscribe", args=[raw])),
        "expires_at": invitation.expires_at,
    }
    email = email_build(
        kind=kind,
        to=invitation.customer.email,
        from_email=f"{queue.name} <{queue.reply_from_email}>",
        subject=render_to_string("surveys/email/subject.txt", context).strip(),
        text=render_to_string("surveys/email/invitation.txt", context),
        html=render_to_string("surveys/email/invitation.html", context),
        headers={"List-Unsubscribe": f"<{one_click}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        related=invitation,
    )
    return token, email


def _queue_email(*, invitation: SurveyInvitation, policy: SurveyPolicy, kind: OutgoingEmail.Kind) -> None:
    """Mint this email's own token and queue the survey email in the outbox."""
    token, email = _build_email(invitation=invitation, policy=policy, kind=kind)
    token.save(force_insert=True)
    email_enqueue_many([email])


@transaction.atomic
def _invitations_send(*, invitation_ids: list[int], now: datetime) -> int:
    """Turn due invitations into outgoing emails in one transaction: one locking read, then bulk writes. Each is
    re-checked under its row lock: it may have been sent, cancelled or opted out since it was found due."""
    invitations = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("ticket", "customer", "agent", "queue")
        .filter(pk__in=invitation_ids)
        .order_by("pk")  # one lock order for every sender
    )
    policies: dict[int, SurveyPolicy] = {}
    opted_out: list[int] = []
    due: list[tuple[SurveyInvitation, SurveyPolicy]] = []
    for invitation in invitations:
        if invitation.status != Invitation.Status.SCHEDULED or invitation.send_after > now:
            continue
        if invitation.customer.surveys_opted_out_at is not None:  # opted out after the close
            opted_out.append(invitation.pk)
            continue
        if invitation.queue_id not in policies:
            policies[invitation.queue_id] = policy_for_queue(queue_id=invitation.queue_id)
        policy = policies[invitation.queue_id]
        invitation.status, invitation.sent_at = Invitation.Status.SENT, now
        invitation.expires_at = now + timedelta(days=policy.expiry_days)
        due.append((invitation, policy))
    Invitation.objects.filter(pk__in=opted_out).update(
        status=Invitation.Status.SUPPRESSED, suppression_reason=Reason.OPTED_OUT
    )
    for expires_at in {invitation.expires_at for invitation, _ in due}:  # one UPDATE per policy expiry
        Invitation.objects.filter(pk__in=[i.pk for i, _ in due if i.expires_at == expires_at]).update(
            status=Invitation.Status.SENT, sent_at=now, expires_at=expires_at
        )
    built = [_build_email(invitation=i, policy=p, kind=OutgoingEmail.Kind.SURVEY) for i, p in due]
    AccessToken.objects.bulk_create([token for token, _ in built])
    email_enqueue_many([email for _, email in built])
    return len(due)


def invitation_send(*, invitation_id: int, now: datetime | None = None) -> bool:
    """Turn one due invitation into an outgoing email. False when it is no longer due (sent, cancelled, opted out)."""
    return _invitations_send(invitation_ids=[invitation_id], now=now or timezone.now()) == 1


def invitations_send_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Beat: the due invitations (up to `limit`), SEND_CHUNK per transaction."""
    now = now or timezone.now()
    due = Invitation.objects.filter(status=Invitation.Status.SCHEDULED, send_after__lte=now).order_by("send_after")
    ids = list(due.values_list("pk", flat=True)[:limit])
    return sum(
        _invitations_send(invitation_ids=ids[i : i + SEND_CHUNK], now=now) for i in range(0, len(ids), SEND_CHUNK)
    )


def invitations_expire(*, now: datetime | None = None) -> int:
    """Sent and unanswered past expiry → expired (answered ones keep their status; their links stop working)."""
    now = now or timezone.now()
    return Invitation.objects.filter(status=Invitation.Status.SENT, expires_at__lte=now).update(
        status=Invitation.Status.EXPIRED
    )


@transaction.atomic
def invitation_remind(*, invitation_id: int, now: datetime) -> bool:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("ticket", "customer", "agent", "queue")
        .get(pk=invitation_id)
    )
    policy = policy_for_queue(queue_id=invitation.queue_id)
    if (
        invitation.status != Invitation.Status.SENT
        or invitation.reminded_at is not None
        or invitation.customer.surveys_opted_out_at is not None
        or policy.reminder_after_days is None
        or invitation.expires_at is None
        or invitation.expires_at <= now
    ):
        return False
    invitation.reminded_at = now
    invitation.save(update_fields=["reminded_at"])
    _queue_email(invitation=invitation, policy=policy, kind=OutgoingEmail.Kind.SURVEY_REMINDER)
    return True


def invitations_remind_due(*, now: datetime | None = None) -> int:
    """One reminder per unanswered invitation, where its policy asks for one; reminded_at makes it never repeat."""
    now = now or timezone.now()
    reminded = 0
    for policy in SurveyPolicy.objects.filter(reminder_after_days__isnull=False):
        candidates = Invitation.objects.filter(
            status=Invitation.Status.SENT,
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


# --- customer actions ---------------------------------------------------------------------------------------------


def _validate_score(value: int | None, *, low: int, high: int, name: str) -> None:
    if value is not None and not low <= value <= high:
        raise DomainError(f"{name} must be between {low} and {high}.")


def _is_burst(response: SurveyResponse, now: datetime) -> bool:
    """Several different CSAT scores within a few seconds: a link scanner clicking every link, not a person."""
    window = now - timedelta(seconds=settings.SURVEY_BURST_SECONDS)
    recent = {c.csat for c in response.changes.filter(at__gte=window) if c.csat is not None}
    return len(recent) >= settings.SURVEY_BURST_DISTINCT_SCORES


@transaction.atomic
def response_submit(
    *,
    invitation_id: int,
    via: SurveyResponse.Via,
    csat: int | None = None,
    ces: int | None = None,
    comment: str | None = None,
) -> SurveyResponse:
    """Record or update the answer (a None field keeps its previous value). Every submission is kept as a change."""
    _validate_score(csat, low=1, high=5, name="CSAT")
    _validate_score(ces, low=1, high=7, name="CES")
    invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
    if not invitation.is_open_for_answers:
        raise DomainError("This survey is closed.")
    now = timezone.now()
    response = SurveyResponse.objects.filter(invitation=invitation).first() or SurveyResponse(
        invitation=invitation, answered_at=now
    )
    if csat is not None:
        response.csat = csat
    if ces is not None:
        response.ces = ces
    if comment is not None:
        response.comment = comment.strip()[:5000]
    if response.csat is None and response.ces is None and not response.comment:
        raise DomainError("Choose a score.")
    response.submitted_via, response.updated_at, response.settled_at = via, now, None
    if via == SurveyResponse.Via.PERSON and (ces is not None or (comment or "").strip()):
        response.confirmed_at = now
    response.save()
    SurveyResponseChange.objects.create(
        response=response, csat=response.csat, ces=response.ces, comment=response.comment, via=via, at=now
    )
    response.flagged_automated = _is_burst(response, now)
    response.save(update_fields=["flagged_automated"])
    if invitation.status != Invitation.Status.ANSWERED:
        invitation.status = Invitation.Status.ANSWERED
        invitation.save(update_fields=["status"])
    poor = _is_poor(response, policy_for_queue(queue_id=invitation.queue_id)) and not response.flagged_automated
    ticket_rating_record(ticket_id=invitation.ticket_id, csat=response.csat, ces=response.ces, poor=poor)
    survey_answered_emit(invitation=invitation, response=response)  # every submission, in this transaction
    if response.confirmed_at == now and not response.flagged_automated:
        _settle(response=response, now=now)  # the person's own action: act now, don't wait
    return response


@transaction.atomic
def customer_opt_out(*, customer_id: int) -> Customer:
    """Stop surveys to this customer: scheduled invitations are suppressed, later closes are suppressed too."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    if customer.surveys_opted_out_at is None:
        customer.surveys_opted_out_at = timezone.now()
        customer.save(update_fields=["surveys_opted_out_at"])
        Invitation.objects.filter(customer=customer, status=Invitation.Status.SCHEDULED).update(
            status=Invitation.Status.SUPPRESSED, suppression_reason=Reason.OPTED_OUT
        )
    return customer


# --- settling and follow-ups ----------------------------------------------------------------------------------------


def _is_poor(response: SurveyResponse, policy: SurveyPolicy) -> bool:
    return (response.csat is not None and response.csat <= policy.poor_csat_max) or (
        response.ces is not None and response.ces <= policy.poor_ces_max
    )


def followup_owner_id(*, invitation: SurveyInvitation, policy: SurveyPolicy) -> int | None:
    """The snapshot agent (or the queue lead when the policy says so); no agent → the lead; no lead → unassigned."""
    lead_id = (
        QueueMembership.objects.filter(
            queue_id=invitation.queue_id, role=QueueMembership.Role.LEAD, user__is_active=True
        )
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )
    agent_active = invitation.agent is not None and invitation.agent.is_active
    if policy.followup_owner == SurveyPolicy.FollowUpOwner.AGENT and agent_active:
        return invitation.agent_id
    return lead_id or (invitation.agent_id if agent_active else None)


def _settle(*, response: SurveyResponse, now: datetime) -> FollowUp | None:
    """Act on the current answer: a poor one opens the invitation's single follow-up; a better one marks it improved."""
    response.settled_at = now
    response.save(update_fields=["settled_at"])
    if response.flagged_automated:
        return None
    invitation = Invitation.objects.select_related("agent", "queue__business_calendar").get(pk=response.invitation_id)
    policy = policy_for_queue(queue_id=invitation.queue_id)
    followup = FollowUp.objects.filter(invitation=invitation).first()
    poor = _is_poor(response, policy)
    if followup is None and poor:
        followup = FollowUp.objects.create(
            invitation=invitation,
            ticket_id=invitation.ticket_id,
            queue_id=invitation.queue_id,
            owner_id=followup_owner_id(invitation=invitation, policy=policy),
            due_at=add_business_seconds(
                now, policy.followup_due_business_hours * 3600, invitation.queue.business_calendar
            ),
            created_at=now,
        )
        FollowUpEvent.objects.create(followup=followup, kind=FollowUpEvent.Kind.OPENED, at=now)
        followup_created_emit(followup=followup, response=response)
        return followup
    if followup is not None:
        improved_at = None if poor else (followup.rating_improved_at or now)
        if improved_at != followup.rating_improved_at:
            followup.rating_improved_at = improved_at
            followup.save(update_fields=["rating_improved_at"])
    return followup


def responses_settle_due(*, now: datetime | None = None) -> int:
    """Beat: responses unchanged for their policy's settle time are acted on (once per change)."""
    now = now or timezone.now()
    shortest = SurveyPolicy.objects.aggregate(m=Min("settle_minutes"))["m"]
    candidates = SurveyResponse.objects.filter(
        settled_at__isnull=True,
        updated_at__lte=now - timedelta(minutes=shortest if shortest is not None else DEFAULT_SETTLE_MINUTES),
    )
    settled = 0
    for response_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            response = (
                SurveyResponse.objects.select_for_update(of=("self",)).select_related("invitation").get(pk=response_id)
            )
            policy = policy_for_queue(queue_id=response.invitation.queue_id)
            if response.settled_at is None and response.updated_at <= now - timedelta(minutes=policy.settle_minutes):
                _settle(response=response, now=now)
                settled += 1
    return settled
