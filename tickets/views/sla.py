"""How the agent pages word SLA due times and targets: "due in 35 min", "breached 2 h ago". Computed in the views
(once per row or target), from what was read with the ticket; never in a template."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.utils import timezone

from common.clock import duration_text

from ..models import SlaTarget
from ..saved_views import SLA_SOON


class DueState(StrEnum):
    """How near a running target's due time is (the CSS class sla-<state>; the words say it too, so it never rests
    on colour alone)."""

    BREACHED = "breached"  # past
    SOON = "soon"  # within SLA_SOON
    OK = "ok"


class TargetState(StrEnum):
    """A target of the ticket page's SLA card (the CSS classes sla-state-<state>, sla-result-<state>)."""

    RUNNING = "running"
    PAUSED = "paused"
    BREACHED = "breached"  # running past its due time, or settled as breached
    MET = "met"
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class SlaDue:
    """A due time in words, and its state."""

    text: str
    state: DueState
    iso: str
    title: str

    @property
    def breached(self) -> bool:
        return self.state is DueState.BREACHED


def coarse_duration_text(seconds: float, *, round_up: bool = False) -> str:
    """A due time's distance at a glance: whole minutes below an hour (at least 1), whole hours below two days, then
    whole days ("35 min", "3 h", "2 d"). A time left is rounded up (50 s left is "1 min", not "0 min"), a time past
    down ("breached 1 min ago" at 1:50)."""
    minutes = max(1, math.ceil(seconds / 60) if round_up else math.floor(seconds / 60))
    unit = 1 if minutes < 60 else 60 if minutes < 48 * 60 else 24 * 60
    return duration_text(minutes // unit * unit * 60)


def sla_due(due_at: datetime | None, *, now: datetime) -> SlaDue | None:
    if due_at is None:
        return None
    local = timezone.localtime(due_at)
    iso, title = local.isoformat(), f"Due {local:%Y-%m-%d %H:%M}"
    left = (due_at - now).total_seconds()
    if left < 0:
        text = f"breached {coarse_duration_text(-left)} ago"
        return SlaDue(text=text, state=DueState.BREACHED, iso=iso, title=title)
    state = DueState.SOON if left < SLA_SOON.total_seconds() else DueState.OK
    return SlaDue(text=f"due in {coarse_duration_text(left, round_up=True)}", state=state, iso=iso, title=title)


@dataclass(frozen=True)
class SlaTargetRow:
    """One target of the ticket page's SLA card."""

    kind: str
    state: TargetState
    text: str  # the state in words: "due in 35 min", "breached 2 h ago", "Paused", "Met", ...
    measure: str  # "10 min target (calendar hours)"; "12 min of a 10 min target (business hours)" once it stopped
    due: SlaDue | None


def sla_target_rows(targets: list[SlaTarget], *, now: datetime) -> list[SlaTargetRow]:
    """The stored elapsed time is as of the clock's last change: shown for stopped and paused clocks (exact), while
    a running clock shows its due time instead."""
    rows = []
    for target in targets:
        due = sla_due(target.due_at, now=now) if not target.result else None
        if target.result:
            state, text = TargetState(target.result), str(target.get_result_display())
        elif due is None:
            state, text = TargetState.PAUSED, "Paused"
        else:
            state, text = (TargetState.BREACHED if due.breached else TargetState.RUNNING), due.text
        hours = "business hours" if target.business_hours else "calendar hours"
        goal = f"{duration_text(target.target_seconds)} target ({hours})"
        if due is None:  # settled or paused: the elapsed time is exact
            goal = f"{duration_text(target.elapsed_seconds)} of a {goal}"
        rows.append(SlaTargetRow(kind=str(target.get_kind_display()), state=state, text=text, measure=goal, due=due))
    return rows
