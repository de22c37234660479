"""For the tests of a data migration: migrate the test database to a state and get that state's models, then back
to the latest migrations for the tests that follow (the back_to_the_latest fixture of surveys/tests/conftest.py)."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets):
    """Migrate to `targets` and return the apps of that state (every other app at its latest)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    leaves = dict(executor.loader.graph.leaf_nodes()) | dict(targets)  # every app's state, surveys at the target
    return executor.loader.project_state(list(leaves.items())).apps


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
