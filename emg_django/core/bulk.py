"""Bulk writes keyed by natural accessions: what the Dagster ingest assets write through.

:func:`bulk_upsert` writes a batch with one ``INSERT … ON CONFLICT … DO UPDATE … WHERE <changed>``
statement, inside a transaction. Rows that are already up to date are left alone, so writing the
same batch twice changes nothing, not even ``updated_at``. Values are validated by their fields in
one place (:func:`_prepare`) and then sent one of two ways: on Postgres the batch is one jsonb
parameter (:func:`_upsert_batch_postgresql`); elsewhere (SQLite, the embedded default) it is a
``VALUES`` list with a read that tells inserts from updates (:func:`_upsert_batch_values`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from emg_django.core.fields import AccessionsField

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
            key = row.get(unique_field)
            raise ValueError(f"rows must all have the same fields; {key!r} differs")
    updatable = [c for c in (update_fields or columns) if c != unique_field]

    fields = {field.attname: field for field in model._meta.concrete_fields}
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {unknown}")
    # Fields a row leaves out are written with their defaults on insert, never on update.
    insert_defaults = _insert_defaults(model, fields, columns)
    plan = _Plan(model, fields, unique_field, columns, updatable, insert_defaults)

    batch_size = max(1, min(MAX_BATCH_ROWS, MAX_PARAMETERS // len(plan.columns)))
    if connection.vendor == "postgresql" and all(_travels_as_json(fields[c]) for c in plan.columns):
        upsert_batch = _upsert_batch_postgresql
    else:
        upsert_batch = _upsert_batch_values
    result = UpsertResult()
    with transaction.atomic():
        for start in range(0, len(rows), batch_size):
            result += upsert_batch(plan, rows[start : start + batch_size])
    return result


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What every batch of one :func:`bulk_upsert` call writes, and how."""

    model: type[models.Model]
    fields: Mapping[str, models.Field]
    unique_field: str
    #: The fields the rows give, in the rows' order.
    given: Sequence[str]
    updatable: Sequence[str]
    #: The fields the rows leave out, with the value an insert writes (None: the time of the write).
    insert_defaults: Mapping[str, Any]

    @property
    def columns(self) -> list[str]:
        """The columns of the INSERT: the given fields, then the defaulted ones."""
        return [*self.given, *self.insert_defaults]


def _prepare(
    plan: _Plan, batch: Sequence[Mapping[str, Any]], *, documents_as_is: bool = False
) -> tuple[list[list[Any]], list[Any]]:
    """The values to write, as their fields' ``get_db_prep_save`` gives them.

    Both backends write what this returns: it is where values are validated (pydantic-checked
    JSON fields raise here), before anything of the batch is sent.

    :param documents_as_is: keep the values of plain JSON fields (not pydantic-checked) that
        ``get_db_prep_save`` would only wrap for the driver, for the jsonb path, which sends
        them inside its own document.
    :return: the values of ``plan.given`` for each row, and the values of the defaulted fields
        (``plan.insert_defaults``), which are the same for every row.
    """
    now = timezone.now()
    # The real connection, not the thread-local proxy: the fields ask it for .ops and .features
    # once per value, and the proxy's lookups were a fifth of the time of a large batch.
    db = connections[DEFAULT_DB_ALIAS]
    filled = [
        plan.fields[column].get_db_prep_save(now if column in TIMESTAMP_FIELDS else default, db)
        for column, default in plan.insert_defaults.items()
    ]
    preparers = []
    for column in plan.given:
        field = plan.fields[column]
        preparers.append((column, field.get_db_prep_save, _as_is_types(field, documents_as_is)))
    prepared = []
    for row in batch:
        values: list[Any] = []
        append = values.append
        for column, prepare, as_is in preparers:
            value = row[column]
            if type(value) in as_is:
                append(value)  # what get_db_prep_save would return (see _as_is_types)
            else:
                append(prepare(value, db))
        prepared.append(values)
    return prepared, filled


def _conflict_clause(plan: _Plan) -> str:
    """``ON CONFLICT … DO UPDATE … WHERE <a column changed>``: unchanged rows are not touched."""
    quote = connection.ops.quote_name
    table, updatable = quote(plan.model._meta.db_table), plan.updatable
    target = f"ON CONFLICT ({quote(plan.unique_field)})"
    if not updatable:
        return f"{target} DO NOTHING"
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(f"{table}.{quote(c)} {distinct} excluded.{quote(c)}" for c in updatable)
    assignments = [f"{quote(c)} = excluded.{quote(c)}" for c in updatable]
    if "updated_at" in plan.fields and "updated_at" not in updatable:
        assignments.append(f"{quote('updated_at')} = excluded.{quote('updated_at')}")
    return f"{target} DO UPDATE SET {', '.join(assignments)} WHERE {changed}"


