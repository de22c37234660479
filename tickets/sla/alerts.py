"""The SLA beat: a warning when a running target passes its warning share, a breach when it passes its due time, each
recorded once per target as a ticket event and notified through the outbox (README "SLA policies").

Exactly once, whatever happens to the task: each alert is claimed with a conditional UPDATE of its target (warned_at
or breached_at still empty, the target still running and still past that time), and the claim, the event and the
emails are written in one transaction. A duplicate delivery or a second beat finds the claim taken (or waits for the
first transaction's row lock, then finds it taken) and skips; a worker killed between the event and the emails leaves
nothing, so the next sweep does it all. A target that changed under the sweep (settled, paused, re-derived to a later
due time) no longer matches the claim and gets no alert.

Who gets mail: a warning goes to the assignee, or to the queue's leads when the ticket is unassigned; a breach goes
to the assignee (if any) and the leads. A breach also counts as the warning (no warning after it).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.clock import duration_text
from common.links import absolute_url
from outbox.models import OutgoingEmail
from outbox.services import email_build, email_enqueue_many

from ..email_kinds import TicketEmail
from ..models import SlaTarget, TicketEvent
from ..selectors import queue_leads

CHUNK = 100  # targets per transaction: each transaction stays short


@dataclass(frozen=True)
class Alert:
    """A warning or a breach: the target field it claims, the instant that must have passed, its event and email."""

    claimed: str  # SlaTarget field set once
    passed: str  # SlaTarget field that must be <= now
    event_kind: TicketEvent.Kind
    email_kind: TicketEmail
    to_leads_too: bool  # leads are told even when the ticket has an assignee


BREACH = Alert(
    claimed="breached_at",
    passed="due_at",
    event_kind=TicketEvent.Kind.SLA_BREACH,
    email_kind=TicketEmail.SLA_BREACH,
    to_leads_too=True,
)
WARNING = Alert(
    claimed="warned_at",
    passed="warn_at",
    event_kind=TicketEvent.Kind.SLA_WARNING,
    email_kind=TicketEmail.SLA_WARNING,
    to_leads_too=False,
)


def _due(alert: Alert, now: datetime) -> Q:
    """The targets this alert is due for: running and not paused (a paused clock has no due time, though it may keep
    a warning time it passed before the pause), past the instant, not yet claimed (a breach counts as warned)."""
    unclaimed = Q(warned_at=None, breached_at=None) if alert is WARNING else Q(breached_at=None)
    return Q(result=SlaTarget.Result.OPEN, due_at__isnull=False, **{f"{alert.passed}__lte": now}) & unclaimed


def _claim(alert: Alert, *, target_id: int, now: datetime) -> bool:
    """The conditional UPDATE: True for the one transaction that records this alert."""
    changes: dict[str, object] = {alert.claimed: now}
    if alert is BREACH:
        changes["warned_at"] = Coalesce(F("warned_at"), now)
    return SlaTarget.objects.filter(_due(alert, now), pk=target_id).update(**changes) == 1


def _recipients(alert: Alert, target: SlaTarget, leads: list[User]) -> list[tuple[User, str]]:
    """(user, why they get it), each user once: the assignee, and the leads when unassigned or for a breach."""
    assignee = target.ticket.assignee
    chosen: list[tuple[User, str]] = []
    if assignee is not None and assignee.is_active and assignee.email:
        chosen.append((assignee, "as the ticket's assignee"))
    if assignee is None or alert.to_leads_too:
        chosen += [(lead, f"as a lead of {target.ticket.queue.name}") for lead in leads]
    once: dict[int, tuple[User, str]] = {}
    for user, why in chosen:
        once.setdefault(user.pk, (user, why))
    return list(once.values())


def _local(target: SlaTarget, at: datetime) -> tuple[datetime, str]:
    """`at` in the time zone of the queue's calendar (the desk's otherwise), with that zone's name."""
    calendar = target.ticket.queue.business_calendar
    name = calendar.timezone if calendar is not None else settings.TIME_ZONE
    return timezone.localtime(at, zoneinfo.ZoneInfo(name)), name


def _emails(alert: Alert, target: SlaTarget, *, leads: list[User], now: datetime) -> list[OutgoingEmail]:
    assert target.due_at is not None  # noqa: S101 - claimed: past its due (or warning) time, so it has one
    ticket = target.ticket
    due_local, zone = _local(target, target.due_at)
    context = {
        "breach": alert is BREACH,
        "ticket": ticket,
        "target": target.get_kind_display().lower(),
        "due_at": due_local,
        "zone": zone,
        "how_long": duration_text(abs((target.due_at - now).total_seconds())),
        "late": target.due_at <= now,
        "url": absolute_url(reverse("tickets:detail", args=[ticket.pk])),
    }
    emails = []
    for user, why in _recipients(alert, target, leads):
        personal = {**context, "recipient": user, "why": why}
        emails.append(
            email_build(
                kind=alert.email_kind,
                to=user.email,
                subject=render_to_string("tickets/email/sla_alert_subject.txt", personal).strip(),
                text=render_to_string("tickets/email/sla_alert.txt", personal),
                related=ticket,
            )
        )
    return emails


def _chunk(alert: Alert, *, now: datetime, after: int) -> QuerySet[SlaTarget]:
    return (
        SlaTarget.objects.filter(_due(alert, now), pk__gt=after)
        .select_related("ticket__queue__business_calendar", "ticket__assignee")
        .order_by("pk")[:CHUNK]
    )


@transaction.atomic
def _record(alert: Alert, targets: Iterable[SlaTarget], *, now: datetime) -> int:
    """Claim, record and notify each target of one chunk, in one transaction."""
    targets = list(targets)
    leads = queue_leads(queue_ids={target.ticket.queue_id for target in targets})
    recorded = 0
    for target in targets:
        if not _claim(alert, target_id=target.pk, now=now):
            continue  # claimed by another sweep, or changed under this one
        TicketEvent.objects.create(
            ticket=target.ticket,
            kind=alert.event_kind,
            old_value=target.due_at.isoformat() if target.due_at else "",  # the due time it is recorded against
            new_value=target.kind,
            at=now,
        )
        email_enqueue_many(_emails(alert, target, leads=leads.get(target.ticket.queue_id, []), now=now))
        recorded += 1
    return recorded


def sla_alerts_sweep(*, now: datetime | None = None) -> int:
    """Record and notify every due breach, then every due warning (a breach first: no warning after it), a chunk of
    targets per transaction. Returns how many alerts this sweep recorded."""
    now = now or timezone.now()
    recorded = 0
    for alert in (BREACH, WARNING):
        after = 0
        while chunk := list(_chunk(alert, now=now, after=after)):
            recorded += _record(alert, chunk, now=now)
            after = chunk[-1].pk
    return recorded
