"""Each SLA target keeps its policy's pause switch from when it started, like its target and warning share; existing
targets take their policy's (the policy of their queue and priority), those without one keep the default."""

from django.db import migrations, models


def pause_from_policies(apps, schema_editor):
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    SlaTarget = apps.get_model("tickets", "SlaTarget")
    for queue_id, priority in SlaPolicy.objects.filter(pause_while_waiting=False).values_list("queue_id", "priority"):
        SlaTarget.objects.filter(queue_id=queue_id, priority=priority).update(pause_while_waiting=False)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0014_sla_breaches_stand"),
    ]

    operations = [
        migrations.AddField(
            model_name="slatarget",
            name="pause_while_waiting",
            field=models.BooleanField(
                default=True, help_text="The policy's switch when the target started (or was re-derived)."
            ),
        ),
        migrations.RunPython(pause_from_policies, migrations.RunPython.noop),
    ]
