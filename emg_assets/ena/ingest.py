"""ENA records → the tables the API serves, through the bulk upsert helpers.

Each ``write_*`` function writes one kind of object for one study in a single transaction: a
failure leaves the tables as they were, and writing the same records again changes nothing.
Fetching from ENA happens before, outside the transaction (never hold a transaction open while
waiting on the network).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from emg_assets.ena.records import (
    ENAAssemblyRecord,
    ENAReadRunRecord,
    ENASampleRecord,
    ENAStudyRecord,
    ParseProblem,
)
from emg_django.analyses.choices import ExperimentType
from emg_django.analyses.experiment_types import ExperimentTypeRule, infer_experiment_type
from emg_django.analyses.models import Analysis, Assembly, Run, Sample, Study
from emg_django.analyses.visibility import propagate_visibility
from emg_django.core.bulk import UpsertResult, bulk_link, bulk_upsert, ids_by_key
from emg_django.ena import models as ena_models

#: Records written at a time: a study's hundreds of thousands of runs are never all in memory.
WRITE_CHUNK = 5_000

ItemT = TypeVar("ItemT")

#: Software names as ENA writes them in ``assembly_software`` (``metaSPAdes v3.15.3``).
ASSEMBLER_VERSION_SEPARATORS = (" v", " ", "/")
MD5 = re.compile(r"[0-9a-f]{32}")


@dataclasses.dataclass
class WriteReport:
    """What a write did, for materialisation metadata."""

    counts: dict[str, UpsertResult] = dataclasses.field(default_factory=dict)
    #: Objects left out, and why.
    skipped: list[ParseProblem] = dataclasses.field(default_factory=list)
    #: Values dropped from objects that were written.
    problems: list[ParseProblem] = dataclasses.field(default_factory=list)

    def metadata(self) -> dict[str, int]:
        values: dict[str, int] = {}
        for kind, result in self.counts.items():
            values.update(result.as_metadata(prefix=f"{kind}_"))
        values["skipped"] = len(self.skipped)
        values["problems"] = len(self.problems)
        return values


def _ena_url(path: str) -> str:
    """ENA's own form of a file path: no scheme (``ftp.sra.ebi.ac.uk/vol1/…``)."""
    return path.split("://", 1)[-1]


def study_of(accession: str) -> Study | None:
    """The MGnify study mirroring the ENA study with this (primary or secondary) accession."""
    return (
        Study.objects.select_related("ena_study")
        .filter(ena_accessions__has_accession=accession)
        .first()
    )


def write_study(
    record: ENAStudyRecord, *, webin_owner: str | None = None, suppressed: bool = False
) -> tuple[Study, WriteReport]:
    """Upsert the ENA study and its MGnify study (MGYS), then propagate visibility.

    :param webin_owner: the Webin account owning a private study (ENA's Portal API does not tell);
        ``None`` keeps what the database has (a curator may have set it).
    :param suppressed: ENA no longer serves the study.
    """
    report = WriteReport()
    now = timezone.now()
    ena_row: dict[str, Any] = {
        "accession": record.study_accession,
        "additional_accessions": [
            a for a in record.secondary_study_accession if a != record.study_accession
        ],
        "title": record.study_title or record.study_name or "",
        "metadata": record.raw,
        "is_private": record.is_private,
        "is_suppressed": suppressed,
    }
    if webin_owner is not None:
        ena_row["webin_submitter"] = webin_owner
    with transaction.atomic():
        report.counts["ena_study"] = bulk_upsert(
            ena_models.Study, [ena_row], unique_field="accession"
        )
        ena_study = ena_models.Study.objects.get(accession=record.study_accession)
        ena_models.Study.objects.filter(pk=ena_study.pk).update(fetched_at=now)
        study_row = {
            "ena_study_id": ena_study.pk,
            "ena_accessions": record.accessions,
            "title": ena_row["title"],
            **ena_study.visibility(),
        }
        # The biome, watchers and results are curation: an ingest never overwrites them.
        report.counts["study"] = bulk_upsert(Study, [study_row], unique_field="ena_study_id")
        propagate_visibility([ena_study.pk])
    return Study.objects.select_related("ena_study").get(ena_study=ena_study), report


def mark_suppressed(study: Study) -> int:
    """ENA no longer serves the study: suppress it and everything under it."""
    with transaction.atomic():
        ena_models.Study.objects.filter(pk=study.ena_study_id).update(
            is_suppressed=True, updated_at=timezone.now()
        )
        return propagate_visibility([study.ena_study_id])


