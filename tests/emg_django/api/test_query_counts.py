"""List endpoints make a constant number of queries as rows grow, and never load annotations."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from emg_django.analyses.choices import ExperimentType, PipelineVersion
from emg_django.api.biome_lookup import forget_biomes
from tests.emg_django.api.conftest import OWNER, Tree, World, bearer, make_tree, url
from tests.factories import make_analysis, make_assembly, make_run, make_sample

pytestmark = pytest.mark.django_db

#: Count + page; nested lists add one lookup of their parent.
MAX_LIST_QUERIES = 3

LISTS = {
    "studies": lambda w: (
        "studies/?biome_lineage=root:Environmental&has_analyses_from_pipeline=V6&search=Study"
    ),
    "samples": lambda w: "samples/?biome_lineage=root:Environmental&search=sample",
    "runs": lambda w: "runs/?has_experiment_type=METAG",
    "assemblies": lambda w: "assemblies/",
    "analyses": lambda w: "analyses/?pipeline_version=V6",
    "biomes": lambda w: "biomes/?biome_lineage=root",
    "study_analyses": lambda w: f"studies/{w.public.study.accession}/analyses/",
    "study_samples": lambda w: f"studies/{w.public.study.accession}/samples/",
    "sample_runs": lambda w: f"samples/{w.public.samples[0].accession}/runs/",
    "sample_assemblies": lambda w: f"samples/{w.public.samples[0].accession}/assemblies/",
    "run_analyses": lambda w: f"runs/{w.public.runs[0].accession}/analyses/",
    "run_assemblies": lambda w: f"runs/{w.public.runs[0].accession}/assemblies/",
    "assembly_analyses": lambda w: f"assemblies/{w.public.assembly.accession}/analyses",
    "annotations_of_type": lambda w: (
        f"analyses/{w.public.run_analysis.accession}/annotations/taxonomies__ssu"
    ),
    "my_studies": lambda w: "my-data/studies/",
}


def _grow(tree: Tree, extra: int) -> None:
    """More of everything under ``tree`` (and more trees), reachable from each nested list."""
    study, sample, run, assembly = tree.study, tree.samples[0], tree.runs[0], tree.assembly
    for i in range(extra):
        new_sample = make_sample(study, f"SAMEA9{study.pk}{i}")
        new_run = make_run(study, sample, f"ERR9{study.pk}{i}", ExperimentType.METAGENOMIC)
        make_run(study, new_sample, f"ERR8{study.pk}{i}", ExperimentType.METAGENOMIC)
        make_analysis(study, run=new_run, pipeline_version=PipelineVersion.V6)
        make_assembly(study, [run], f"ERZ9{study.pk}{i}", sample=sample)
    for version in (PipelineVersion.V1, PipelineVersion.V2, PipelineVersion.V3, PipelineVersion.V4):
        make_analysis(study, assembly=assembly, pipeline_version=version)
        make_analysis(study, run=run, pipeline_version=version)
    for i in range(extra):
        make_tree(7000 + i, private=True, owner=OWNER)
        make_tree(8000 + i)


def _is_biome_copy_load(sql: str) -> bool:
    """The API's per-process copy of the biome table loading (once, not per row)."""
    return sql.startswith('SELECT "analyses_biome"."id"') and "WHERE" not in sql


def _measure(client, path: str) -> tuple[int, int, list[str]]:
    forget_biomes()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(path), {"page_size": 250}, headers=bearer(OWNER))
    assert response.status_code == 200, (path, response.content)
    statements = [query["sql"] for query in queries]
    assert sum(map(_is_biome_copy_load, statements)) <= 1, statements
    statements = [sql for sql in statements if not _is_biome_copy_load(sql)]
    return len(statements), len(response.json()["items"]), statements


def test_list_query_counts_do_not_grow_with_rows(client, world: World) -> None:
    before = {name: _measure(client, path(world)) for name, path in LISTS.items()}
    _grow(world.public, extra=6)
    after = {name: _measure(client, path(world)) for name, path in LISTS.items()}
    for name in LISTS:
        (queries_before, items_before, _), (queries_after, items_after, sql) = (
            before[name],
            after[name],
        )
        assert queries_after == queries_before <= MAX_LIST_QUERIES, (name, sql)
        if name not in ("annotations_of_type", "biomes"):
            assert items_after > items_before, name
        if name != "annotations_of_type":
            assert not any('"annotations"' in statement for statement in sql), (name, sql)


def test_the_count_query_has_no_joins(client, world: World) -> None:
    _, _, sql = _measure(client, "analyses/")
    count = next(statement for statement in sql if "COUNT(" in statement.upper())
    assert "JOIN" not in count.upper(), count
