"""A reply target that breached stays breached when a close without a reply stops it (it was recorded as excluded):
the rows are corrected and the daily counts gain their breaches. A close as spam or duplicate still excludes all."""

from datetime import UTC

from django.db import migrations
from django.db.models import Count, F
from django.db.models.functions import TruncDate


def breaches_stand(apps, schema_editor):
    SlaTarget = apps.get_model("tickets", "SlaTarget")
    SlaDailyCount = apps.get_model("tickets", "SlaDailyCount")
    breached = SlaTarget.objects.filter(
        result="excluded", elapsed_seconds__gt=F("target_seconds"), settled_at__isnull=False
    ).exclude(ticket__close_reason__in=["spam", "duplicate"])
    buckets = (
        breached.annotate(day=TruncDate("settled_at", tzinfo=UTC))
        .values("day", "queue_id", "agent_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for bucket in buckets:
        count, _ = SlaDailyCount.objects.get_or_create(
            day=bucket["day"], queue_id=bucket["queue_id"], agent_key=bucket["agent_id"] or 0, kind=bucket["kind"]
        )
        SlaDailyCount.objects.filter(pk=count.pk).update(breached=F("breached") + bucket["n"])
    breached.update(result="breached")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0013_event_kind_from_registry"),
    ]

    operations = [
        migrations.RunPython(breaches_stand, migrations.RunPython.noop),
    ]
