"""Fixtures of the API tests: a small world of public, private and suppressed objects."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from emg_django.analyses.choices import (
    AnalysisStatus,
    AnnotationType,
    ExperimentType,
    PipelineVersion,
)
from emg_django.analyses.models import Analysis, Assembly, Run, Sample, Study
from emg_django.api.security import issue_token
from emg_django.config import get_config
from tests.factories import (
    make_analysis,
    make_assembly,
    make_download,
    make_run,
    make_sample,
    make_study,
)

API = "/" + get_config().api.prefix
OWNER = "Webin-3001"
STRANGER = "Webin-9999"
MARINE = "root:Environmental:Aquatic:Marine"
SOIL = "root:Environmental:Terrestrial:Soil"

SSU = [
    {"organism": "sk__Bacteria;p__Pseudomonadota", "count": 1532},
    {"organism": "sk__Bacteria;p__Bacteroidota", "count": 811},
    {"organism": "sk__Archaea;p__Thermoproteota", "count": 57},
]
PFAMS = [{"accession": "PF00005", "description": "ABC transporter", "count": 210}]
ANNOTATIONS = {AnnotationType.TAXONOMIES_SSU.value: SSU, AnnotationType.PFAMS.value: PFAMS}


def url(path: str) -> str:
    """The API URL of ``path`` (relative to the API root)."""
    return API + path.lstrip("/")


def bearer(webin_id: str) -> dict[str, str]:
    """Headers of a request with a fresh token of ``webin_id``."""
    return {"Authorization": f"Bearer {issue_token(webin_id).token}"}


@dataclasses.dataclass
class Tree:
    """One study and everything under it."""

    study: Study
    samples: list[Sample]
    runs: list[Run]
    assembly: Assembly
    analyses: list[Analysis]

    @property
    def run_analysis(self) -> Analysis:
        return self.analyses[0]

    @property
    def assembly_analysis(self) -> Analysis:
        return self.analyses[-1]


def make_tree(
    number: int, *, biome: str = MARINE, title: str | None = None, **visibility: Any
) -> Tree:
    """A study ``PRJEB<number>`` with two samples, two runs (METAG, AMPLI), an assembly of the
    first run and three analyses (run 1 by V6, run 2 by V5, the assembly by V6)."""
    study = make_study(
        f"PRJEB{number}",
        secondary=f"ERP{number}",
        title=title or f"Study {number}",
        biome=biome,
        downloads=[make_download(f"PRJEB{number}_summary.tsv", path="study-summaries/summary.tsv")],
        metadata={"centre": "EMBL-EBI"},
        **visibility,
    )
    samples = [
        make_sample(
            study, f"SAMEA{number}{i}", secondary=f"ERS{number}{i}", metadata={"depth": str(i)}
        )
        for i in (1, 2)
    ]
    runs = [
        make_run(study, samples[0], f"ERR{number}1", ExperimentType.METAGENOMIC),
        make_run(
            study,
            samples[1],
            f"ERR{number}2",
            ExperimentType.AMPLICON,
            instrument_model="Illumina MiSeq",
        ),
    ]
    assembly = make_assembly(study, runs[:1], f"ERZ{number}1")
    analyses = [
        make_analysis(
            study,
            run=runs[0],
            pipeline_version=PipelineVersion.V6,
            annotations=ANNOTATIONS,
            downloads=[make_download(f"ERR{number}1_SILVA-SSU.tsv")],
            quality_control={"before_filtering": {"total_reads": 100}},
            status=AnalysisStatus.ANNOTATIONS_IMPORTED,
        ),
        make_analysis(study, run=runs[1], pipeline_version=PipelineVersion.V5),
        make_analysis(
            study, assembly=assembly, pipeline_version=PipelineVersion.V6, annotations=ANNOTATIONS
        ),
    ]
    return Tree(study, samples, runs, assembly, analyses)


@dataclasses.dataclass
class World:
    public: Tree
    soil: Tree
    private: Tree
    suppressed: Tree


@pytest.fixture
def world(db: None) -> World:
    """Two public studies (marine, soil), one private (of ``OWNER``) and one suppressed."""
    return World(
        public=make_tree(1001, title="Marine sediment metagenomes"),
        soil=make_tree(2001, biome=SOIL, title="Grassland soil amplicons"),
        private=make_tree(3001, private=True, owner=OWNER, title="Embargoed wastewater"),
        suppressed=make_tree(4001, suppressed=True, title="Withdrawn study"),
    )
