"""A small builder for ENA Portal API queries that never pastes unchecked input into a query.

Every condition is checked when it is built: the field must be known (see
:mod:`emg_assets.ena.fields`), and the value must fit the field's kind — accessions by regular
expression, dates as :class:`datetime.date` (or ISO strings that parse as one), integers as
integers, controlled vocabularies by membership (ENA's controlled values are case-sensitive and a
wrong case silently gives zero rows), free text without quotes, backslashes or control characters
(ENA's query language has no documented escape). Whether a field is offered by a given result is
checked by :meth:`ENAQuery.validate_for`, which the client calls before each request.

Example::

    query = ENAQuery.for_study("PRJEB41657") & ENAQuery.eq("library_strategy", "AMPLICON")
    str(query)
    # '((study_accession="PRJEB41657" OR secondary_study_accession="PRJEB41657")
    #   AND library_strategy="AMPLICON")'
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from emg_assets.ena.fields import (
    FIELD_SPECS,
    RESULT_FIELDS,
    SECONDARY_STUDY_ACCESSION,
    STUDY_ACCESSION,
    FieldKind,
    FieldSpec,
)
from emg_assets.ena.vocabulary import ENAResult
from emg_django.core.ena_accessions import is_accession_of

#: Characters refused in free-text values: the quote would end the value early, a backslash's
#: meaning to ENA is undocumented, and control characters have no place in a query.
_UNSAFE_TEXT = re.compile(r'["\\\x00-\x1f\x7f]')


class Comparison(enum.StrEnum):
    """The comparison operators the builder emits."""

    EQ = "="
    GTE = ">="
    LTE = "<="


#: Kinds whose values can be ordered (``>=``/``<=``).
_ORDERED_KINDS = frozenset({FieldKind.DATE, FieldKind.INTEGER, FieldKind.DECIMAL})


class ENAQueryError(ValueError):
    """A query could not be built: unknown field, wrong value, or a field the result lacks."""


def _field_spec(name: str) -> FieldSpec:
    try:
        return FIELD_SPECS[name]
    except KeyError:
        raise ENAQueryError(
            f"unknown ENA field {name!r} (add it to emg_assets.ena.fields)"
        ) from None


def _render_value(spec: FieldSpec, value: object) -> str:
    """The value as it must appear in the query, after checking it fits the field."""
    match spec.kind:
        case FieldKind.ACCESSION:
            if not isinstance(value, str) or not is_accession_of(value, spec.accession_kinds):
                kinds = ", ".join(kind.value for kind in spec.accession_kinds)
                raise ENAQueryError(f"{spec.name}: {value!r} is not an accession of kind {kinds}")
            return f'"{value}"'
        case FieldKind.DATE:
            if isinstance(value, dt.datetime):
                # datetime is a date subclass; ENA's dates are days, so refuse silent truncation.
                raise ENAQueryError(f"{spec.name}: give a date, not a datetime ({value!r})")
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    raise ENAQueryError(
                        f"{spec.name}: {value!r} is not a YYYY-MM-DD date"
                    ) from None
            if not isinstance(value, dt.date):
                raise ENAQueryError(f"{spec.name}: {value!r} is not a date")
            return value.isoformat()
        case FieldKind.INTEGER:
            if isinstance(value, str) and value.isascii() and value.isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ENAQueryError(f"{spec.name}: {value!r} is not an integer")
            return str(value)
        case FieldKind.DECIMAL:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ENAQueryError(f"{spec.name}: {value!r} is not a number")
            return repr(float(value))
        case FieldKind.VOCABULARY:
            text = value.value if isinstance(value, enum.Enum) else value
            if text not in spec.vocabulary:
                raise ENAQueryError(
                    f"{spec.name}: {value!r} is not one of ENA's values "
                    f"(case-sensitive): {', '.join(sorted(spec.vocabulary))}"
                )
            return f'"{text}"'
        case FieldKind.TEXT:
            if not isinstance(value, str) or not value or _UNSAFE_TEXT.search(value):
                raise ENAQueryError(
                    f"{spec.name}: {value!r} must be non-empty text without quotes, backslashes "
                    "or control characters"
                )
            return f'"{value}"'
    raise AssertionError(f"unhandled field kind {spec.kind}")  # pragma: no cover


class ENAQuery(ABC):
    """An immutable, validated ENA query. Combine with ``&``, ``|`` and ``~``."""

    @abstractmethod
    def render(self) -> str:
        """The query text sent as the ``query`` parameter."""

    @abstractmethod
    def fields(self) -> Iterator[str]:
        """The field names the query uses."""

    def __str__(self) -> str:
        return self.render()

    def __and__(self, other: ENAQuery) -> ENAQuery:
        return ENAQuery.and_(self, other)

    def __or__(self, other: ENAQuery) -> ENAQuery:
        return ENAQuery.or_(self, other)

    def __invert__(self) -> ENAQuery:
        return ENAQuery.not_(self)

    def validate_for(self, result: ENAResult) -> None:
        """Check that ``result`` offers every field the query uses.

        :raises ENAQueryError: naming the fields it does not offer.
        """
        missing = sorted({name for name in self.fields() if name not in RESULT_FIELDS[result]})
        if missing:
            raise ENAQueryError(f"result={result.value} has no field(s) {', '.join(missing)}")

    # -- constructors -----------------------------------------------------------------------

    @staticmethod
    def eq(field: str, value: object) -> ENAQuery:
        """``field="value"`` (``field=value`` for dates and numbers)."""
        return _Condition.build(field, Comparison.EQ, value)

    @staticmethod
    def gte(field: str, value: object) -> ENAQuery:
        """``field>=value`` for a date or numeric field."""
        return _Condition.build(field, Comparison.GTE, value)

    @staticmethod
    def lte(field: str, value: object) -> ENAQuery:
        """``field<=value`` for a date or numeric field."""
        return _Condition.build(field, Comparison.LTE, value)

    @staticmethod
    def and_(*queries: ENAQuery) -> ENAQuery:
        """All of ``queries``."""
        return _Combination.build("AND", queries)

    @staticmethod
    def or_(*queries: ENAQuery) -> ENAQuery:
        """Any of ``queries``."""
        return _Combination.build("OR", queries)

    @staticmethod
    def not_(query: ENAQuery) -> ENAQuery:
        """Not ``query``."""
        if not isinstance(query, ENAQuery):
            raise ENAQueryError(f"NOT needs a query, got {query!r}")
        return _Negation(query)

    @staticmethod
    def tax_tree(tax_id: int) -> ENAQuery:
        """``tax_tree(id)``: records whose taxon is ``tax_id`` or below it."""
        if isinstance(tax_id, bool) or not isinstance(tax_id, int) or tax_id <= 0:
            raise ENAQueryError(f"tax_tree: {tax_id!r} is not a positive NCBI taxon id")
        return _TaxTree(tax_id)

    @staticmethod
    def any_of(field: str, values: Iterable[object]) -> ENAQuery:
        """``(field="a" OR field="b" …)``.

        :raises ENAQueryError: if ``values`` is empty (an empty OR would match nothing or
            everything, depending on who reads it).
        """
        return ENAQuery.or_(*(ENAQuery.eq(field, value) for value in values))

    @staticmethod
    def for_study(accession: str) -> ENAQuery:
        """``(study_accession="X" OR secondary_study_accession="X")``: a study's records, whichever
        kind of study accession X is (as MGnify has always queried ENA)."""
        return ENAQuery.eq(STUDY_ACCESSION, accession) | ENAQuery.eq(
            SECONDARY_STUDY_ACCESSION, accession
        )


@dataclass(frozen=True)
class _Condition(ENAQuery):
    field: str
    comparison: Comparison
    rendered_value: str

    @classmethod
    def build(cls, field: str, comparison: Comparison, value: object) -> _Condition:
        spec = _field_spec(field)
        if comparison is not Comparison.EQ and spec.kind not in _ORDERED_KINDS:
            raise ENAQueryError(f"{field}: {comparison.value} needs a date or numeric field")
        return cls(field, comparison, _render_value(spec, value))

    def render(self) -> str:
        return f"{self.field}{self.comparison.value}{self.rendered_value}"

    def fields(self) -> Iterator[str]:
        yield self.field


@dataclass(frozen=True)
class _Combination(ENAQuery):
    operator: str
    parts: tuple[ENAQuery, ...]

    @classmethod
    def build(cls, operator: str, queries: Iterable[ENAQuery]) -> ENAQuery:
        parts: list[ENAQuery] = []
        for query in queries:
            if not isinstance(query, ENAQuery):
                raise ENAQueryError(f"{operator} needs queries, got {query!r}")
            # Flatten (a AND b) AND c into one level: shorter queries, same meaning.
            if isinstance(query, _Combination) and query.operator == operator:
                parts.extend(query.parts)
            else:
                parts.append(query)
        if not parts:
            raise ENAQueryError(f"{operator} needs at least one query")
        if len(parts) == 1:
            return parts[0]
        return cls(operator, tuple(parts))

    def render(self) -> str:
        return "(" + f" {self.operator} ".join(part.render() for part in self.parts) + ")"

    def fields(self) -> Iterator[str]:
        for part in self.parts:
            yield from part.fields()


@dataclass(frozen=True)
class _Negation(ENAQuery):
    query: ENAQuery

    def render(self) -> str:
        inner = self.query.render()
        # Parenthesise anything but a combination (which already carries its parentheses).
        return f"NOT {inner}" if isinstance(self.query, _Combination) else f"NOT ({inner})"

    def fields(self) -> Iterator[str]:
        yield from self.query.fields()


@dataclass(frozen=True)
class _TaxTree(ENAQuery):
    tax_id: int

    def render(self) -> str:
        return f"tax_tree({self.tax_id})"

    def fields(self) -> Iterator[str]:
        return iter(())
