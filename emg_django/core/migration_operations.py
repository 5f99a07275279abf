"""Migration operations for what only Postgres has (the embedded default is SQLite)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    """Raw SQL that runs on Postgres and is skipped elsewhere (e.g. GIN indexes on jsonb)."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
