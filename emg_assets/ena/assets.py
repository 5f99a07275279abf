"""ENA ingest assets, partitioned by study.

ena_study → ena_samples → ena_read_runs → ena_assemblies.

Each asset fetches from ENA first (no transaction open while waiting on the network), then writes
in one transaction through :mod:`emg_assets.ena.ingest`. Re-materialising a partition changes
nothing; a failure leaves the tables as they were.
"""

# No `from __future__ import annotations` here: Dagster reads config and resource types
# from the function annotations at definition time.

import contextlib
from collections.abc import Iterator
from typing import Any

import dagster as dg
from django.db import close_old_connections
from pydantic import Field

from emg_assets.ena import checks
from emg_assets.ena.client import ENAClient, ENARequestStats
from emg_assets.ena.ingest import (
    RunPolicy,
    WriteReport,
    mark_suppressed,
    study_of,
    write_assemblies,
    write_runs,
    write_samples,
    write_study,
)
from emg_assets.ena.records import ParseProblem
from emg_assets.metadata import Preview, markdown_table
from emg_assets.partitions import ena_studies, validate_study_key
from emg_django.analyses.choices import ExperimentType
from emg_django.analyses.models import Study

GROUP = "ena"
#: Metadata labels.
MGYS = "mgys_accession"
PREVIEW = "preview"
PROBLEMS = "problems_table"
SKIPPED = "skipped_table"
PROBLEM_COLUMNS = ("accession", "field", "value", "reason")


class StudyIngestConfig(dg.Config):
    """What a curator may decide when mirroring a study."""

    webin_owner: str | None = Field(
        default=None,
        description="Webin account owning a private study (ENA does not publish it). "
        "Empty keeps the owner already recorded.",
    )


class SampleIngestConfig(dg.Config):
    sample_limit: int = Field(
        default=0, ge=0, description="Mirror at most this many samples (0 = all)."
    )


class RunIngestConfig(dg.Config):
    """Library policies: which runs to mirror, and how to type them."""

    library_strategies: list[str] | None = Field(
        default=None,
        description='Keep only these library strategies, e.g. ["AMPLICON", "WGS"] (empty: all).',
    )
    library_sources: list[str] | None = Field(
        default=None,
        description='Keep only these library sources, e.g. ["METAGENOMIC"] (empty: all).',
    )
    experiment_type_overrides: dict[str, str] = Field(
        default_factory=dict,
        description='Experiment type per "STRATEGY/SOURCE" ("*" for any), '
        'e.g. {"WGS/GENOMIC": "UNKNO"}.',
    )

    def policy(self) -> RunPolicy:
        """The curator's policy; bad override keys or types fail with a message."""
        overrides = {}
        for rule, code in self.experiment_type_overrides.items():
            strategy, slash, source = rule.partition("/")
            if not slash or code not in ExperimentType.values:
                raise dg.Failure(
                    f"experiment_type_overrides: {rule!r}: {code!r} must map "
                    "'STRATEGY/SOURCE' to one of "
                    f"{sorted(ExperimentType.values)}"
                )
            overrides[
                (None if strategy == "*" else strategy, None if source == "*" else source)
            ] = ExperimentType(code)
        return RunPolicy(
            library_strategies=frozenset(self.library_strategies)
            if self.library_strategies
            else None,
            library_sources=frozenset(self.library_sources) if self.library_sources else None,
            experiment_types=overrides,
        )


def _study(context: dg.AssetExecutionContext) -> Study:
    key = validate_study_key(context.partition_key)
    close_old_connections()
    study = study_of(key)
    if study is None:
        raise dg.Failure(
            f"study {key} is not mirrored yet: materialise ena_study for this partition first"
        )
    return study


def _problems(rows: list[ParseProblem]) -> dg.MetadataValue:
    return markdown_table([row._asdict() for row in rows], PROBLEM_COLUMNS)


def _metadata(
    study: Study,
    report: WriteReport,
    spent: ENARequestStats,
    preview: dg.MetadataValue,
    parse_problems: list[ParseProblem],
) -> dict[str, Any]:
    problems = report.problems + parse_problems
    return {
        MGYS: study.accession,
        **report.metadata(),
        "problems": len(problems),
        **spent.as_metadata(),
        PREVIEW: preview,
        PROBLEMS: _problems(problems),
        SKIPPED: _problems(report.skipped),
    }


