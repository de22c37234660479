"""The demo's relationship data: NPS surveys and VIP customers, so `make run` shows the team dashboard's NPS card and
the customer history card's NPS answers and VIP flags, and `make bench` measures them.

- NPS: the demo's NPS policy asks monthly (a real desk's default is every 90 days: the demo has only 50 customers,
  and a monthly figure needs answers). Each demo customer with a closed ticket got one NPS survey a month over the
  last six months, for the queue of their latest closed ticket; about 45% answered (email NPS surveys get 10–40%),
  about half promoters and a fifth detractors (a typical B2B support desk's NPS of +30). The answers are settled;
  the detractors of the last FOLLOWUP_DAYS have their follow-up, opened by the service as a settling answer would.
- VIP: one customer in ten, marked by the lead of their latest ticket's queue.

Written once (a desk that has any NPS survey of a demo customer gets none), with bulk_create, from a random stream of
its own."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import OuterRef, Subquery

from surveys.models import DETRACTOR_TO, NpsPolicy, NpsSurvey
from surveys.services import nps_followup_open
from tickets.models import Customer, Status, Ticket

from .desk import Desk

MONTHS, ANSWERED_SHARE, EXPIRY, FOLLOWUP_DAYS = 6, 0.45, timedelta(days=14), 14
SCORE_WEIGHTS = (2, 1, 1, 2, 2, 3, 8, 14, 16, 24, 27)  # 0..10: ~51% promoters, ~30% passives, ~19% detractors
REASONS = {
    "promoter": ["Quick, friendly answers every time.", "They always fix it on the first try.", ""],
    "passive": ["Good help, but replies can take a day.", "Fine overall.", ""],
    "detractor": ["I had to chase every answer.", "Still waiting on the same bug after three tickets.", ""],
}
VIP_EVERY = 10


def relationship_create(desk: Desk, *, seed: int, now: datetime) -> tuple[int, int]:
    """(NPS surveys, VIP customers) written."""
    if NpsSurvey.objects.filter(customer__in=desk.customers).exists():
        return 0, 0
    NpsPolicy.objects.get_or_create(defaults={"enabled": True, "interval_days": 30})
    latest = Ticket.objects.filter(customer_id=OuterRef("pk"), status=Status.CLOSED).order_by("-closed_at", "-pk")
    queues = dict(
        Customer.objects.filter(pk__in=[c.pk for c in desk.customers])
        .annotate(queue_id=Subquery(latest.values("queue_id")[:1]))
        .filter(queue_id__isnull=False)
        .values_list("pk", "queue_id")
    )
    rows = [
        _survey(random.Random(f"{seed}:nps:{customer_id}:{month}"), customer_id, queue_id, month, now)  # noqa: S311
        for customer_id, queue_id in sorted(queues.items())
        for month in range(MONTHS)
    ]
    NpsSurvey.objects.bulk_create(rows, batch_size=1000)
    recent_detractors = NpsSurvey.objects.filter(
        customer__in=desk.customers, score__lte=DETRACTOR_TO, answered_at__gte=now - timedelta(days=FOLLOWUP_DAYS)
    )
    for nps in recent_detractors.only("answered_at"):
        assert nps.answered_at is not None  # noqa: S101 - the filter says so; for mypy
        nps_followup_open(nps_id=nps.pk, now=min(nps.answered_at + timedelta(minutes=10), now))
    return len(rows), _vips_create(desk, queues, now=now)


def _survey(rng: random.Random, customer_id: int, queue_id: int, month: int, now: datetime) -> NpsSurvey:
    sent = now - timedelta(days=30 * month + rng.randint(1, 29), minutes=rng.randint(0, 600))
    expires = sent + EXPIRY
    row = NpsSurvey(
        customer_id=customer_id, queue_id=queue_id, send_after=sent, sent_at=sent, expires_at=expires, created_at=sent
    )
    row.status = NpsSurvey.Status.SENT if expires > now else NpsSurvey.Status.EXPIRED
    if rng.random() < ANSWERED_SHARE:
        row.answered_at = min(sent + timedelta(minutes=rng.randint(5, 4 * 24 * 60)), now)
        row.status, row.score = NpsSurvey.Status.ANSWERED, rng.choices(range(11), SCORE_WEIGHTS)[0]
        row.comment = rng.choice(REASONS[row.group])
        row.settled_at = row.answered_at
    return row


def _vips_create(desk: Desk, queues: dict[int, int], *, now: datetime) -> int:
    if not apps.is_installed("customers"):
        return 0
    from customers.models import Vip

    leads = {dq.queue.pk: dq.lead for dq in desk.queues}
    vips = [
        Vip(customer_id=customer_id, set_by=leads.get(queue_id), set_at=now - timedelta(days=index))
        for index, (customer_id, queue_id) in enumerate(sorted(queues.items()))
        if index % VIP_EVERY == 0
    ]
    Vip.objects.bulk_create(vips, ignore_conflicts=True)
    return len(vips)
