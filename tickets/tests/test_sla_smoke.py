from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tickets import services
from tickets.models import CloseReason, Message, Priority, SlaPolicy, SlaTarget

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0)


def test_clocks_start_settle_and_follow_a_priority_change(queue, agent, customer):
    traveller = time_machine.travel(START, tick=False)  # the policies exist before the ticket's clocks start
    traveller.start()
    SlaPolicy.objects.create(
        queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, next_reply_minutes=30,
        resolution_minutes=480, business_hours=False,
    )  # fmt: skip
    SlaPolicy.objects.create(
        queue=queue, priority=Priority.URGENT, first_reply_minutes=10, resolution_minutes=60, business_hours=False
    )
    traveller.stop()
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        ticket = services.ticket_create(queue=queue, customer=customer, subject="S", body="B", by=None)
    targets = {t.kind: t for t in ticket.sla_targets.all()}
    assert set(targets) == {"first_reply", "resolution"}
    assert targets["first_reply"].due_at == ticket.created_at + timedelta(minutes=60)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ticket.created_at + timedelta(minutes=60)

    with time_machine.travel(START + timedelta(minutes=30), tick=False):
        services.ticket_set_priority(ticket_id=ticket.pk, priority=Priority.URGENT, by=agent)
    first = ticket.sla_targets.get(kind="first_reply")
    assert first.due_at == ticket.created_at + timedelta(minutes=10)  # re-derived from its start: breached at once
    with time_machine.travel(START + timedelta(minutes=40), tick=False):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Hi", by=agent)
    first.refresh_from_db()
    assert first.result == SlaTarget.Result.BREACHED and first.agent == agent  # the reply assigned it to them
    with time_machine.travel(START + timedelta(minutes=50), tick=False):
        services.ticket_close(ticket_id=ticket.pk, reason=CloseReason.SPAM, by=agent)
    assert set(ticket.sla_targets.values_list("result", flat=True)) == {"excluded"}
