"""The SLA states the agent pages show are enums, not strings to compare: a due time's DueState and a target's
TargetState (their values are the CSS classes the templates write)."""

from datetime import UTC, datetime, timedelta

import pytest

from tickets.models import SlaTarget
from tickets.views.sla import DueState, TargetState, sla_due, sla_target_rows

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "state"), [(-1, DueState.BREACHED), (59 * 60, DueState.SOON), (3600, DueState.OK)])
def test_a_due_time_has_a_due_state(seconds, state):
    due = sla_due(NOW + timedelta(seconds=seconds), now=NOW)

    assert due is not None and due.state is state
    assert due.breached is (state is DueState.BREACHED)


def target(**fields) -> SlaTarget:
    return SlaTarget(kind=SlaTarget.Kind.FIRST_REPLY, target_seconds=600, business_hours=False, **fields)


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"due_at": NOW + timedelta(minutes=5)}, TargetState.RUNNING),
        ({"due_at": NOW - timedelta(minutes=5)}, TargetState.BREACHED),
        ({"due_at": None}, TargetState.PAUSED),
        ({"result": SlaTarget.Result.MET, "elapsed_seconds": 300}, TargetState.MET),
        ({"result": SlaTarget.Result.BREACHED, "elapsed_seconds": 900}, TargetState.BREACHED),
        ({"result": SlaTarget.Result.EXCLUDED, "elapsed_seconds": 60}, TargetState.EXCLUDED),
    ],
)
def test_a_target_has_a_target_state_and_the_exact_elapsed_time_once_stopped(fields, state):
    [row] = sla_target_rows([target(**fields)], now=NOW)

    assert row.state is state
    assert row.measure.startswith("10 min target") is (row.due is not None)  # running: its due time instead
