"""Full-text search indexes for the ticket list's search on PostgreSQL (tickets.selectors._apply_search).

The expressions are exactly what `SearchVector(<field>, config="english")` compiles to, so the planner uses them.
SQLite searches with LIKE and gets no index: the operations do nothing there.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEXES = {
    "message_body_search": ("tickets_message", "body"),
    "ticket_subject_search": ("tickets_ticket", "subject"),
}


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f"USING gin (to_tsvector('english'::regconfig, COALESCE(\"{column}\", '')))"
        )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_ticket_list_order_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