def _upsert_batch_values(plan: _Plan, batch: Sequence[Mapping[str, Any]]) -> UpsertResult:
    """Any backend: ``INSERT … VALUES (…), (…) ON CONFLICT …``, one parameter per value.

    A read before the write tells inserts from updates.
    """
    quote = connection.ops.quote_name
    table = quote(plan.model._meta.db_table)
    keys = [row[plan.unique_field] for row in batch]
    existing = set(
        plan.model._default_manager.filter(**{f"{plan.unique_field}__in": keys}).values_list(
            plan.unique_field, flat=True
        )
    )
    prepared, filled = _prepare(plan, batch)
    params = [value for values in prepared for value in (*values, *filled)]
    placeholders = "(" + ", ".join(["%s"] * len(plan.columns)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in plan.columns)}) "
        f"VALUES {', '.join([placeholders] * len(batch))} "
        f"{_conflict_clause(plan)} RETURNING {quote(plan.unique_field)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = {row[0] for row in cursor.fetchall()}
    inserted = len(written - existing)
    return _counts(batch, inserted, updated=len(written & existing))


def _upsert_batch_postgresql(plan: _Plan, batch: Sequence[Mapping[str, Any]]) -> UpsertResult:
    """Postgres: the batch as one jsonb parameter, read back by ``jsonb_populate_recordset``.

    A ``VALUES`` list of 1,000 rows is a ~1.5 MB statement that Postgres spent most of its time
    parsing; one jsonb parameter is parsed far faster, and the statement text stays small. The
    record type is the table's own row type, so each value is cast to its column's exact type
    (a too-long ``varchar`` still fails, as an insert of it would).

    ``xmax = 0`` tells inserts from updates without a read: a freshly inserted row version has no
    xmax, while ``ON CONFLICT DO UPDATE`` locks the old version first and the new version keeps
    that lock as its xmax (also for rows written earlier in the same transaction or savepoint;
    ``test_bulk.py`` checks those cases).
    """
    prepared, filled = _prepare(plan, batch, documents_as_is=True)
    defaults = {
        column: _jsonable(value) for column, value in zip(plan.insert_defaults, filled, strict=True)
    }
    records = []
    for values in prepared:
        record = dict(zip(plan.given, values, strict=True))
        record.update(defaults)
        records.append(record)
    # None becomes JSON null, which jsonb_populate_recordset reads as SQL NULL, as before.
    document = json.dumps(records, default=_jsonable, ensure_ascii=False, separators=(",", ":"))
    columns = plan.columns
    quote = connection.ops.quote_name
    table = quote(plan.model._meta.db_table)
    column_list = ", ".join(quote(c) for c in columns)
    sql = (
        f"INSERT INTO {table} ({column_list}) SELECT {column_list} "
        f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb) {_conflict_clause(plan)} "
        f"RETURNING {table}.{quote(plan.unique_field)}, ({table}.xmax = 0)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
        written = cursor.fetchall()
    inserted = sum(1 for _key, was_inserted in written if was_inserted)
    return _counts(batch, inserted, updated=len(written) - inserted)


def _counts(batch: Sequence[Mapping[str, Any]], inserted: int, updated: int) -> UpsertResult:
    """The rows of the batch that were neither inserted nor updated were unchanged."""
    unchanged = len(batch) - inserted - updated
    return UpsertResult(inserted=inserted, updated=updated, unchanged=unchanged)


#: Internal types (of the field, or of an FK's target) whose prepared values mean the same once
#: they went through JSON and ``jsonb_populate_recordset``: str, int, bool, None, ISO dates and
#: times, JSON documents. Any other field sends its model through the VALUES path.
_JSON_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "BooleanField",
        "CharField",
        "TextField",
        "DateTimeField",
        "DateField",
        "JSONField",
    }
)


def _travels_as_json(field: models.Field) -> bool:
    """Whether ``field``'s values can be sent inside the jsonb parameter of the Postgres path."""
    if isinstance(field, models.ForeignKey):  # OneToOneField too
        field = field.target_field
    # A custom JSON encoder may write values the plain json.dumps would not: keep its own way.
    return field.get_internal_type() in _JSON_TYPES and getattr(field, "encoder", None) is None


