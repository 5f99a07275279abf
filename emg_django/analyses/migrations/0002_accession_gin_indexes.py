"""GIN indexes so an object is found by any of its ENA accessions (Postgres only)."""

from django.db import migrations

from emg_django.core.migration_operations import PostgresOnlySQL

TABLES = ("analyses_study", "analyses_sample")


class Migration(migrations.Migration):
    dependencies = [("analyses", "0001_initial")]

    operations = [
        PostgresOnlySQL(
            sql=f"CREATE INDEX {table}_ena_accessions_gin ON {table} USING gin "
            f"(ena_accessions jsonb_path_ops)",
            reverse_sql=f"DROP INDEX {table}_ena_accessions_gin",
        )
        for table in TABLES
    ]
