# AccessToken now lives in common (common 0001 takes over its table): removed from the tickets state only.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0001_initial"),
        ("tickets", "0006_ticket_covering_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AccessToken")],
            database_operations=[],
        ),
    ]