def chunked(items: Iterable[ItemT], size: int | None = None) -> Iterator[list[ItemT]]:
    """``items`` in lists of up to ``size`` (default :data:`WRITE_CHUNK`)."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size or WRITE_CHUNK)):
        yield chunk


def _first_seen(accessions: list[str], seen: set[str], kind: str) -> list[str]:
    """``accessions``, after checking that none came before in the answer (added to ``seen``).

    :raises ValueError: on a repeated accession, as a single bulk write would.
    """
    repeated = sorted({a for a in accessions if a in seen} | _repeats(accessions))
    if repeated:
        raise ValueError(f"duplicate {kind} accession in ENA's answer: {repeated[:5]}")
    seen.update(accessions)
    return accessions


def _repeats(accessions: list[str]) -> set[str]:
    once: set[str] = set()
    return {a for a in accessions if a in once or once.add(a)}  # type: ignore[func-returns-value]


def ena_sample_row(
    record: ENASampleRecord, ena_study_id: int, visibility: dict[str, Any]
) -> dict[str, Any]:
    """The ``ena.Sample`` row of a sample record."""
    return {
        "accession": record.sample_accession,
        "additional_accessions": record.secondary_sample_accession,
        "title": record.sample_title or record.sample_alias or "",
        "metadata": record.raw,
        "study_id": ena_study_id,
        **visibility,
    }


def sample_row(
    record: ENASampleRecord, ena_sample_id: int, visibility: dict[str, Any]
) -> dict[str, Any]:
    """The MGnify ``Sample`` row of a sample record."""
    return {
        "accession": record.sample_accession,
        "ena_sample_id": ena_sample_id,
        "ena_accessions": [record.sample_accession, *record.secondary_sample_accession],
        "sample_title": record.sample_title or record.sample_alias or "",
        "metadata": record.raw,
        **visibility,
    }


def write_samples(study: Study, records: Iterable[ENASampleRecord]) -> WriteReport:
    """Upsert the study's ENA samples and MGnify samples, linked to the study, a chunk of
    records at a time, all in one transaction."""
    report = WriteReport()
    visibility = study.ena_study.visibility()
    now = timezone.now()
    ena_counts = sample_counts = UpsertResult()
    seen: set[str] = set()
    with transaction.atomic():
        for chunk in chunked(records):
            _first_seen([r.sample_accession for r in chunk], seen, "sample")
            ena_rows = [ena_sample_row(r, study.ena_study_id, visibility) for r in chunk]
            ena_counts += bulk_upsert(ena_models.Sample, ena_rows, unique_field="accession")
            accessions = [r.sample_accession for r in chunk]
            ena_ids = ids_by_key(ena_models.Sample, "accession", accessions)
            rows = [sample_row(r, ena_ids[r.sample_accession], visibility) for r in chunk]
            sample_counts += bulk_upsert(Sample, rows, unique_field="accession")
            sample_ids = ids_by_key(Sample, "accession", accessions)
            bulk_link(
                Sample.studies.through,
                [(pk, study.pk) for pk in sample_ids.values()],
                fields=("sample_id", "study_id"),
            )
        # Bookkeeping, not data: written apart so that it never counts as a change.
        ena_models.Sample.objects.filter(study=study.ena_study_id).update(fetched_at=now)
    report.counts["ena_samples"] = ena_counts
    report.counts["samples"] = sample_counts
    return report


@dataclasses.dataclass(frozen=True)
class RunPolicy:
    """What a curator decides about a study's runs.

    :param library_strategies: keep only runs of these strategies (``None``: all).
    :param library_sources: keep only runs of these sources (``None``: all).
    :param experiment_types: overrides of the experiment-type rules, ``(strategy, source)`` → type.
    """

    library_strategies: frozenset[str] | None = None
    library_sources: frozenset[str] | None = None
    experiment_types: Mapping[ExperimentTypeRule, ExperimentType] = dataclasses.field(
        default_factory=dict
    )

    def refusal(self, record: ENAReadRunRecord) -> str | None:
        """Why a run is left out, or ``None`` when it is kept."""
        if (
            self.library_strategies is not None
            and (record.library_strategy or "") not in self.library_strategies
        ):
            allowed = sorted(self.library_strategies)
            return f"library strategy {record.library_strategy!r} is not among {allowed}"
        if (
            self.library_sources is not None
            and (record.library_source or "") not in self.library_sources
        ):
            allowed = sorted(self.library_sources)
            return f"library source {record.library_source!r} is not among {allowed}"
        return None


def run_row(
    record: ENAReadRunRecord,
    study_id: int,
    sample_id: int,
    policy: RunPolicy,
    visibility: dict[str, Any],
    report: WriteReport,
) -> dict[str, Any]:
    """The ``Run`` row of a read-run record (a bad fastq md5 is dropped and reported)."""
    return {
        "accession": record.run_accession,
        "study_id": study_id,
        "sample_id": sample_id,
        "experiment_type": infer_experiment_type(
            record.library_strategy, record.library_source, policy.experiment_types
        ),
        "instrument_platform": record.instrument_platform or "",
        "instrument_model": record.instrument_model or "",
        "library_strategy": record.library_strategy or "",
        "library_source": record.library_source or "",
        "library_layout": record.library_layout.value if record.library_layout else "",
        "fastq_files": _fastq_files(record, report),
        "metadata": record.raw,
        **visibility,
    }


def write_runs(study: Study, records: Iterable[ENAReadRunRecord], policy: RunPolicy) -> WriteReport:
    """Upsert the study's runs, a chunk of records at a time, all in one transaction; those the
    policy refuses or whose sample is unknown are skipped."""
    report = WriteReport()
    visibility = study.ena_study.visibility()
    counts = UpsertResult()
    seen: set[str] = set()
    with transaction.atomic():
        for chunk in chunked(records):
            _first_seen([r.run_accession for r in chunk], seen, "run")
            sample_ids = ids_by_key(
                Sample, "accession", {r.sample_accession for r in chunk if r.sample_accession}
            )
            rows = []
            for record in chunk:
                refusal = policy.refusal(record)
                if refusal is None and record.sample_accession not in sample_ids:
                    refusal = (
                        f"its sample {record.sample_accession!r} is not among the study's "
                        "ingested samples"
                    )
                if refusal is not None:
                    report.skipped.append(
                        ParseProblem(record.run_accession, "run", record.run_accession, refusal)
                    )
                    continue
                sample_id = sample_ids[record.sample_accession]
                rows.append(run_row(record, study.pk, sample_id, policy, visibility, report))
            counts += bulk_upsert(Run, rows, unique_field="accession")
        follow_moved_runs(study)
    report.counts["runs"] = counts
    return report


def follow_moved_runs(study: Study) -> int:
    """Give the study's run analyses their run's sample again where ENA moved a run to another
    sample (an analysis is of its run's sample, which the API serves without a join).

    :returns: how many analyses changed.
    """
    return (
        Analysis.objects.filter(run__study=study)
        .filter(~Q(sample_id=F("run__sample_id")) | Q(sample__isnull=True))
        .update(sample_id=Subquery(Run.objects.filter(pk=OuterRef("run_id")).values("sample_id")))
    )


def _fastq_files(record: ENAReadRunRecord, report: WriteReport) -> list[dict[str, Any]]:
    """The run's fastq files as stored; an md5 that is not one is dropped and reported."""
    files = []
    for fastq in record.fastq_files:
        md5 = fastq.md5
        if md5 is not None and not MD5.fullmatch(md5):
            report.problems.append(
                ParseProblem(record.run_accession, "fastq_md5", md5, "not an md5 checksum")
            )
            md5 = None
        files.append({"url": _ena_url(fastq.url), "md5": md5, "size_bytes": fastq.size_bytes})
    return files


def split_software(software: str | None) -> tuple[str, str]:
    """``"metaSPAdes v3.15.3"`` → ``("metaSPAdes", "3.15.3")``; unknown forms keep the name."""
    if not software:
        return "", ""
    for separator in ASSEMBLER_VERSION_SEPARATORS:
        name, found, version = software.strip().partition(separator)
        if found and version and version[0].isdigit():
            return name.strip(), version.strip()
    return software.strip(), ""


def write_assemblies(study: Study, records: Sequence[ENAAssemblyRecord]) -> WriteReport:
    """Upsert the study's primary metagenome assemblies and link them to their runs."""
    report = WriteReport()
    run_accessions = {acc for r in records for acc in r.run_accession}
    run_ids = ids_by_key(Run, "accession", run_accessions)
    sample_ids = ids_by_key(
        Sample, "accession", {acc for r in records for acc in r.sample_accession}
    )
    visibility = study.ena_study.visibility()
    rows = []
    for record in records:
        name, version = split_software(record.assembly_software)
        sample = next(
            (sample_ids[acc] for acc in record.sample_accession if acc in sample_ids), None
        )
        rows.append(
            {
                "accession": record.analysis_accession,
                "study_id": study.pk,
                "sample_id": sample,
                "assembler_name": name,
                "assembler_version": version,
                "metadata": record.raw,
                **visibility,
            }
        )
        missing = [acc for acc in record.run_accession if acc not in run_ids]
        if missing:
            report.problems.append(
                ParseProblem(
                    record.analysis_accession,
                    "run_accession",
                    ";".join(missing),
                    "runs not ingested for this study",
                )
            )
    with transaction.atomic():
        report.counts["assemblies"] = bulk_upsert(Assembly, rows, unique_field="accession")
        assembly_ids = ids_by_key(Assembly, "accession", [r.analysis_accession for r in records])
        links = [
            (assembly_ids[r.analysis_accession], run_ids[acc])
            for r in records
            for acc in r.run_accession
            if acc in run_ids
        ]
        bulk_link(Assembly.runs.through, links, fields=("assembly_id", "run_id"))
    return report
