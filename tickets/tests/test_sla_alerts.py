"""The SLA beat (tickets.sla.alerts): each warning and breach recorded once, as a ticket event and emails to the right
people, whatever happens to the task (run twice, run at once, a worker killed between the event and the emails)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from conftest import run_at_once, start_worker, stop_worker, wait_until
from outbox.kinds import email_kinds
from outbox.models import OutgoingEmail
from tickets import services
from tickets.models import Message, Priority, QueueMembership, SlaPolicy, SlaTarget, Status, Ticket, TicketEvent
from tickets.sla.alerts import sla_alerts_sweep
from tickets.tasks import sweep_sla_alerts
from tickets.tests.factories import CustomerFactory, MembershipFactory, QueueFactory

T0 = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)  # a Monday morning


def _policy(queue, *, minutes: int = 60, **fields) -> SlaPolicy:
    """A first-reply target in calendar hours, from before T0."""
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        return SlaPolicy.objects.create(
            queue=queue, priority=Priority.NORMAL, first_reply_minutes=minutes, business_hours=False, **fields
        )


def _ticket(queue, *, assignee=None):
    with time_machine.travel(T0, tick=False):
        return services.ticket_create(
            queue=queue, customer=CustomerFactory(), subject="Printer on fire", body="Help", by=None, assignee=assignee
        )


def _alerts(ticket):
    return list(
        ticket.events.filter(kind__in=[TicketEvent.Kind.SLA_WARNING, TicketEvent.Kind.SLA_BREACH]).values_list(
            "kind", "new_value"
        )
    )


def _mail(kind):
    return sorted(OutgoingEmail.objects.filter(kind=kind).values_list("to_email", flat=True))


@pytest.mark.django_db
def test_the_warning_then_the_breach_are_recorded_and_mailed_once_each(queue, agent, lead):
    _policy(queue)
    ticket = _ticket(queue, assignee=agent)

    assert sla_alerts_sweep(now=T0 + timedelta(minutes=47)) == 0  # 80% of 60 min: 48 min
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=48)) == 1
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=50)) == 0
    assert _alerts(ticket) == [("sla_warning", "first_reply")]
    assert _mail("sla_warning") == [agent.email]  # assigned: the assignee only

    assert sla_alerts_sweep(now=T0 + timedelta(minutes=62)) == 1
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=70)) == 0
    assert _alerts(ticket) == [("sla_warning", "first_reply"), ("sla_breach", "first_reply")]
    assert _mail("sla_breach") == sorted([agent.email, lead.email])  # a breach: the assignee and the leads
    assert _mail("sla_warning") == [agent.email]

    breach = ticket.events.get(kind=TicketEvent.Kind.SLA_BREACH)
    target = ticket.sla_targets.get(kind="first_reply")
    assert breach.old_value == target.due_at.isoformat() and breach.at == T0 + timedelta(minutes=62)
    assert breach.actor is None
    assert (target.warned_at, target.breached_at) == (T0 + timedelta(minutes=48), T0 + timedelta(minutes=62))
    email = OutgoingEmail.objects.get(kind="sla_breach", to_email=lead.email)
    assert email.subject == f"SLA breached: first reply overdue by 2 min — [{ticket.reference}] Printer on fire"
    assert f"{settings.SITE_URL}/tickets/{ticket.pk}/" in email.body_text
    assert "was due Monday 4 March, 11:00 (UTC), 2 min ago" in email.body_text
    assert f"as a lead of {queue.name}" in email.body_text


@pytest.mark.django_db
def test_a_warning_goes_to_the_leads_when_nobody_is_assigned(queue, agent, lead):
    other_lead = MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user
    MembershipFactory(role=QueueMembership.Role.LEAD)  # a lead of another queue
    _policy(queue)
    ticket = _ticket(queue)

    sla_alerts_sweep(now=T0 + timedelta(minutes=50))

    assert _alerts(ticket) == [("sla_warning", "first_reply")]
    assert _mail("sla_warning") == sorted([lead.email, other_lead.email])
    email = OutgoingEmail.objects.get(to_email=lead.email)
    assert email.subject == f"SLA warning: first reply due in 10 min — [{ticket.reference}] Printer on fire"
    assert "nobody (unassigned)" in email.body_text


@pytest.mark.django_db
def test_an_assignee_who_leads_the_queue_gets_one_breach_email(queue, lead):
    _policy(queue)
    _ticket(queue, assignee=lead)

    sla_alerts_sweep(now=T0 + timedelta(minutes=61))

    assert _mail("sla_breach") == [lead.email]


@pytest.mark.django_db
def test_a_breach_found_first_counts_as_the_warning(queue, agent, lead):
    _policy(queue)
    ticket = _ticket(queue, assignee=agent)

    assert sla_alerts_sweep(now=T0 + timedelta(hours=3)) == 1  # the beat was down through the warning and the due time
    assert sla_alerts_sweep(now=T0 + timedelta(hours=4)) == 0

    assert _alerts(ticket) == [("sla_breach", "first_reply")]
    assert _mail("sla_warning") == []
    email = OutgoingEmail.objects.get(kind="sla_breach", to_email=agent.email)
    assert "overdue by 2 h" in email.subject


@pytest.mark.django_db
def test_the_warning_share_comes_from_the_policy(queue, agent):
    _policy(queue, warn_at_percent=50)
    ticket = _ticket(queue, assignee=agent)

    assert sla_alerts_sweep(now=T0 + timedelta(minutes=29)) == 0
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=30)) == 1
    assert "due in 30 min" in OutgoingEmail.objects.get(kind="sla_warning").subject
    assert _alerts(ticket) == [("sla_warning", "first_reply")]


@pytest.mark.django_db
def test_met_and_paused_targets_never_alert(queue, agent, lead):
    _policy(queue, resolution_minutes=100)
    ticket = _ticket(queue, assignee=agent)
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="On it", by=agent)
    with time_machine.travel(T0 + timedelta(minutes=90), tick=False):  # past the resolution's 80%: then waiting
        services.ticket_set_status(ticket_id=ticket.pk, status=Status.PENDING, by=agent)
    resolution = ticket.sla_targets.get(kind="resolution")
    assert resolution.due_at is None and resolution.warn_at is not None  # paused, its warning time kept
    assert ticket.sla_targets.get(kind="first_reply").result == SlaTarget.Result.MET

    assert sla_alerts_sweep(now=T0 + timedelta(days=3)) == 0
    assert _alerts(ticket) == []
    assert _mail("sla_warning") == _mail("sla_breach") == []


@pytest.mark.django_db
def test_a_target_settled_before_the_sweep_gets_no_alert(queue, agent):
    _policy(queue)
    ticket = _ticket(queue, assignee=agent)
    with time_machine.travel(T0 + timedelta(minutes=70), tick=False):  # answered late: settled as breached
        services.message_add(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC_REPLY, body="Sorry", by=agent)

    assert sla_alerts_sweep(now=T0 + timedelta(minutes=71)) == 0
    assert ticket.sla_targets.get().result == SlaTarget.Result.BREACHED  # counted in the reports, not alerted late


@pytest.mark.django_db
def test_a_target_rederived_to_a_later_due_time_after_its_warning_is_warned_again(queue, agent):
    # given a warned first-reply target (48 of 60 minutes), and 4 hours for low priority
    _policy(queue)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        SlaPolicy.objects.create(queue=queue, priority=Priority.LOW, first_reply_minutes=240, business_hours=False)
    ticket = _ticket(queue, assignee=agent)
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=50)) == 1

    # when the priority drops: due at 4 hours, its warning at 192 minutes, still ahead
    with time_machine.travel(T0 + timedelta(minutes=55), tick=False):
        services.ticket_set_priority(ticket_id=ticket.pk, priority=Priority.LOW, by=agent)
    assert ticket.sla_targets.get().warned_at is None

    # then it is warned again when it crosses the share again, once
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=191)) == 0
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=192)) == 1
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=200)) == 0
    assert _alerts(ticket) == [("sla_warning", "first_reply"), ("sla_warning", "first_reply")]


@pytest.mark.django_db
def test_a_rederived_target_still_past_its_warning_is_not_warned_again(queue, agent):
    # given a warned target, and a high priority whose warning (80% of 90 minutes: 72) is past at 75 minutes
    _policy(queue)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        SlaPolicy.objects.create(queue=queue, priority=Priority.HIGH, first_reply_minutes=90, business_hours=False)
    ticket = _ticket(queue, assignee=agent)
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=50)) == 1

    with time_machine.travel(T0 + timedelta(minutes=75), tick=False):
        services.ticket_set_priority(ticket_id=ticket.pk, priority=Priority.HIGH, by=agent)

    assert ticket.sla_targets.get().warned_at is not None
    assert sla_alerts_sweep(now=T0 + timedelta(minutes=80)) == 0


@pytest.mark.django_db
def test_the_sweep_works_in_chunks(queue, agent, monkeypatch):
    monkeypatch.setattr("tickets.sla.alerts.CHUNK", 2)
    _policy(queue)
    for _ in range(5):
        _ticket(queue, assignee=agent)

    assert sla_alerts_sweep(now=T0 + timedelta(minutes=50)) == 5
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_WARNING).count() == 5


def test_the_sweep_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-sla-alerts"]
    assert entry == {"task": "tickets.tasks.sweep_sla_alerts", "schedule": settings.SLA_SWEEP_SECONDS}
    assert email_kinds.require("sla_warning").max_age == timedelta(hours=4)
    assert email_kinds.require("sla_breach").max_age == timedelta(days=1)


def test_sweeps_at_once_record_each_alert_once(postgres_race):
    queue = QueueFactory()
    agent = MembershipFactory(queue=queue).user
    lead = MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user
    _policy(queue)
    ticket = _ticket(queue, assignee=agent)

    run_at_once(lambda: sla_alerts_sweep(now=T0 + timedelta(minutes=61)), times=4)

    assert _alerts(ticket) == [("sla_breach", "first_reply")]
    assert _mail("sla_breach") == sorted([agent.email, lead.email])


# --- a real worker killed between the event and the emails (Postgres + Redis) --------------------------------------


@pytest.mark.integration
def test_a_worker_killed_after_the_event_and_before_the_emails_leaves_one_alert(celery_queue):
    queue = QueueFactory()
    agent = MembershipFactory(queue=queue).user
    lead = MembershipFactory(queue=queue, role=QueueMembership.Role.LEAD).user
    SlaPolicy.objects.create(queue=queue, priority=Priority.NORMAL, first_reply_minutes=60, business_hours=False)
    ticket = services.ticket_create(
        queue=queue, customer=CustomerFactory(), subject="Printer on fire", body="Help", by=None, assignee=agent
    )
    past = timezone.now() - timedelta(minutes=1)
    SlaTarget.objects.filter(ticket=ticket).update(warn_at=past - timedelta(minutes=12), due_at=past)

    # given a worker that dies right after the breach event is written, before its emails are queued
    crashing = start_worker(queue=celery_queue, pool="solo", module="tickets.tests.sla_crashing_worker")
    try:
        sweep_sla_alerts.delay()
        wait_until(lambda: crashing.process.poll() is not None, timeout=30, what="the worker to die")
    finally:
        stop_worker(crashing)
    assert crashing.process.returncode == 9, crashing.output()
    assert _alerts(ticket) == [] and _mail("sla_breach") == []  # its transaction died with it
    assert SlaTarget.objects.get(ticket=ticket).breached_at is None

    # when the next sweep runs on a live worker (and a duplicate delivery after it)
    worker = start_worker(queue=celery_queue)
    try:
        sweep_sla_alerts.delay()
        sweep_sla_alerts.delay()
        wait_until(lambda: worker.output().count("succeeded") == 2, timeout=30, what="both sweeps")
    finally:
        stop_worker(worker)

    # then one event, one email per recipient, and no warning after the breach
    assert _alerts(ticket) == [("sla_breach", "first_reply")]
    assert _mail("sla_breach") == sorted([agent.email, lead.email])
    assert _mail("sla_warning") == []


@pytest.mark.django_db
def test_the_sweep_costs_three_writes_per_alert(queue, agent, lead, django_assert_num_queries):
    _policy(queue)
    for _ in range(3):
        _ticket(queue, assignee=agent)
    ContentType.objects.get_for_model(Ticket)  # cached once per process

    # breaches: the chunk, its transaction (its start and end), its queues' leads, per alert the claim, the event and
    # the emails (one INSERT), then the next (empty) chunk; warnings: an empty chunk
    with django_assert_num_queries(1 + 2 + 1 + 3 * 3 + 1 + 1):
        assert sla_alerts_sweep(now=T0 + timedelta(minutes=61)) == 3
