"""Recovery follow-ups: the agent actions (contacted, resolved, unreachable, reassign) and the beat's reminder and
escalation. Every action locks the row, checks the permission selector, refuses invalid transitions without changing
anything, is idempotent on a double submit, and leaves a FollowUpEvent in the history."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.errors import DomainError
from common.links import absolute_url
from common.users import display_name
from outbox.services import email_enqueue
from tickets.models import QueueMembership, Ticket
from tickets.selectors import queue_leads

from ..models import FollowUp, FollowUpEvent, SurveyEmail
from ..selectors import OPEN_FOLLOWUP_STATUSES, followups_visible_to
from .resurveys import resurvey_schedule

Status = FollowUp.Status
NOTE_MAX = 5000


def _locked(*, followup_id: int, by: User) -> FollowUp:
    """The follow-up, row-locked; PermissionDenied when `by` may not see it."""
    followup = FollowUp.objects.select_for_update().get(pk=followup_id)
    if not followups_visible_to(by).filter(pk=followup_id).exists():
        raise PermissionDenied("You cannot act on this follow-up.")
    return followup


def _event(followup: FollowUp, *, by: User | None, kind: FollowUpEvent.Kind, note: str = "", at: datetime) -> None:
    FollowUpEvent.objects.create(followup=followup, actor=by, kind=kind, note=note, at=at)


def _clean_note(note: str, *, required: str) -> str:
    note = (note or "").strip()
    if not note:
        raise DomainError(required)
    return note[:NOTE_MAX]


def _ensure_open(followup: FollowUp) -> None:
    if followup.status not in OPEN_FOLLOWUP_STATUSES:
        raise DomainError(f"This follow-up is already {followup.get_status_display().lower()}.")


@transaction.atomic
def followup_mark_contacted(*, followup_id: int, by: User, note: str) -> FollowUp:
    """open → contacted, with a note of what was said. Already contacted: unchanged (a double submit)."""
    followup = _locked(followup_id=followup_id, by=by)
    if followup.status == Status.CONTACTED:
        return followup
    _ensure_open(followup)
    note = _clean_note(note, required="Add a note about the contact.")
    now = timezone.now()
    followup.status, followup.contacted_at, followup.note = Status.CONTACTED, now, note
    followup.save(update_fields=["status", "contacted_at", "note"])
    _event(followup, by=by, kind=FollowUpEvent.Kind.CONTACTED, note=note, at=now)
    return followup


@transaction.atomic
def followup_resolve(*, followup_id: int, by: User, outcome: str, root_cause: str) -> FollowUp:
    """open/contacted → resolved; an outcome note and a root-cause tag are required."""
    followup = _locked(followup_id=followup_id, by=by)
    if followup.status == Status.RESOLVED:
        return followup
    _ensure_open(followup)
    outcome = _clean_note(outcome, required="Describe the outcome.")
    if root_cause not in FollowUp.RootCause.values:
        raise DomainError("Choose a root cause.")
    now = timezone.now()
    followup.status, followup.closed_at = Status.RESOLVED, now
    followup.outcome, followup.root_cause = outcome, root_cause
    followup.save(update_fields=["status", "closed_at", "outcome", "root_cause"])
    label = FollowUp.RootCause(root_cause).label
    _event(followup, by=by, kind=FollowUpEvent.Kind.RESOLVED, note=f"{outcome}\nRoot cause: {label}", at=now)
    resurvey_schedule(followup=followup, now=now)
    return followup


@transaction.atomic
def followup_mark_unreachable(*, followup_id: int, by: User, note: str) -> FollowUp:
    """open/contacted → unreachable, with a note of how contact was attempted."""
    followup = _locked(followup_id=followup_id, by=by)
    if followup.status == Status.UNREACHABLE:
        return followup
    _ensure_open(followup)
    note = _clean_note(note, required="Add a note of how you tried to reach the customer.")
    now = timezone.now()
    followup.status, followup.closed_at, followup.note = Status.UNREACHABLE, now, note
    followup.save(update_fields=["status", "closed_at", "note"])
    _event(followup, by=by, kind=FollowUpEvent.Kind.UNREACHABLE, note=note, at=now)
    return followup


@transaction.atomic
def followup_reassign(*, followup_id: int, by: User, owner: User | None) -> FollowUp:
    """Give an open follow-up to another active member of its queue (None: unassigned, shown to the team)."""
    followup = _locked(followup_id=followup_id, by=by)
    new_owner_id = owner.pk if owner is not None else None
    if followup.owner_id == new_owner_id:
        return followup
    _ensure_open(followup)
    if owner is not None and not (
        owner.is_active and QueueMembership.objects.filter(queue_id=followup.queue_id, user_id=owner.pk).exists()
    ):
        raise DomainError("The new owner must be an active member of the follow-up's queue.")
    previous = User.objects.filter(pk=followup.owner_id).first() if followup.owner_id else None
    now = timezone.now()
    followup.owner = owner
    # A new owner gets their own reminder before the due time.
    followup.reminded_at = None
    followup.save(update_fields=["owner", "reminded_at"])
    _event(
        followup,
        by=by,
        kind=FollowUpEvent.Kind.REASSIGNED,
        note=f"From {display_name(previous, default='nobody')} to {display_name(owner, default='nobody')}",
        at=now,
    )
    return followup


# --- beat: reminder before due, escalation after -----------------------------------------------------------------


def _followup_email(*, followup: FollowUp, to: User, kind: SurveyEmail, template: str) -> None:
    context = {
        "followup": followup,
        "recipient": to,
        "owner": followup.owner,
        "url": absolute_url(reverse("surveys:followup-detail", args=[followup.pk])),
        "response": getattr(followup.invitation, "response", None),
        "nps": followup.nps_survey,
    }
    email_enqueue(
        kind=kind,
        to=to.email,
        subject=render_to_string(f"surveys/email/{template}_subject.txt", context).strip(),
        text=render_to_string(f"surveys/email/{template}.txt", context),
        related=followup,
    )


def remind_before() -> timedelta:
    return timedelta(minutes=settings.FOLLOWUP_REMIND_BEFORE_MINUTES)


@transaction.atomic
def followup_remind(*, followup_id: int, now: datetime) -> bool:
    """One reminder to the owner before the due time; reminded_at makes it never repeat."""
    followup = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("owner", "ticket", "customer", "queue", "invitation__response", "nps_survey")
        .get(pk=followup_id)
    )
    owner = followup.owner
    if (
        followup.status not in OPEN_FOLLOWUP_STATUSES
        or followup.reminded_at is not None
        or owner is None
        or not owner.is_active
        or not owner.email
        or followup.due_at <= now
        or followup.due_at > now + remind_before()
    ):
        return False
    followup.reminded_at = now
    followup.save(update_fields=["reminded_at"])
    _followup_email(followup=followup, to=owner, kind=SurveyEmail.FOLLOWUP_REMINDER, template="followup_reminder")
    _event(
        followup,
        by=None,
        kind=FollowUpEvent.Kind.REMINDED,
        note=f"Reminder sent to {display_name(owner, default='nobody')}",
        at=now,
    )
    return True


@transaction.atomic
def followup_escalate(*, followup_id: int, now: datetime) -> bool:
    """Once overdue: email the queue lead(s) and record escalated_at (never repeated)."""
    followup = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("owner", "ticket", "customer", "queue", "invitation__response", "nps_survey")
        .get(pk=followup_id)
    )
    if followup.status not in OPEN_FOLLOWUP_STATUSES or followup.escalated_at is not None or followup.due_at > now:
        return False
    leads = queue_leads(queue_ids=[followup.queue_id]).get(followup.queue_id, [])
    followup.escalated_at = now
    followup.save(update_fields=["escalated_at"])
    for lead in leads:
        _followup_email(
            followup=followup, to=lead, kind=SurveyEmail.FOLLOWUP_ESCALATION, template="followup_escalation"
        )
    who = ", ".join(display_name(lead) for lead in leads) or "no lead (the queue has none)"
    _event(followup, by=None, kind=FollowUpEvent.Kind.ESCALATED, note=f"Escalated to {who}", at=now)
    return True


def followups_remind_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = FollowUp.objects.filter(
        status__in=OPEN_FOLLOWUP_STATUSES,
        reminded_at__isnull=True,
        owner__isnull=False,
        due_at__gt=now,
        due_at__lte=now + remind_before(),
    )
    return sum(followup_remind(followup_id=pk, now=now) for pk in due.values_list("pk", flat=True))


def followups_escalate_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = FollowUp.objects.filter(status__in=OPEN_FOLLOWUP_STATUSES, escalated_at__isnull=True, due_at__lte=now)
    return sum(followup_escalate(followup_id=pk, now=now) for pk in due.values_list("pk", flat=True))


def followups_queue_follow(*, ticket: Ticket) -> None:
    """The ticket moved to another queue (tickets' ticket_moved, in its transaction): its follow-ups follow, so the
    new queue's leads see them and the old queue's no longer do. One UPDATE."""
    FollowUp.objects.filter(ticket_id=ticket.pk).exclude(queue_id=ticket.queue_id).update(queue_id=ticket.queue_id)
