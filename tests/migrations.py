"""A test database taken back to an earlier migration and forward again, as an install upgrades."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrated(targets: list[tuple[str, str]]) -> MigrationExecutor:
    """The database migrated to ``targets`` (backwards or forwards); a fresh executor for what comes next."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)
