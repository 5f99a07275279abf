"""GIN indexes so an ENA object is found by any secondary accession (Postgres only)."""

from django.db import migrations

from emg_django.core.migration_operations import PostgresOnlySQL

TABLES = ("ena_study", "ena_sample")


class Migration(migrations.Migration):
    dependencies = [("ena", "0001_initial")]

    operations = [
        PostgresOnlySQL(
            sql=f"CREATE INDEX {table}_additional_accessions_gin ON {table} USING gin "
            f"(additional_accessions jsonb_path_ops)",
            reverse_sql=f"DROP INDEX {table}_additional_accessions_gin",
        )
        for table in TABLES
    ]
