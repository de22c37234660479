"""Survey demo data for `manage.py seed_demo`: invitations, responses, comments and recovery follow-ups for the demo
tickets closed as solved, so My feedback, the follow-up lists and the team dashboard have something to show.

Written with bulk_create; nothing is emailed. Idempotent: a ticket that already
has an invitation is skipped, so a second run adds nothing and a run after `--tickets N` only covers the new tickets.
Each ticket's survey comes from its own random stream (seed, ticket id).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q

from surveys.models import (
    FollowUp,
    FollowUpEvent,
    SurveyInvitation,
    SurveyPolicy,
    SurveyResponse,
    SurveyResponseChange,
    TicketRating,
)
from surveys.rules import answer_is_poor, invitation_answer_copy, ticket_rating_copy
from tickets.calendar import add_business_seconds
from tickets.models import CloseReason, Status, Ticket

from .desk import Desk, demo_tickets
from .resurveys import resurveys_create

SENT_SHARE = 0.88  # the rest were suppressed (throttled: the customer had a survey recently)
RESPONSE_SHARE = 0.6
MIN_RESPONSES_PER_AGENT = 10  # so every demo agent's My feedback shows figures
DELAY = timedelta(hours=1)

# CSAT weights for 1..5 by agent "profile"; CES follows CSAT with some noise.
PROFILES = {
    "strong": (2, 3, 7, 30, 58),
    "steady": (4, 6, 12, 36, 42),
    "struggling": (10, 12, 18, 32, 28),
}
AGENT_PROFILES = {
    "sophie.wagner": "strong",
    "liam.fischer": "struggling",
    "priya.nair": "steady",
    "jonas.becker": "steady",
    "carla.mendes": "strong",
    "tom.eriksen": "struggling",
}
PRAISE = (
    "Quick and friendly, thank you!",
    "Solved on the first reply. Great service.",
    "Very clear explanation, I learned something.",
    "Thanks for following up so fast.",
    "Exactly what I needed.",
    "Helpful and patient — much appreciated.",
)
NEUTRAL = (
    "It works now, but it took a while.",
    "OK in the end, though I had to explain it twice.",
    "Fine, but the documentation could say this.",
)
COMPLAINTS = (
    "Took three days to get a real answer.",
    "The first reply didn't read my question at all.",
    "I had to chase you twice. Not good enough.",
    "Problem is still not really fixed, just worked around.",
    "The refund took far too long.",
    "I was sent a help-centre link that didn't apply to my case.",
)
OUTCOMES = (
    "Called the customer, apologised and explained the fix; they are happy now.",
    "Offered a month's credit for the delay; accepted.",
    "Walked them through the settings on a call; the issue is really solved now.",
    "Escalated the underlying bug to engineering and told the customer when the fix ships.",
)
CONTACT_NOTES = (
    "Left a voicemail and sent an email; customer replied they will call back tomorrow.",
    "Spoke briefly, they want a written summary first. Sent it.",
)
UNREACHABLE_NOTES = ("Two calls and two emails over three days, no answer.",)


@dataclass(frozen=True)
class SurveysWritten:
    invitations: int
    responses: int
    followups: int


def _scores(rng: random.Random, profile: str) -> tuple[int | None, int | None]:
    csat = rng.choices(range(1, 6), weights=PROFILES[profile])[0]
    ces = max(1, min(7, round(csat * 1.4 + rng.gauss(0, 0.9))))
    if rng.random() < 0.08:  # some answer only one question
        return (csat, None) if rng.random() < 0.6 else (None, ces)
    return csat, ces


def _comment(rng: random.Random, csat: int | None, ces: int | None) -> str:
    if rng.random() > 0.4:
        return ""
    score = csat if csat is not None else round((ces or 4) * 5 / 7)
    return rng.choice(COMPLAINTS if score <= 2 else NEUTRAL if score == 3 else PRAISE)


def demo_policy_ensure() -> SurveyPolicy:
    """The default survey policy, created for the demo with a 1-minute delay and no throttle, so a person trying
    `make run` who closes a ticket sees the survey in /dev/mail/ a minute later. An existing policy is left alone."""
    policy, _ = SurveyPolicy.objects.get_or_create(queue=None, defaults={"delay_minutes": 1, "throttle_days": 0})
    return policy


def surveys_create(desk: Desk, *, seed: int, now: datetime, policy: SurveyPolicy) -> SurveysWritten:
    """Invitations for the solved demo tickets without one, their responses and the follow-ups of poor ones, by the
    rules of surveys.rules under `policy` (the demo queues' policy): the same poor threshold and answer copies as
    real answers get."""
    calendars = {dq.queue.pk: dq.calendar for dq in desk.queues}
    tickets = list(
        demo_tickets(desk)
        .filter(status=Status.CLOSED, close_reason=CloseReason.SOLVED, assignee__isnull=False)
        .filter(~Exists(SurveyInvitation.objects.filter(ticket_id=OuterRef("pk"))))
        .select_related("assignee")
        .order_by("closed_at", "pk")
    )
    already = dict(
        SurveyInvitation.objects.filter(ticket__in=demo_tickets(desk), response__isnull=False)
        .values_list("agent_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    plans = [_plan(ticket, seed=seed, now=now, expiry=timedelta(days=policy.expiry_days)) for ticket in tickets]
    _ensure_minimum(plans, already)

    invitations = [plan.invitation for plan in plans]
    responses: list[SurveyResponse] = []
    changes: list[tuple] = []
    followups: list[tuple[FollowUp, list[dict]]] = []
    events: list[FollowUpEvent] = []
    outcomes = itertools.cycle(OVERDUE_OUTCOMES)
    for plan in plans:  # the copy of the answer that surveys.services.answers.answer_copies_write would write
        if plan.answer is not None:
            _, csat, ces, comment = plan.answer
            for name, value in invitation_answer_copy(csat=csat, ces=ces, comment=comment, flagged=False).items():
                setattr(plan.invitation, name, value)
    with transaction.atomic():
        SurveyInvitation.objects.bulk_create(invitations, batch_size=1000)
        for plan in plans:
            if plan.answer is None:
                continue
            rng, csat, ces, comment = plan.answer
            answered_at = (plan.invitation.sent_at or now) + timedelta(hours=rng.uniform(0.2, 72))
            answered_at = min(answered_at, now - timedelta(minutes=30))
            response = SurveyResponse(
                invitation=plan.invitation,
                csat=csat,
                ces=ces,
                comment=comment,
                submitted_via=SurveyResponse.Via.PERSON,
                answered_at=answered_at,
                updated_at=answered_at,
                confirmed_at=answered_at if (ces is not None or comment) else None,
                settled_at=answered_at + timedelta(minutes=10),
            )
            responses.append(response)
            changes.append((response, csat, ces, comment, answered_at))
            if answer_is_poor(csat=csat, ces=ces, policy=policy):
                followups.append(
                    _followup(
                        plan,
                        rng=rng,
                        at=answered_at,
                        now=now,
                        due_hours=policy.followup_due_business_hours,
                        calendars=calendars,
                        outcomes=outcomes,
                    )
                )
        SurveyResponse.objects.bulk_create(responses, batch_size=1000)
        SurveyResponseChange.objects.bulk_create(
            [
                SurveyResponseChange(response=r, csat=c, ces=e, comment=t, via=SurveyResponse.Via.PERSON, at=at)
                for r, c, e, t, at in changes
            ],
            batch_size=1000,
        )
        FollowUp.objects.bulk_create([f for f, _ in followups], batch_size=1000)
        resurveys_create([f for f, _ in followups], seed=seed, now=now)
        for followup, history in followups:
            events += [FollowUpEvent(followup=followup, **event) for event in history]
        FollowUpEvent.objects.bulk_create(events, batch_size=1000)
        TicketRating.objects.bulk_create(
            [
                TicketRating(
                    ticket_id=r.invitation.ticket_id,
                    queue_id=r.invitation.ticket.queue_id,
                    rated_at=r.updated_at,
                    **ticket_rating_copy(csat=r.csat, ces=r.ces, flagged=False, policy=policy),
                )
                for r in responses
            ],
            batch_size=1000,
        )
    return SurveysWritten(invitations=len(invitations), responses=len(responses), followups=len(followups))


@dataclass
class _Plan:
    ticket: Ticket
    invitation: SurveyInvitation
    answer: tuple[random.Random, int | None, int | None, str] | None = None
    spare: tuple[random.Random, int | None, int | None, str] | None = None  # used to reach the per-agent minimum

    def promote(self) -> None:
        self.answer, self.spare = self.spare, None
        self.invitation.status = SurveyInvitation.Status.ANSWERED


def _plan(ticket: Ticket, *, seed: int, now: datetime, expiry: timedelta) -> _Plan:
    rng = random.Random(f"{seed}:survey:{ticket.pk}")  # noqa: S311 - demo data
    assert ticket.closed_at is not None  # noqa: S101 - closed tickets have it (a check constraint)
    send_after = ticket.closed_at + DELAY
    invitation = SurveyInvitation(
        ticket=ticket,
        round=1 + ticket.reopen_count,
        customer_id=ticket.customer_id,
        agent_id=ticket.assignee_id,
        queue_id=ticket.queue_id,
        closed_at=ticket.closed_at,
        send_after=send_after,
        created_at=ticket.closed_at,
        status=SurveyInvitation.Status.SCHEDULED,
    )
    if send_after > now:
        return _Plan(ticket, invitation)
    if rng.random() > SENT_SHARE:
        invitation.status = SurveyInvitation.Status.SUPPRESSED
        invitation.suppression_reason = SurveyInvitation.SuppressionReason.THROTTLED
        return _Plan(ticket, invitation)
    invitation.sent_at, invitation.expires_at = send_after, send_after + expiry
    invitation.status = (
        SurveyInvitation.Status.EXPIRED if invitation.expires_at <= now else SurveyInvitation.Status.SENT
    )
    if send_after > now - timedelta(hours=1):  # just emailed: no answer yet
        return _Plan(ticket, invitation)
    profile = AGENT_PROFILES.get(ticket.assignee.username if ticket.assignee else "", "steady")
    csat, ces = _scores(rng, profile)
    answer = (rng, csat, ces, _comment(rng, csat, ces))
    plan = _Plan(ticket, invitation, spare=answer)
    if rng.random() < RESPONSE_SHARE:
        plan.promote()
    return plan


def _ensure_minimum(plans: list[_Plan], already: dict[int, int]) -> None:
    """Answer more of an agent's surveys (the most recent first) until they have MIN_RESPONSES_PER_AGENT."""
    counts = dict(already)
    for plan in plans:
        if plan.answer is not None and plan.invitation.agent_id is not None:
            counts[plan.invitation.agent_id] = counts.get(plan.invitation.agent_id, 0) + 1
    for plan in reversed(plans):
        agent_id = plan.invitation.agent_id
        if plan.spare is not None and agent_id is not None and counts.get(agent_id, 0) < MIN_RESPONSES_PER_AGENT:
            plan.promote()
            counts[agent_id] = counts.get(agent_id, 0) + 1


# What became of the overdue demo follow-ups, in turn: every status shows up once there are four of them, whatever
# the day the demo is seeded on.
OVERDUE_OUTCOMES = ("resolved", "contacted", "unreachable", "open", "resolved", "resolved", "contacted", "unreachable")


def _followup(
    plan: _Plan,
    *,
    rng: random.Random,
    at: datetime,
    now: datetime,
    due_hours: int,
    calendars: dict,
    outcomes: Iterator[str],
) -> tuple[FollowUp, list[dict]]:
    """A follow-up opened when the poor answer settled, in a status that fits its age (some left overdue)."""
    opened = at + timedelta(minutes=10)
    due = add_business_seconds(opened, due_hours * 3600, calendars.get(plan.ticket.queue_id))
    owner_id = plan.invitation.agent_id
    followup = FollowUp(
        invitation=plan.invitation,
        ticket=plan.ticket,
        customer_id=plan.invitation.customer_id,
        queue_id=plan.ticket.queue_id,
        owner_id=owner_id,
        due_at=due,
        created_at=opened,
    )
    history: list[dict] = [{"kind": FollowUpEvent.Kind.OPENED, "at": opened}]
    if due - timedelta(hours=2) < now:
        reminded = max(opened, due - timedelta(hours=2))
        followup.reminded_at = reminded
        history.append({"kind": FollowUpEvent.Kind.REMINDED, "at": reminded, "note": "Reminder sent to the owner"})
    if due >= now:
        return followup, history  # not due yet: open
    handled = opened + (due - opened) * rng.uniform(0.2, 0.9)
    outcome = next(outcomes)
    if outcome == "resolved":
        if rng.random() < 0.5:
            followup.contacted_at = handled
            history.append(_contacted(rng, owner_id, handled))
        closed = handled + timedelta(minutes=rng.randint(5, 240))
        followup.status, followup.closed_at = FollowUp.Status.RESOLVED, min(closed, due)
        followup.outcome = rng.choice(OUTCOMES)
        followup.root_cause = rng.choice(FollowUp.RootCause.values)
        label = FollowUp.RootCause(followup.root_cause).label
        history.append(
            {
                "kind": FollowUpEvent.Kind.RESOLVED,
                "actor_id": owner_id,
                "at": followup.closed_at,
                "note": f"{followup.outcome}\nRoot cause: {label}",
            }
        )
    elif outcome == "unreachable":
        followup.status, followup.closed_at = FollowUp.Status.UNREACHABLE, handled
        followup.note = rng.choice(UNREACHABLE_NOTES)
        history.append(
            {"kind": FollowUpEvent.Kind.UNREACHABLE, "actor_id": owner_id, "at": handled, "note": followup.note}
        )
    else:  # still open or contacted, overdue: escalated once to the lead
        if outcome == "contacted":
            followup.status, followup.contacted_at = FollowUp.Status.CONTACTED, handled
            followup.note = rng.choice(CONTACT_NOTES)
            history.append(_contacted(rng, owner_id, handled, note=followup.note))
        followup.escalated_at = due + timedelta(minutes=5)
        history.append(
            {"kind": FollowUpEvent.Kind.ESCALATED, "at": followup.escalated_at, "note": "Escalated to the queue lead"}
        )
    history.sort(key=lambda event: event["at"])
    return followup, history


def _contacted(rng: random.Random, owner_id: int | None, at: datetime, note: str = "") -> dict:
    return {
        "kind": FollowUpEvent.Kind.CONTACTED,
        "actor_id": owner_id,
        "at": at,
        "note": note or rng.choice(CONTACT_NOTES),
    }


def demo_surveys_summary(desk: Desk) -> dict[str, int]:
    invitations = SurveyInvitation.objects.filter(ticket__in=demo_tickets(desk))
    return invitations.aggregate(
        invitations=Count("pk"),
        emailed=Count("pk", filter=Q(sent_at__isnull=False)),
        responses=Count("response"),
        followups=Count("followup"),
        followups_open=Count("followup", filter=Q(followup__status__in=["open", "contacted"])),
    )