@dg.asset(
    partitions_def=ena_studies,
    group_name=GROUP,
    kinds={"ena", "postgres"},
    description="The ENA study and its MGnify study (MGYS), with privacy and suppression from ENA.",
)
def ena_study(
    context: dg.AssetExecutionContext, config: StudyIngestConfig, ena: ENAClient
) -> dg.MaterializeResult:
    key = validate_study_key(context.partition_key)
    before = ena.stats.snapshot()
    record = ena.get_study(key)
    close_old_connections()
    if record is not None and record.is_private:
        known = study_of(key)
        if known is not None and not known.ena_study.is_private:
            # ENA does not take public data back. An empty answer to the anonymous search (ENA
            # sends "no rows" as 204 too) would otherwise hide a public study and all its runs:
            # ask again before believing it.
            record = ena.get_study(key)
            if record is not None and record.is_private:
                context.log.warning(
                    f"{key} was public and ENA now shows it only to the data-hub account: "
                    "marking it private"
                )
    spent = ena.stats.snapshot() - before
    if record is None:
        known = study_of(key)
        if known is None:
            raise dg.Failure(
                f"ENA has no study {key} (neither public nor visible to the data-hub account): "
                "unknown, suppressed, or private to another account"
            )
        changed = mark_suppressed(known)
        context.log.warning(
            f"{key} is no longer served by ENA: suppressed {known.accession} ({changed} rows)"
        )
        return dg.MaterializeResult(
            metadata={MGYS: known.accession, "suppressed": True, **spent.as_metadata()}
        )
    if record.study_accession != key and context.instance.has_dynamic_partition(
        ena_studies.name, record.study_accession
    ):
        raise dg.Failure(
            f"{key} is a secondary accession of {record.study_accession}, "
            "which is already a partition: "
            f"materialise {record.study_accession} instead (one partition per study)"
        )
    study, report = write_study(record, webin_owner=config.webin_owner)
    preview = markdown_table(
        [
            {
                "MGYS": study.accession,
                "accessions": ", ".join(record.accessions),
                "title": study.title,
                "private": record.is_private,
                "first_public": record.first_public,
            }
        ],
        ("MGYS", "accessions", "title", "private", "first_public"),
    )
    return dg.MaterializeResult(metadata=_metadata(study, report, spent, preview, record.problems))


@dg.asset(
    partitions_def=ena_studies,
    group_name=GROUP,
    deps=[ena_study],
    kinds={"ena", "postgres"},
    description="The study's samples (ENA mirrors and MGnify samples), linked to the study.",
)
def ena_samples(
    context: dg.AssetExecutionContext, config: SampleIngestConfig, ena: ENAClient
) -> dg.MaterializeResult:
    study = _study(context)
    before = ena.stats.snapshot()
    # The answer is downloaded here; records are parsed and written a chunk at a time.
    parsed = ena.stream_samples(
        study.ena_study.accession,
        limit=config.sample_limit,
        authenticated=study.ena_study.is_private,
    )
    with contextlib.closing(parsed):
        close_old_connections()
        seen = Preview(parsed)
        report = write_samples(study, seen)
    spent = ena.stats.snapshot() - before  # rows are counted as they are read
    preview = markdown_table(
        [
            {
                "accession": r.sample_accession,
                "title": r.sample_title,
                "collection_date": r.collection_date,
                "country": r.country,
            }
            for r in seen.first
        ],
        ("accession", "title", "collection_date", "country"),
        total=seen.total,
    )
    return dg.MaterializeResult(metadata=_metadata(study, report, spent, preview, parsed.problems))


@dg.asset(
    partitions_def=ena_studies,
    group_name=GROUP,
    deps=[ena_samples],
    kinds={"ena", "postgres"},
    description="The study's read runs with their fastq files; experiment type from the library.",
    check_specs=checks.RUN_CHECKS,
)
def ena_read_runs(
    context: dg.AssetExecutionContext, config: RunIngestConfig, ena: ENAClient
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    policy = config.policy()
    study = _study(context)
    before = ena.stats.snapshot()
    parsed = ena.stream_read_runs(
        study.ena_study.accession, authenticated=study.ena_study.is_private
    )
    with contextlib.closing(parsed):
        close_old_connections()
        seen = Preview(parsed)
        report = write_runs(study, seen, policy)
    spent = ena.stats.snapshot() - before  # rows are counted as they are read
    preview = markdown_table(
        [
            {
                "accession": r.run_accession,
                "strategy": r.library_strategy,
                "source": r.library_source,
                "layout": r.library_layout,
                "instrument": r.instrument_model,
                "files": len(r.fastq_ftp),
            }
            for r in seen.first
        ],
        ("accession", "strategy", "source", "layout", "instrument", "files"),
        total=seen.total,
    )
    yield dg.MaterializeResult(metadata=_metadata(study, report, spent, preview, parsed.problems))
    yield from checks.run_checks(study, report)


@dg.asset(
    partitions_def=ena_studies,
    group_name=GROUP,
    deps=[ena_read_runs],
    kinds={"ena", "postgres"},
    description="The study's primary metagenome assemblies (ERZ…), "
    "linked to the runs they came from.",
)
def ena_assemblies(context: dg.AssetExecutionContext, ena: ENAClient) -> dg.MaterializeResult:
    study = _study(context)
    before = ena.stats.snapshot()
    parsed = ena.get_assemblies(study.ena_study.accession, authenticated=study.ena_study.is_private)
    spent = ena.stats.snapshot() - before
    close_old_connections()
    report = write_assemblies(study, parsed.records)
    preview = markdown_table(
        [
            {
                "accession": r.analysis_accession,
                "runs": ";".join(r.run_accession),
                "software": r.assembly_software,
            }
            for r in parsed.records
        ],
        ("accession", "runs", "software"),
    )
    return dg.MaterializeResult(metadata=_metadata(study, report, spent, preview, parsed.problems))


INGEST_ASSETS = (ena_study, ena_samples, ena_read_runs, ena_assemblies)
