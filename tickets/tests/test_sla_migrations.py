"""The SLA data migrations, run on rows written in the old shape."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("tickets", "0013_event_kind_from_registry")]
AFTER = [("tickets", "0015_slatarget_pause_while_waiting")]
SETTLED = datetime(2026, 6, 2, 12, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_recorded_breaches_excluded_by_a_close_become_breaches_and_targets_take_their_policys_pause_switch():
    apps = migrate(BEFORE)
    Queue, Customer, Ticket = (apps.get_model("tickets", name) for name in ("Queue", "Customer", "Ticket"))
    SlaPolicy, SlaTarget = apps.get_model("tickets", "SlaPolicy"), apps.get_model("tickets", "SlaTarget")
    SlaDailyCount = apps.get_model("tickets", "SlaDailyCount")
    queue = Queue.objects.create(name="Support", slug="support", reply_from_email="support@example.com")
    customer = Customer.objects.create(email="ada@example.com")
    SlaPolicy.objects.create(queue=queue, priority="low", next_reply_minutes=30, pause_while_waiting=False)

    def target(close_reason, *, elapsed, priority="normal"):
        ticket = Ticket.objects.create(
            queue=queue,
            customer=customer,
            subject="S",
            status="closed",
            close_reason=close_reason,
            closed_at=SETTLED,
        )
        return SlaTarget.objects.create(
            ticket=ticket, kind="next_reply", started_at=SETTLED, target_seconds=1800, business_hours=False,
            warn_at_percent=80, priority=priority, queue=queue, elapsed_seconds=elapsed, result="excluded",
            settled_at=SETTLED,
        )  # fmt: skip

    overdue = target("solved", elapsed=2700, priority="low")
    short = target("solved", elapsed=600)
    spam = target("spam", elapsed=2700)

    try:
        SlaTarget = migrate(AFTER).get_model("tickets", "SlaTarget")
        # the overdue reply stays breached; short of its target, or closed as spam, it stays excluded
        assert dict(SlaTarget.objects.values_list("pk", "result")) == {
            overdue.pk: "breached", short.pk: "excluded", spam.pk: "excluded",
        }  # fmt: skip
        count = SlaDailyCount.objects.get()
        assert (count.day, count.queue_id, count.agent_key, count.kind) == (date(2026, 6, 2), queue.pk, 0, "next_reply")
        assert (count.met, count.breached) == (0, 1)
        # the low-priority target takes its policy's switch (off); the others, without a policy, the default
        assert dict(SlaTarget.objects.values_list("pk", "pause_while_waiting")) == {
            overdue.pk: False, short.pk: True, spam.pk: True,
        }  # fmt: skip
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
