"""Publishing: move imported results from the work area to the public (or private) results dir.

The move runs as a Slurm job on the ``datamover`` partition (the nodes that see both file
systems). The script is idempotent: a destination already in place is kept, and a copy is
finished under a temporary name before it replaces anything, so a killed job can be rerun.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from emg_django.core.paths import published_dir
from slurm_resource import JobSpec

#: A study's published results, relative to the public/private root.
STUDY_DIR_PREFIX_LENGTH = 7


def study_results_dir(study_results_dir: str, study_key: str) -> str:
    """The study's results dir relative to the results root (``PRJEB41/PRJEB41657`` style): the
    recorded one, or the default for a study not published yet."""
    recorded = published_dir(study_results_dir)
    return recorded or f"{study_key[:STUDY_DIR_PREFIX_LENGTH]}/{study_key}"


def analysis_results_dir(study_dir: str, version: str, pipeline: str, accession: str) -> str:
    """An analysis's published dir, relative to the results root."""
    return f"{study_dir}/{version}/{pipeline}/{accession}"


#: Lock files of the movers, under the Slurm work dir (shared by the cluster's nodes).
LOCK_DIR = "locks"


def study_lock(slurm_work_dir: str | Path, study_key: str) -> Path:
    """The lock file that the jobs moving a study's results hold while they work."""
    return Path(slurm_work_dir) / LOCK_DIR / f"results-{study_key}.lock"


@dataclass(frozen=True)
class Move:
    """A dir to move. A publish (``merge=False``) replaces the destination: a re-run analysis is
    republished whole. A privacy move (``merge=True``) merges the source into the destination,
    keeping the files the destination holds (they may be newer: published there after the
    study's privacy changed) and adding those it lacks."""

    source: Path
    destination: Path
    merge: bool = False


@dataclass(frozen=True)
class Prune:
    """After the moves: remove the empty dirs of ``tree``, then its empty ancestors below
    ``root`` (what the moves left behind at the source)."""

    tree: Path
    root: Path

    def __post_init__(self) -> None:
        if self.root not in self.tree.parents:
            raise ValueError(f"{self.tree} is not under {self.root}: nothing to prune there")


def _replace(src: str, dst: str, partial: str) -> str:
    # A copy is finished under a temporary name before it replaces anything; `mv -T` never
    # moves it into a destination that reappeared meanwhile.
    return (
        f"if [ -d {src} ]; then rm -rf {partial}; cp -a {src} {partial}; "
        f"rm -rf {dst}; mv -T {partial} {dst}; rm -rf {src}; fi"
    )


def _merge(src: str, dst: str) -> str:
    # rsync writes each file under a temporary name, then renames it: a killed job leaves no
    # half-written file under a real name, and its rerun carries on.
    return (
        f"if [ -d {src} ]; then mkdir -p {dst}; "
        f"rsync -a --ignore-existing {src}/ {dst}/; rm -rf {src}; fi"
    )


def move_script(moves: list[Move], prune: Sequence[Prune] = (), lock: Path | None = None) -> str:
    """The bash script moving each source dir to its destination (idempotent).

    :param lock: a lock file the script holds while it works, so that jobs moving the same
        study's results (a publish, a privacy move, a rerun while the first still runs) take
        turns. A regular file opened for writing: ``flock`` then works on NFS too.
    """
    lines = ["set -euo pipefail"]
    if lock is not None:
        quoted = shlex.quote(str(lock))
        lines += [
            f"mkdir -p {shlex.quote(str(lock.parent))}",
            f"exec 9>>{quoted}",
            "flock 9",
        ]
    for move in sorted(moves, key=lambda m: str(m.destination)):
        src = shlex.quote(str(move.source))
        dst = shlex.quote(str(move.destination))
        partial = shlex.quote(f"{move.destination}.partial")
        lines += [
            f"mkdir -p {shlex.quote(str(move.destination.parent))}",
            _merge(src, dst) if move.merge else _replace(src, dst, partial),
            f"test -d {dst} || {{ echo 'missing after move: '{dst} >&2; exit 1; }}",
            f"echo published {dst}",
        ]
    for item in prune:
        tree, root = shlex.quote(str(item.tree)), shlex.quote(str(item.root))
        lines += [
            f"if [ -d {tree} ]; then find {tree} -depth -type d -empty -delete; fi",
            f"d=$(dirname {tree}); "
            f'while [ "$d" != {root} ] && rmdir "$d" 2>/dev/null; do d=$(dirname "$d"); done',
        ]
    return "\n".join(lines) + "\n"


def datamover_spec(
    name: str,
    moves: Mapping[int, Move],
    partition: str,
    time_limit_minutes: int = 120,
    prune: Sequence[Prune] = (),
    lock: Path | None = None,
) -> JobSpec:
    """The Slurm job publishing ``moves`` (its hash covers the moves: a rerun reattaches)."""
    return JobSpec(
        name=name,
        script=move_script(list(moves.values()), prune, lock),
        partition=partition,
        time_limit_minutes=time_limit_minutes,
        memory_mb=1024,
    )
