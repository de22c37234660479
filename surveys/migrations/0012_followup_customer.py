"""Follow-ups gain their customer (filled from their ticket), before a follow-up may belong to a customer rather
than a ticket (0013). Its own migration: on Postgres the UPDATE of a foreign key leaves deferred trigger events
that forbid altering the table in the same transaction."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_customer(apps, schema_editor):
    FollowUp = apps.get_model("surveys", "FollowUp")
    Ticket = apps.get_model("tickets", "Ticket")
    FollowUp.objects.filter(customer__isnull=True).update(
        customer_id=Subquery(Ticket.objects.filter(pk=OuterRef("ticket_id")).values("customer_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0011_nps"),
        ("tickets", "0015_slatarget_pause_while_waiting"),
    ]

    operations = [
        migrations.AddField(
            model_name="followup",
            name="customer",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="followups",
                to="tickets.customer",
            ),
        ),
        migrations.RunPython(fill_customer, migrations.RunPython.noop, elidable=True),
    ]
