"""Samplesheets: one row per run or assembly in the pipeline's format, chunked, content-hashed.

A chunk's work dir is named by the SHA-256 of its samplesheet, so the same analyses give the
same dir (and the same Slurm job name: the resource hashes the samplesheet too) after a
restart, while a different set of analyses never reuses another chunk's outputs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from emg_assets.analyses.pipelines import Pipeline, PipelineName, Subject
from emg_django.analyses.choices import LibraryLayout
from emg_django.analyses.models import Assembly, Run

#: Samplesheet file name inside a chunk dir.
SAMPLESHEET = "samplesheet.csv"
#: Hex digits of the content hash naming a chunk dir.
DIGEST_LENGTH = 16
#: The ENA ``generated_ftp`` of an assembly: its contigs FASTA.
ASSEMBLY_FASTA_FIELD = "generated_ftp"

T = TypeVar("T")


class NotAnalysable(ValueError):
    """A run or assembly lacks what its samplesheet row needs (the analysis is blocked)."""


def with_scheme(url: str, scheme: str = "ftp") -> str:
    """ENA lists files without a scheme (``ftp.sra.ebi.ac.uk/vol1/…``); Nextflow needs one."""
    return url if "://" in url else f"{scheme}://{url}"


def run_row(pipeline: Pipeline, run: Run) -> dict[str, str]:
    """The samplesheet row of a run (amplicon and raw-reads formats).

    :raises NotAnalysable: if the run has no fastq files or more than two.
    """
    files = [f["url"] for f in run.fastq_files or []]
    if not files:
        raise NotAnalysable(f"run {run.accession} has no fastq files")
    if len(files) > 2:
        # ENA lists e.g. ``_1``, ``_2`` and an unpaired file: keep the pair.
        paired = [f for f in files if f.endswith(("_1.fastq.gz", "_2.fastq.gz"))]
        if len(paired) != 2:
            raise NotAnalysable(f"run {run.accession} has {len(files)} fastq files and no pair")
        files = paired
    single = len(files) == 1 or run.library_layout == LibraryLayout.SINGLE
    row = {
        "sample": run.accession,
        "fastq_1": with_scheme(files[0]),
        "fastq_2": "" if single else with_scheme(files[1]),
        "single_end": "true" if single else "false",
    }
    if "instrument_platform" in pipeline.samplesheet_columns:
        row["instrument_platform"] = run.instrument_platform
    return row


def assembly_row(assembly: Assembly) -> dict[str, str]:
    """The samplesheet row of an assembly (its contigs FASTA from ENA).

    :raises NotAnalysable: if ENA gave no FASTA for it.
    """
    value = (assembly.metadata or {}).get(ASSEMBLY_FASTA_FIELD) or ""
    urls = [u for u in (value if isinstance(value, list) else value.split(";")) if u]
    if not urls:
        raise NotAnalysable(f"assembly {assembly.accession} has no contigs FASTA in ENA")
    return {"sample": assembly.accession, "assembly_fasta": with_scheme(urls[0], "http")}


def subject_row(pipeline: Pipeline, subject: Run | Assembly) -> dict[str, str]:
    if pipeline.subject is Subject.ASSEMBLY:
        assert isinstance(subject, Assembly)
        return assembly_row(subject)
    assert isinstance(subject, Run)
    return run_row(pipeline, subject)


def render(pipeline: Pipeline, rows: Iterable[dict[str, str]]) -> str:
    """The CSV text, rows sorted by sample (the same analyses always give the same bytes)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=list(pipeline.samplesheet_columns),
        lineterminator="\n",
        extrasaction="raise",
    )
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda r: r["sample"]))
    return buffer.getvalue()


def chunked(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in consecutive chunks of at most ``size``."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


@dataclass(frozen=True)
class ChunkDir:
    """The files of one chunk's pipeline run."""

    root: Path
    digest: str

    @property
    def samplesheet(self) -> Path:
        return self.root / SAMPLESHEET

    @property
    def outdir(self) -> Path:
        return self.root / "results"

    @property
    def nextflow_work(self) -> Path:
        return self.root / "work"

    @property
    def trace(self) -> Path:
        return self.root / "trace.tsv"

    def result_dir(self, accession: str) -> Path:
        """One run's (or assembly's) outputs."""
        return self.outdir / accession


def chunk_dir(base: Path, study_key: str, pipeline: PipelineName, content: str) -> ChunkDir:
    digest = hashlib.sha256(content.encode()).hexdigest()[:DIGEST_LENGTH]
    return ChunkDir(base / study_key / f"{pipeline.value}" / digest, digest)


def write_chunk(
    base: Path,
    study_key: str,
    pipeline: Pipeline,
    rows: Sequence[dict[str, str]],
    dir_mode: int = 0o775,
) -> ChunkDir:
    """Write a chunk's samplesheet into its content-named dir (idempotent).

    :param dir_mode: of the chunk dir; the Slurm job's user writes its outputs there.
    """
    content = render(pipeline, rows)
    chunk = chunk_dir(base, study_key, pipeline.name, content)
    chunk.root.mkdir(parents=True, exist_ok=True)
    os.chmod(chunk.root, dir_mode)
    if not chunk.samplesheet.is_file() or chunk.samplesheet.read_text() != content:
        temporary = chunk.samplesheet.with_suffix(".tmp")
        temporary.write_text(content)
        temporary.replace(chunk.samplesheet)
    return chunk
