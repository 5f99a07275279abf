"""Query building shared by the resources: visibility, lookups, biome, search and ordering.

Every queryset the API reads starts at :func:`visible`, so privacy and suppression apply to
lists, details, nested lists and annotations alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from emg_django.analyses.models import Biome
from emg_django.api.accessions import AccessionKind, shown
from emg_django.api.errors import bad_request, not_found
from emg_django.api.security import caller_of

ModelT = TypeVar("ModelT", bound=Model)
#: Longest free-text search.
MAX_SEARCH_LENGTH = 200
#: The tie-breaker appended to every ordering, so pages never overlap.
TIE_BREAKER = "-id"


def visible(model: type[ModelT], request: HttpRequest) -> QuerySet[ModelT]:
    """``model``'s objects the caller of ``request`` may see."""
    caller = caller_of(request)
    return model.objects.visible_to(  # type: ignore[attr-defined]
        caller.webin_id, is_admin=caller.is_admin
    )


def visible_pk(queryset: QuerySet, what: str) -> int:
    """The primary key of the one object of ``queryset``, or a 404 naming ``what``."""
    pk = queryset.values_list("pk", flat=True).first()
    if pk is None:
        raise not_found(f"No {what}")
    return pk


def first_row(queryset: QuerySet, fields: Sequence[str], what: str) -> dict[str, Any]:
    """The one row (``values()`` of ``fields``) of ``queryset``, or a 404 naming ``what``."""
    row = queryset.values(*fields).first()
    if row is None:
        raise not_found(f"No {what}")
    return row


def in_biome(queryset: QuerySet, lineage: str | None, field: str = "biome") -> QuerySet:
    """Objects whose biome is at or under ``lineage``: a subquery on biome ids, no join."""
    if not lineage:
        return queryset
    return queryset.filter(**{f"{field}__in": Biome.objects.under(lineage).values("pk")})


def clean_text(value: str | None, name: str, max_length: int = MAX_SEARCH_LENGTH) -> str | None:
    """A free-text parameter, stripped; ``None`` when empty.

    :raises HttpError: 400 when it is too long or holds control characters.
    """
    if value is None:
        return None
    if len(value) > max_length:
        raise bad_request(f"{name}: at most {max_length} characters")
    if any(ord(char) < 32 for char in value):
        raise bad_request(f"{name}: control characters are not allowed in {shown(value)}")
    return value.strip() or None


#: How an accession-shaped search term becomes a condition.
AccessionSearch = tuple[AccessionKind | Callable[[str], bool], Callable[[str], Q]]


def search(
    queryset: QuerySet, term: str | None, by_accession: Sequence[AccessionSearch], title: str
) -> QuerySet:
    """Filter by ``term``: exact accession lookups when it is accession-shaped, else title text.

    :param by_accession: pairs of (accession kind or predicate, condition builder); the first
        that matches the upper-cased term decides.
    :param title: the text field searched (``icontains``) otherwise.
    """
    term = clean_text(term, "search")
    if term is None:
        return queryset
    upper = term.upper()
    for kind, condition in by_accession:
        matches = kind.matches(upper) if isinstance(kind, AccessionKind) else kind(upper)
        if matches:
            return queryset.filter(condition(upper))
    return queryset.filter(**{f"{title}__icontains": term})


def ordered(
    queryset: QuerySet, order: str | None, columns: Mapping[str, str], default: str
) -> QuerySet:
    """Order by one of the API's order keys (``accession``, ``-updated_at``…).

    :param columns: API key (without ``-``) → model column.
    :param default: the ordering when ``order`` is empty.
    """
    key = order or default
    descending = key.startswith("-")
    column = columns.get(key.lstrip("-"))
    if column is None:
        allowed = ", ".join(sorted({*columns, *(f"-{name}" for name in columns)}))
        raise bad_request(f"order: unknown value {shown(key)}; expected one of {allowed}")
    fields = [f"-{column}" if descending else column]
    if column != "id":
        fields.append(TIE_BREAKER)
    return queryset.order_by(*fields)
