"""Building ``sacct``/``squeue`` command lines and parsing their output.

Facts this module is built on (Slurm 22.05, measured): ``sacct`` costs 55-100 ms per call
whatever the number of jobs, so all tracked jobs are asked for in one call; ``-j`` lists are
chunked at 150 ids because from 200 ids on MariaDB stops using its index; ``-X`` (allocation
lines only) is 10x less database work, and MaxRSS lives on the ``.batch`` step only, so it is
fetched with a separate query once a job has ended.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from slurm_resource.states import ParsedState, parse_state

#: Most job ids in one ``sacct -j`` list.
MAX_IDS_PER_CALL = 150

#: Columns of the allocation-line query, in order.
ALLOCATION_FIELDS = (
    "JobIDRaw",
    "JobName",
    "State",
    "ExitCode",
    "ElapsedRaw",
    "NodeList",
    "Reason",
)


@dataclass(frozen=True)
class SacctRecord:
    """One allocation line of ``sacct -X``.

    :param job_id: the job id.
    :param name: the job name.
    :param state: state and its detail (``CANCELLED by 0`` -> CANCELLED, ``by 0``).
    :param exit_code: the job's exit code (first half of ``ExitCode``).
    :param signal: the signal that ended it (second half of ``ExitCode``), 0 if none.
    :param elapsed_seconds: run time so far (0 while pending).
    :param node: the node list, ``None`` before one is assigned.
    :param reason: Slurm's reason (why pending, or why it ended), ``None`` if it has none.
    """

    job_id: int
    name: str
    state: ParsedState
    exit_code: int
    signal: int
    elapsed_seconds: int
    node: str | None
    reason: str | None


def chunked(ids: Sequence[int], size: int = MAX_IDS_PER_CALL) -> Iterator[list[int]]:
    """Split a job id list into ``sacct``-sized chunks."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def allocations_argv(job_ids: Sequence[int]) -> list[str]:
    """``sacct`` for the allocation lines of up to :data:`MAX_IDS_PER_CALL` jobs."""
    if len(job_ids) > MAX_IDS_PER_CALL:
        raise ValueError(f"at most {MAX_IDS_PER_CALL} ids per sacct call, got {len(job_ids)}")
    return [
        "sacct",
        "-X",
        "-P",
        "-n",
        "-j",
        ",".join(str(i) for i in job_ids),
        "-o",
        ",".join(ALLOCATION_FIELDS),
    ]


def by_name_argv(names: Sequence[str], window_hours: float) -> list[str]:
    """``sacct`` for the jobs with these names that were active within the window.

    Slow on a big accounting database (it scans): used only as the reattach fallback.
    """
    return [
        "sacct",
        "-X",
        "-P",
        "-n",
        "--name",
        ",".join(names),
        "-S",
        f"now-{max(1, int(window_hours * 60))}minutes",
        "-o",
        ",".join(ALLOCATION_FIELDS),
    ]


def max_rss_argv(job_ids: Sequence[int]) -> list[str]:
    """``sacct`` for the ``.batch`` steps of finished jobs: MaxRSS is only there."""
    if len(job_ids) > MAX_IDS_PER_CALL:
        raise ValueError(f"at most {MAX_IDS_PER_CALL} ids per sacct call, got {len(job_ids)}")
    return [
        "sacct",
        "-P",
        "-n",
        "-j",
        ",".join(f"{i}.batch" for i in job_ids),
        "-o",
        "JobIDRaw,MaxRSS",
    ]


def squeue_argv(
    *,
    user: str | None = None,
    names: Sequence[str] | None = None,
    job_ids: Sequence[int] | None = None,
) -> list[str]:
    """``squeue`` printing ``id|state|name`` for pending/running jobs."""
    argv = ["squeue", "-h", "-o", "%i|%T|%j"]
    if user:
        argv += ["-u", user]
    if names:
        argv += ["--name", ",".join(names)]
    if job_ids:
        argv += ["-j", ",".join(str(i) for i in job_ids)]
    return argv


def parse_exit_code(text: str) -> tuple[int, int]:
    """``"3:0"`` -> ``(3, 0)``; an empty field -> ``(0, 0)``."""
    code, _, sig = text.strip().partition(":")
    return (int(code) if code else 0, int(sig) if sig else 0)


def parse_allocations(stdout: str) -> list[SacctRecord]:
    """Parse ``sacct -X -P -n -o`` :data:`ALLOCATION_FIELDS` output.

    Job array / heterogeneous job lines (``123_4``, ``123+1``) are not produced by this
    resource's jobs and are skipped, as are blank lines.

    :raises ValueError: on a line with the wrong number of columns or an unknown state.
    """
    records = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        cols = line.split("|")
        if len(cols) != len(ALLOCATION_FIELDS):
            raise ValueError(f"unexpected sacct line {line!r}")
        job_id, name, state, exit_code, elapsed, node, reason = cols
        if not job_id.isdigit():
            continue
        code, sig = parse_exit_code(exit_code)
        records.append(
            SacctRecord(
                job_id=int(job_id),
                name=name,
                state=parse_state(state),
                exit_code=code,
                signal=sig,
                elapsed_seconds=int(elapsed) if elapsed.isdigit() else 0,
                node=None if node in ("", "None assigned") else node,
                reason=None if reason in ("", "None") else reason,
            )
        )
    return records


_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}


def parse_size(text: str) -> int | None:
    """A Slurm size (``63608K``, ``1.5G``, ``0``) in bytes; ``None`` for an empty field."""
    text = text.strip()
    if not text:
        return None
    unit = text[-1].upper()
    if unit in _UNITS:
        return int(float(text[:-1]) * _UNITS[unit])
    return int(float(text))


def parse_max_rss(stdout: str) -> dict[int, int | None]:
    """Parse ``sacct -P -n -o JobIDRaw,MaxRSS`` of ``.batch`` steps: ``{job_id: bytes}``."""
    result: dict[int, int | None] = {}
    for line in stdout.splitlines():
        if not line.strip():
            continue
        step_id, _, rss = line.partition("|")
        base, _, step = step_id.partition(".")
        if step == "batch" and base.isdigit():
            result[int(base)] = parse_size(rss)
    return result


def parse_squeue(stdout: str) -> list[tuple[int, ParsedState, str]]:
    """Parse :func:`squeue_argv` output into ``(id, state, name)``."""
    rows = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        job_id, state, name = line.split("|", 2)
        if job_id.isdigit():
            rows.append((int(job_id), parse_state(state), name))
    return rows
