"""The daily counts of settled SLA targets (SlaDailyCount) that the reports read.

sla_refresh passes each target row as it was before and as it is after the change; a target that settles, un-settles
(a reopen), changes its result or the day, queue or agent it counts for moves one count from its old bucket to its
new one, in the transaction of the change. sla_counts_rebuild recomputes every count from the targets (the migration
that added them, and the demo seeder after its bulk writes).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from ..models import SlaDailyCount, SlaTarget

Bucket = tuple[date, int, int, str]  # day, queue id, agent key (0: unassigned), kind
Counted = tuple[Bucket, str]  # and the result (met or breached)
COUNTED_RESULTS = (SlaTarget.Result.MET, SlaTarget.Result.BREACHED)


def counted(row: SlaTarget) -> Counted | None:
    """Where a target counts (its bucket and result), None when it does not (running or excluded)."""
    if row.result not in COUNTED_RESULTS or row.settled_at is None:
        return None
    day = row.settled_at.astimezone(UTC).date()
    return (day, row.queue_id, row.agent_id or 0, row.kind), row.result


def sla_counts_move(*, before: Iterable[Counted | None], after: Iterable[Counted | None]) -> None:
    """Take the targets' old places off the counts and add their new ones."""
    delta: Counter[Counted] = Counter(place for place in after if place)
    delta.subtract(place for place in before if place)
    buckets: dict[Bucket, list[int]] = defaultdict(lambda: [0, 0])
    for (bucket, result), change in delta.items():
        buckets[bucket][0 if result == SlaTarget.Result.MET else 1] += change
    for (day, queue_id, agent_key, kind), (met, breached) in buckets.items():
        if met == breached == 0:
            continue
        rows = SlaDailyCount.objects.filter(day=day, queue_id=queue_id, agent_key=agent_key, kind=kind)
        if rows.update(met=F("met") + met, breached=F("breached") + breached):
            continue
        try:
            with transaction.atomic():  # a savepoint: another transaction may create the bucket first
                SlaDailyCount.objects.create(
                    day=day, queue_id=queue_id, agent_key=agent_key, kind=kind, met=met, breached=breached
                )
        except IntegrityError:
            rows.update(met=F("met") + met, breached=F("breached") + breached)


@transaction.atomic
def sla_counts_rebuild() -> int:
    """Recompute every daily count from the settled targets; returns how many count rows there are."""
    SlaDailyCount.objects.all().delete()
    rows = (
        SlaTarget.objects.filter(result__in=COUNTED_RESULTS)
        .annotate(day=TruncDate("settled_at", tzinfo=UTC))
        .values("day", "queue_id", "agent_id", "kind")
        .annotate(
            met=Count("pk", filter=Q(result=SlaTarget.Result.MET)),
            breached=Count("pk", filter=Q(result=SlaTarget.Result.BREACHED)),
        )
        .order_by()
    )
    counts = [
        SlaDailyCount(
            day=row["day"],
            queue_id=row["queue_id"],
            agent_key=row["agent_id"] or 0,
            kind=row["kind"],
            met=row["met"],
            breached=row["breached"],
        )
        for row in rows
    ]
    SlaDailyCount.objects.bulk_create(counts, batch_size=1000)
    return len(counts)
