"""Bulk writes keyed by natural accessions: what the Dagster ingest assets write through.

:func:`bulk_upsert` writes a batch with one ``INSERT … ON CONFLICT … DO UPDATE … WHERE <changed>``
statement (plus one read that tells inserts from updates), inside a transaction. Rows that are
already up to date are left alone, so writing the same batch twice changes nothing, not even
``updated_at``. Works on Postgres and SQLite (the embedded default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

#: Keep every statement under both Postgres' (65,535) and SQLite's (32,766) parameter limits.
MAX_PARAMETERS = 30_000
MAX_BATCH_ROWS = 1_000
#: Set to the time of the write when a row does not give them.
TIMESTAMP_FIELDS = ("created_at", "updated_at")


@dataclasses.dataclass(frozen=True)
class UpsertResult:
    """What a bulk write did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def as_metadata(self, prefix: str = "") -> dict[str, int]:
        """Counts labelled for Dagster materialisation metadata."""
        return {f"{prefix}{name}": value for name, value in dataclasses.asdict(self).items()}


def bulk_upsert(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    unique_field: str,
    update_fields: Sequence[str] | None = None,
) -> UpsertResult:
    """Insert new rows and update changed ones, keyed by ``unique_field``.

    :param model: the model to write.
    :param rows: one mapping per object, keyed by field ``attname`` (``study_id``, not ``study``);
        every row must have the same keys. Values are validated by their fields (pydantic schemas
        of JSON fields included) before anything is written.
    :param unique_field: the natural key; it must carry a unique constraint.
    :param update_fields: the fields an update may change; defaults to every given field.
    :return: counts of inserted, updated and unchanged rows.
    :raises ValueError: on rows with differing keys or a duplicate natural key in the batch.
    """
    if not rows:
        return UpsertResult()
    columns = list(rows[0].keys())
    if unique_field not in columns:
        raise ValueError(f"every row needs {unique_field!r}")
    keys = [row[unique_field] for row in rows]
    if len(set(keys)) != len(keys):
        duplicates = sorted({key for key in keys if keys.count(key) > 1})[:5]
        raise ValueError(f"duplicate {unique_field} in one batch: {duplicates}")
    for row in rows:
        if row.keys() != rows[0].keys():
            raise ValueError(f"rows must all have the same fields; {row.get(unique_field)!r} differs")
    updatable = [c for c in (update_fields or columns) if c != unique_field]

    fields = {field.attname: field for field in model._meta.concrete_fields}
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {unknown}")
    # Fields a row leaves out are written with their defaults on insert, never on update.
    insert_defaults = _insert_defaults(model, fields, columns)
    write_columns = columns + list(insert_defaults)

    batch_size = max(1, min(MAX_BATCH_ROWS, MAX_PARAMETERS // len(write_columns)))
    result = UpsertResult()
    with transaction.atomic():
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            result += _upsert_batch(
                model, fields, batch, unique_field, write_columns, updatable, insert_defaults
            )
    return result


def _upsert_batch(
    model: type[models.Model],
    fields: Mapping[str, models.Field],
    batch: Sequence[Mapping[str, Any]],
    unique_field: str,
    columns: Sequence[str],
    updatable: Sequence[str],
    insert_defaults: Mapping[str, Any],
) -> UpsertResult:
    table = connection.ops.quote_name(model._meta.db_table)
    quote = connection.ops.quote_name
    keys = [row[unique_field] for row in batch]
    existing = set(
        model._default_manager.filter(**{f"{unique_field}__in": keys}).values_list(unique_field, flat=True)
    )

    now = timezone.now()
    # The real connection, not the thread-local proxy: the fields ask it for .ops and .features
    # once per value, and the proxy's lookups were a fifth of the time of a large batch.
    db = connections[DEFAULT_DB_ALIAS]
    preparers = [(column, fields[column].get_db_prep_save, _plain_type(fields[column])) for column in columns]
    params: list[Any] = []
    append = params.append
    for row in batch:
        for column, prepare, plain in preparers:
            if column in row:
                value = row[column]
            elif column in TIMESTAMP_FIELDS:
                value = now
            else:
                value = insert_defaults[column]
            if plain is not None and type(value) is plain:
                # What get_db_prep_save would return unchanged (see _plain_type).
                append(value)
            else:
                # get_db_prep_save validates too: pydantic-checked JSON fields raise here.
                append(prepare(value, db))
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    values_sql = ", ".join([placeholders] * len(batch))

    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(f"{table}.{quote(c)} {distinct} excluded.{quote(c)}" for c in updatable)
    assignments = [f"{quote(c)} = excluded.{quote(c)}" for c in updatable]
    if "updated_at" in fields and "updated_at" not in updatable:
        assignments.append(f"{quote('updated_at')} = excluded.{quote('updated_at')}")
    if updatable:
        conflict = f"DO UPDATE SET {', '.join(assignments)} WHERE {changed}"
    else:
        conflict = "DO NOTHING"
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) VALUES {values_sql} "
        f"ON CONFLICT ({quote(unique_field)}) {conflict} RETURNING {quote(unique_field)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = {row[0] for row in cursor.fetchall()}
    inserted = len(written - existing)
    updated = len(written & existing)
    return UpsertResult(inserted=inserted, updated=updated, unchanged=len(batch) - inserted - updated)


#: Field classes (exactly these, not subclasses) whose ``get_db_prep_save`` returns a value of
#: the given type unchanged on every backend: such values are passed as they are.
_PLAIN_FIELDS: dict[type[models.Field], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
}


def _plain_type(field: models.Field) -> type | None:
    """The value type that ``field`` stores as it is, or None when values must be prepared."""
    if type(field) in (models.ForeignKey, models.OneToOneField):
        field = field.target_field
    return _PLAIN_FIELDS.get(type(field))


def _insert_defaults(
    model: type[models.Model], fields: Mapping[str, models.Field], columns: Sequence[str]
) -> dict[str, Any]:
    """Values for the fields the rows leave out, as a ``save()`` of a new object would write.

    :raises ValueError: when a required field has neither a value nor a default.
    """
    defaults: dict[str, Any] = {}
    for attname, field in fields.items():
        if attname in columns or field.primary_key:
            continue
        if attname in TIMESTAMP_FIELDS:
            defaults[attname] = None  # the time of the write, filled per batch
        elif field.has_default():
            defaults[attname] = field.get_default()
        elif field.null:
            defaults[attname] = None
        else:
            raise ValueError(f"{model.__name__}.{attname} has no default: every row must give it")
    return defaults


def ids_by_key(model: type[models.Model], key_field: str, keys: Iterable[Any]) -> dict[Any, int]:
    """``{natural key: primary key}`` for the given keys, in one query per 10,000 keys."""
    keys = list(keys)
    found: dict[Any, int] = {}
    for start in range(0, len(keys), 10_000):
        chunk = keys[start : start + 10_000]
        found.update(model._default_manager.filter(**{f"{key_field}__in": chunk}).values_list(key_field, "pk"))
    return found


def bulk_link(through: type[models.Model], pairs: Iterable[tuple[int, int]], *, fields: tuple[str, str]) -> int:
    """Add many-to-many links that are missing (existing links are kept as they are).

    :param through: the M2M's through model, e.g. ``Sample.studies.through``.
    :param pairs: ``(left id, right id)`` pairs.
    :param fields: the through model's two FK attnames, e.g. ``("sample_id", "study_id")``.
    :return: the number of links requested (existing ones included).
    """
    objects = [through(**{fields[0]: left, fields[1]: right}) for left, right in set(pairs)]
    through.objects.bulk_create(objects, ignore_conflicts=True, batch_size=5_000)
    return len(objects)
