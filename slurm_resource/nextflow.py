"""Nextflow pipelines as Slurm jobs: the ``nextflow run`` command line and the trace file.

The Nextflow head job runs as one Slurm job (it submits the pipeline's tasks to Slurm itself,
through the pipeline's profile). ``-resume`` makes a resubmitted head job skip finished tasks.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from slurm_resource.job_spec import JobSpec


class NextflowJob(BaseModel):
    """One ``nextflow run`` of a pipeline over a samplesheet.

    :param name: readable job name (the Slurm name adds a hash).
    :param pipeline: the pipeline (``ebi-metagenomics/amplicon-pipeline`` or a path).
    :param revision: ``-r``: tag, branch or commit.
    :param profile: ``-profile``.
    :param config_files: each becomes a ``-c`` (and is hashed: a changed config is new work).
    :param samplesheet: ``--input`` (its contents are part of the job's hash).
    :param outdir: ``--outdir``.
    :param work_dir: ``-work-dir`` (Nextflow's task cache; ``-resume`` reads it).
    :param trace_file: ``-with-trace``.
    :param launch_dir: where the head job runs (``.nextflow`` history, ``.nextflow.log``).
    :param params: further ``--key value`` pipeline parameters (``True`` -> ``--key``).
    :param resume: pass ``-resume``.
    :param nextflow: the launcher executable (``nextflow`` on PATH by default).
    :param extra_args: extra Nextflow options placed before the pipeline parameters.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    pipeline: str
    revision: str
    profile: str
    config_files: tuple[str, ...] = ()
    samplesheet: str
    outdir: str
    work_dir: str
    trace_file: str
    launch_dir: str
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    resume: bool = True
    nextflow: str = "nextflow"
    extra_args: tuple[str, ...] = ()

    partition: str | None = None
    time_limit_minutes: int = Field(default=3 * 24 * 60, ge=1)
    memory_mb: int | None = 4096
    cpus: int = 1
    env: dict[str, str] = Field(default_factory=dict)
    path_prepend: tuple[str, ...] = ()

    def command(self) -> list[str]:
        """The ``nextflow run`` argv."""
        argv = [self.nextflow, "run", self.pipeline, "-r", self.revision, "-profile", self.profile]
        for config in self.config_files:
            argv += ["-c", config]
        if self.resume:
            argv.append("-resume")
        argv += [
            "-work-dir",
            self.work_dir,
            "--input",
            self.samplesheet,
            "--outdir",
            self.outdir,
            "-with-trace",
            self.trace_file,
            "-ansi-log",
            "false",
            *self.extra_args,
        ]
        for key, value in sorted(self.params.items()):
            if value is True:
                argv.append(f"--{key}")
            elif value is False:
                argv += [f"--{key}", "false"]
            else:
                argv += [f"--{key}", str(value)]
        return argv

    def to_job_spec(self) -> JobSpec:
        """The Slurm job running the Nextflow head process."""
        trace = shlex.quote(self.trace_file)
        # Nextflow refuses to start if the trace file exists (a resumed run): keep the old one.
        script = "\n".join(
            [
                f"if [ -e {trace} ]; then mv {trace} {trace}.$(date +%Y%m%d-%H%M%S); fi",
                "exec " + shlex.join(self.command()),
            ]
        )
        return JobSpec(
            name=self.name,
            script=script,
            partition=self.partition,
            time_limit_minutes=self.time_limit_minutes,
            memory_mb=self.memory_mb,
            cpus=self.cpus,
            working_dir=self.launch_dir,
            env=self.env,
            path_prepend=self.path_prepend,
            input_files=(self.samplesheet, *self.config_files),
        )


@dataclass(frozen=True)
class TraceTask:
    """One line of a Nextflow trace file.

    :param task_id: Nextflow's task id.
    :param name: process name with its tag, e.g. ``FASTP (SRR123)``.
    :param status: COMPLETED, CACHED, FAILED, ABORTED.
    :param exit: exit status (``None`` for ``-``).
    :param duration_seconds: wall time from submission to end.
    :param realtime_seconds: run time of the task itself.
    :param peak_rss_bytes: peak resident memory (``None`` for ``-``).
    :param native_id: the executor's id (the Slurm job id of the task).
    """

    task_id: int
    hash: str
    native_id: str
    name: str
    status: str
    exit: int | None
    duration_seconds: float | None
    realtime_seconds: float | None
    peak_rss_bytes: int | None


@dataclass(frozen=True)
class NextflowResult:
    """A finished Nextflow head job and its tasks."""

    job: object  # SlurmJobResult (not imported: avoids a cycle)
    tasks: list[TraceTask]

    @property
    def failed_tasks(self) -> list[TraceTask]:
        return [t for t in self.tasks if t.status in ("FAILED", "ABORTED")]


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGTP]?B)$", re.IGNORECASE)
_SIZE_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40, "PB": 1 << 50}


def parse_duration(text: str) -> float | None:
    """Nextflow's ``1h 2m 3s`` / ``3.4s`` / ``120ms`` (or raw milliseconds) in seconds."""
    text = text.strip()
    if text in ("", "-"):
        return None
    if text.isdigit():  # trace.raw = true: milliseconds
        return int(text) / 1000
    parts = _DURATION_PART.findall(text)
    if not parts:
        raise ValueError(f"unparsable Nextflow duration {text!r}")
    return sum(float(n) * _DURATION_UNITS[u] for n, u in parts)


def parse_memory(text: str) -> int | None:
    """Nextflow's ``12.3 MB`` / ``1 GB`` / ``0`` (or raw bytes) in bytes."""
    text = text.strip()
    if text in ("", "-"):
        return None
    if text.isdigit():
        return int(text)
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"unparsable Nextflow memory {text!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])


def parse_trace(text: str) -> list[TraceTask]:
    """Parse a Nextflow trace TSV (default or ``trace.raw`` fields; extra columns ignored)."""
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    tasks = []
    for row in reader:
        exit_text = row.get("exit", "-").strip()
        tasks.append(
            TraceTask(
                task_id=int(row["task_id"]),
                hash=row.get("hash", ""),
                native_id=row.get("native_id", ""),
                name=row["name"],
                status=row["status"],
                exit=None if exit_text in ("", "-") else int(exit_text),
                duration_seconds=parse_duration(row.get("duration", "-")),
                realtime_seconds=parse_duration(row.get("realtime", "-")),
                peak_rss_bytes=parse_memory(row.get("peak_rss", "-")),
            )
        )
    return tasks
