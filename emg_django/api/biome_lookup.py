"""Biomes by id for the API's items, from a per-process copy of the biome table.

Every study, sample and analysis item carries its biome (name and lineage). Joining the biome
table into each list and detail query adds to Postgres's planning time on every request (the
planner's work grows with the joins: an analysis list had six); the table is small (the GOLD
ontology: hundreds of rows) and its rows do not change once made. So items select ``biome_id``
and look it up here. A biome created since the copy was made is a miss, which reloads the copy
at once; a biome edited in the admin is seen within :data:`BIOME_TTL_SECONDS`.
"""

from __future__ import annotations

import time
from typing import Any

from emg_django.analyses.models import Biome

#: Seconds a process reuses its copy of the biome table before reading it again.
BIOME_TTL_SECONDS = 300.0

Item = dict[str, Any]

_biomes: dict[int, Item] = {}
_loaded_at = float("-inf")


def _reload() -> None:
    global _biomes, _loaded_at
    # A new dict, bound at once: a concurrent reader sees the old copy or the new one.
    _biomes = {
        pk: {"biome_name": name, "lineage": lineage}
        for pk, name, lineage in Biome.objects.values_list("pk", "biome_name", "lineage")
    }
    _loaded_at = time.monotonic()


def biome_by_id(biome_id: int | None) -> Item | None:
    """The API item (``biome_name``, ``lineage``) of the biome ``biome_id``; ``None`` for none."""
    if biome_id is None:
        return None
    item = _biomes.get(biome_id)
    if item is None or time.monotonic() - _loaded_at > BIOME_TTL_SECONDS:
        _reload()
        item = _biomes.get(biome_id)
    return item


def forget_biomes() -> None:
    """Drop the copy (tests that rewrite biomes; the next lookup reloads it)."""
    global _loaded_at
    _biomes.clear()
    _loaded_at = float("-inf")
