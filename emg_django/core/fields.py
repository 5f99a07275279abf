"""Model fields shared by the apps: accession lists and pydantic-validated JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Lookup
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError


class AccessionsField(models.JSONField):
    """A JSON list of accessions (e.g. ``["PRJEB41657", "ERP125469"]``).

    Look an object up by any of its accessions with ``ena_accessions__has_accession="ERP…"``:
    on Postgres that is a ``@>`` served by a GIN (``jsonb_path_ops``) index.
    """

    description = "A list of accessions"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise ValidationError("accessions must be a list of non-empty strings")


@AccessionsField.register_lookup
class HasAccession(Lookup):
    """``field__has_accession=value``: the list contains ``value``."""

    lookup_name = "has_accession"
    prepare_rhs = False

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} @> %s::jsonb", [*lhs_params, json.dumps([str(self.rhs)])]

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql = f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = %s)"
        return sql, [*lhs_params, str(self.rhs)]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        raise NotImplementedError(f"has_accession is not implemented for {connection.vendor}")


class PydanticJSONField(models.JSONField):
    """A JSONField whose value is validated (and normalised) by a pydantic type on save.

    :param schema: the pydantic type of the value, e.g. ``list[DownloadFile]``.
    """

    def __init__(self, *args: Any, schema: Any = None, **kwargs: Any) -> None:
        self.schema = schema
        self._adapter = TypeAdapter(schema) if schema is not None else None
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        # The schema is code, not schema state: migrations do not need it.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs

    def normalise(self, value: Any) -> Any:
        """Validate ``value`` against the schema and return its JSON-able form.

        :raises ValidationError: naming what is wrong with the value.
        """
        if value is None or self._adapter is None:
            return value
        try:
            return self._adapter.dump_python(
                self._adapter.validate_python(value), mode="json", exclude_none=True
            )
        except PydanticValidationError as exc:
            raise ValidationError(f"{self.name}: {exc}") from exc

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(self.normalise(value))