def _jsonable(value: Any) -> Any:
    """``value``, prepared by its field, as the jsonb path sends it (``json.dumps``' ``default``).

    :raises TypeError: for values of other fields than :func:`_travels_as_json` lets through.
    """
    from django.db.backends.postgresql.psycopg_any import Jsonb

    if isinstance(value, Jsonb):
        # A JSON field's value as get_db_prep_save wrapped it for the driver (no custom encoder:
        # see _travels_as_json); psycopg2 / psycopg 3.
        return value.adapted if hasattr(value, "adapted") else value.obj
    if isinstance(value, datetime.date):  # datetimes too: jsonb_populate_recordset parses ISO 8601
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, list, dict)):
        return value
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


#: Field classes (exactly these, not subclasses) whose ``get_db_prep_save`` returns a value of
#: the given type, or None, unchanged on every backend: such values are passed as they are.
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
#: JSON fields (exactly these: not PydanticJSONField, which validates) whose ``get_db_prep_save``
#: only wraps a document for the driver (``JSONField.get_db_prep_value``: no change to the value).
_PLAIN_JSON_FIELDS = (models.JSONField, AccessionsField)


def _as_is_types(field: models.Field, documents_as_is: bool) -> tuple[type, ...]:
    """The value types that ``field`` stores as they are (no need to prepare them)."""
    if type(field) in (models.ForeignKey, models.OneToOneField):
        field = cast(models.ForeignKey, field).target_field
    is_plain_json = type(field) in _PLAIN_JSON_FIELDS
    if documents_as_is and is_plain_json and cast(models.JSONField, field).encoder is None:
        return (dict, list)
    plain = _PLAIN_FIELDS.get(type(field))
    return (plain, type(None)) if plain is not None else ()


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


def _column(model: type[models.Model], name: str) -> tuple[models.Field, str]:
    """The field ``name`` (or attname) of ``model`` and its column.

    :raises ValueError: when the field has no column (a reverse relation, a many-to-many).
    """
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field, field.column


def ids_by_key(model: type[models.Model], key_field: str, keys: Iterable[Any]) -> dict[Any, int]:
    """``{natural key: primary key}`` for the given keys, in one query per 10,000 keys."""
    keys = list(keys)
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(_column(model, key_field)[1])}"
    found: dict[Any, int] = {}
    for start in range(0, len(keys), 10_000):
        chunk = keys[start : start + 10_000]
        if connection.vendor == "postgresql":
            # One array parameter: ``__in`` prepares each of 10,000 values on its own (~7 µs each).
            condition = RawSQL(f"{column} = ANY(%s)", (chunk,), output_field=models.BooleanField())
            matching = model._default_manager.filter(condition)
        else:
            matching = model._default_manager.filter(**{f"{key_field}__in": chunk})
        found.update(matching.values_list(key_field, "pk"))
    return found


def bulk_link(
    through: type[models.Model], pairs: Iterable[tuple[int, int]], *, fields: tuple[str, str]
) -> int:
    """Add many-to-many links that are missing (existing links are kept as they are).

    :param through: the M2M's through model, e.g. ``Sample.studies.through``.
    :param pairs: ``(left id, right id)`` pairs.
    :param fields: the through model's two FK attnames, e.g. ``("sample_id", "study_id")``.
    :return: the number of links requested (existing ones included).
    """
    pairs = set(pairs)
    if not pairs:
        return 0
    if connection.vendor == "postgresql":
        _link_postgresql(through, pairs, fields)
    else:
        objects = [through(**{fields[0]: left, fields[1]: right}) for left, right in pairs]
        through._default_manager.bulk_create(objects, ignore_conflicts=True, batch_size=5_000)
    return len(pairs)


def _link_postgresql(
    through: type[models.Model], pairs: set[tuple[int, int]], fields: tuple[str, str]
) -> None:
    """One ``INSERT … SELECT … FROM unnest(ids, ids) ON CONFLICT DO NOTHING``, two array parameters.

    Django's ``bulk_create`` sends a ``VALUES`` list and builds a model instance per link; two
    arrays are a small statement whatever the number of links.
    """
    quote = connection.ops.quote_name
    (left, left_column), (right, right_column) = (_column(through, name) for name in fields)
    lefts, rights = zip(*pairs, strict=True)
    table = quote(through._meta.db_table)
    left_type, right_type = left.db_type(connection), right.db_type(connection)  # bigint
    sql = (
        f"INSERT INTO {table} ({quote(left_column)}, {quote(right_column)}) "
        f"SELECT * FROM unnest(%s::{left_type}[], %s::{right_type}[]) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(lefts), list(rights)])
