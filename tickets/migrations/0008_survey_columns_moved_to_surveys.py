# The survey state tickets used to carry (the latest rating on the ticket, the customer's survey opt-out) now lives in
# tables of surveys (TicketRating, SurveyOptOut); surveys 0004 copies it there and runs before this migration.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_access_token_moved_to_common"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="ticket", name="ticket_rated_poor"),
        migrations.RemoveField(model_name="customer", name="surveys_opted_out_at"),
        migrations.RemoveField(model_name="ticket", name="last_ces"),
        migrations.RemoveField(model_name="ticket", name="last_csat"),
        migrations.RemoveField(model_name="ticket", name="rated_poor"),
        # The queue's index gains the id (ticket_queue_id), so a join on (id, queue) is answered from the index.
        migrations.AlterField(
            model_name="ticket",
            name="queue",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tickets",
                to="tickets.queue",
            ),
        ),
        migrations.AddIndex(model_name="ticket", index=models.Index(fields=["queue", "id"], name="ticket_queue_id")),
    ]
