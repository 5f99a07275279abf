"""Property: no public endpoint ever shows a private (not the caller's) or suppressed object.

Hypothesis builds worlds of study trees (``make_tree``: study, samples, runs, an assembly and
analyses) with random privacy, suppression and Webin owners, cross-links some of them (a sample
shared with another study, an assembly of another study's run or with another study as its reads
study), then asks every list, detail, nested and annotation endpoint anonymously and as each
Webin owner. No accession of an object hidden from the caller may appear anywhere in any
response; the objects the caller may see (public ones, their own private non-suppressed ones)
are found. Each example runs in a savepoint rolled back afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from emg_django.config import get_config
from tests.emg_django.api.conftest import Tree, bearer, make_tree, url
from tests.emg_django.api.endpoints import LIST_ENDPOINTS, OBJECT_ENDPOINTS

pytestmark = pytest.mark.django_db

OWNERS = ("Webin-7001", "Webin-7002")
#: Who asks: anonymous (``None``) and each owner (a stranger to the other owner's data).
CALLERS: tuple[str | None, ...] = (None, *OWNERS)
MAX_PAGE_SIZE = get_config().api.max_page_size
#: Tree numbers far from the fixtures' (``PRJEB<number>``, ``ERR<number>1``…).
FIRST_NUMBER = 61001
TOKEN = re.compile(r"[A-Za-z0-9_]+")


@dataclasses.dataclass(frozen=True)
class Visibility:
    private: bool
    suppressed: bool
    owner: str

    def visible_to(self, caller: str | None) -> bool:
        return not self.suppressed and (not self.private or self.owner == caller)


@dataclasses.dataclass(frozen=True)
class Links:
    """Cross-links from tree ``source`` to tree ``target`` (indices into the world's trees)."""

    source: int
    target: int
    shared_sample: bool  # the source's first sample is also in the target's study
    reads_study: bool  # the source's assembly names the target's study as its reads study
    foreign_run: bool  # the source's assembly is also made from the target's first run
    foreign_sample: bool  # the source's assembly is of the target's first sample


visibilities = st.builds(
    Visibility, private=st.booleans(), suppressed=st.booleans(), owner=st.sampled_from(OWNERS)
)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Visibility], list[Links]]:
    trees = draw(st.lists(visibilities, min_size=1, max_size=3))
    index = st.integers(0, len(trees) - 1)
    links = draw(
        st.lists(
            st.builds(
                Links,
                source=index,
                target=index,
                shared_sample=st.booleans(),
                reads_study=st.booleans(),
                foreign_run=st.booleans(),
                foreign_sample=st.booleans(),
            ).filter(lambda link: link.source != link.target),
            max_size=2 if len(trees) > 1 else 0,
        )
    )
    return trees, links


def _build(visibility: list[Visibility], links: list[Links]) -> list[Tree]:
    trees = [
        make_tree(
            FIRST_NUMBER + 1000 * i,
            private=flags.private,
            suppressed=flags.suppressed,
            owner=flags.owner,
        )
        for i, flags in enumerate(visibility)
    ]
    for link in links:
        source, target = trees[link.source], trees[link.target]
        if link.shared_sample:
            source.samples[0].studies.add(target.study)
        if link.reads_study:
            source.assembly.reads_study = target.study
            source.assembly.save(update_fields=["reads_study"])
        if link.foreign_run:
            source.assembly.runs.add(target.runs[0])
        if link.foreign_sample:
            source.assembly.sample = target.samples[0]
            source.assembly.save(update_fields=["sample"])
    return trees


def _accessions(tree: Tree) -> set[str]:
    """Every accession that names an object of ``tree`` (MGnify and ENA ones)."""
    return {
        tree.study.accession,
        *tree.study.ena_accessions,
        *(accession for sample in tree.samples for accession in sample.ena_accessions),
        *(run.accession for run in tree.runs),
        tree.assembly.accession,
        *(analysis.accession for analysis in tree.analyses),
    }


def _tokens(body: Any) -> set[str]:
    """The words of every string in a JSON body (an accession inside a URL counts).

    Only successful responses are searched: a 404's message repeats the accession asked for.
    """
    return set(TOKEN.findall(json.dumps(body)))


def _get(client, path: str, caller: str | None, **params: Any):
    return client.get(url(path), params, headers=bearer(caller) if caller else {})


def _check_world(
    client, trees: list[Tree], visibility: list[Visibility], links: list[Links]
) -> None:
    for caller in CALLERS:
        hidden = {
            accession
            for tree, flags in zip(trees, visibility, strict=True)
            if not flags.visible_to(caller)
            for accession in _accessions(tree)
        }
        seen: set[str] = set()

        for tree, flags in zip(trees, visibility, strict=True):
            for name, endpoint in OBJECT_ENDPOINTS.items():
                response = _get(client, endpoint(tree), caller)
                expected = 200 if flags.visible_to(caller) else 404
                assert response.status_code == expected, (name, caller, flags, response.content)
                if expected == 200:
                    seen |= _tokens(response.json())
                else:  # the message repeats the accession asked for, and says nothing else
                    assert set(response.json()) == {"detail"}
            for name, (path, query, listed) in LIST_ENDPOINTS.items():
                response = _get(client, path, caller, page_size=MAX_PAGE_SIZE, **query(tree))
                assert response.status_code == 200, (name, caller, response.content)
                items = {item["accession"] for item in response.json()["items"]}
                if flags.visible_to(caller):
                    assert listed(tree) <= items, (name, caller, flags)
                seen |= _tokens(response.json())

        if caller is not None:
            response = _get(client, "my-data/studies/", caller, page_size=MAX_PAGE_SIZE)
            mine = {item["accession"] for item in response.json()["items"]}
            assert mine == {
                tree.study.accession
                for tree, flags in zip(trees, visibility, strict=True)
                if flags.private and flags.visible_to(caller)
            }
            seen |= _tokens(response.json())

        leaked = hidden & seen
        assert not leaked, (caller, visibility, links, leaked)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    # No shrinking: the failure message names the world (shrinking takes minutes here).
    phases=[Phase.explicit, Phase.generate],
    database=None,
    # ``client`` is function-scoped on purpose: each example rolls its own data back.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_no_endpoint_shows_hidden_objects(client, world) -> None:
    visibility, links = world
    with transaction.atomic():
        trees = _build(visibility, links)
        _check_world(client, trees, visibility, links)
        transaction.set_rollback(True)


@pytest.mark.parametrize("hidden", [{"private": True, "owner": OWNERS[0]}, {"suppressed": True}])
def test_assembly_detail_does_not_name_a_hidden_reads_study_or_sample(client, hidden) -> None:
    """Found by the property above: a public assembly named its hidden reads study and sample."""
    reads = make_tree(FIRST_NUMBER, **hidden)
    assembly = make_tree(FIRST_NUMBER + 1000).assembly
    assembly.reads_study, assembly.sample = reads.study, reads.samples[0]
    assembly.save(update_fields=["reads_study", "sample"])
    path = f"assemblies/{assembly.accession}"

    for caller in (None, OWNERS[1]):
        body = _get(client, path, caller).json()
        assert body["reads_study_accession"] is None and body["sample_accession"] is None
        assert not _tokens(body) & _accessions(reads)
    if "owner" in hidden:
        body = _get(client, path, OWNERS[0]).json()
        assert body["reads_study_accession"] == reads.study.accession
        assert body["sample_accession"] == reads.samples[0].accession
