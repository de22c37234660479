# AccessToken moves here from tickets (tickets 0002 created its table). The state is created as it is, on the
# existing table, then the table is renamed: no rebuild, no copy, every stored token keeps resolving.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("tickets", "0002_access_token"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessToken",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("purpose", models.CharField(max_length=20)),
                        ("target_id", models.PositiveBigIntegerField()),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("expires_at", models.DateTimeField()),
                        (
                            "target_type",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="contenttypes.contenttype"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tickets_accesstoken",
                        "indexes": [models.Index(fields=["target_type", "target_id"], name="token_target")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="accesstoken", table=None),  # tickets_accesstoken → common_accesstoken
    ]
