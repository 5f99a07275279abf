"""The transport protocol: how the resource reaches Slurm and the job files.

A transport runs an argv (never a shell string: each transport quotes for its own shell), reads
and writes files on the cluster side, and hashes files there. ``ssh`` and ``local`` run the real
Slurm commands; ``embedded`` interprets ``sbatch``/``sacct``/``squeue``/``scancel`` itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one command.

    :param rc: exit status.
    :param stdout: standard output, decoded as UTF-8 (invalid bytes replaced).
    :param stderr: standard error, likewise.
    """

    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


@runtime_checkable
class Transport(Protocol):
    """What the resource needs from a cluster connection."""

    #: the user jobs are submitted as (for ``squeue -u`` throttling and name lookups).
    user: str

    def run(
        self, argv: Sequence[str], *, timeout: float | None = 60.0, idempotent: bool = True
    ) -> CommandResult:
        """Run a command.

        :param argv: program and arguments.
        :param timeout: seconds before giving up (raises :class:`SlurmTransportError`).
        :param idempotent: whether the transport may transparently re-run the command after a
            dropped connection. ``sbatch`` is not: a lost answer could mean a submitted job.
        :raises SlurmTransportError: when the command could not be run at all.
        """
        ...

    def read_bytes(self, path: str, offset: int = 0, max_bytes: int | None = None) -> bytes:
        """Read a file from ``offset``; raises :class:`FileNotFoundError` if it is missing."""
        ...

    def size(self, path: str) -> int | None:
        """The size of a file, or ``None`` if it does not exist."""
        ...

    def write_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write a file atomically enough for job scripts (create or replace)."""
        ...

    def makedirs(self, path: str) -> None:
        """Create a directory and its parents (no error if it exists)."""
        ...

    def exists(self, path: str) -> bool:
        """Whether a path exists."""
        ...

    def sha256(self, paths: Sequence[str]) -> dict[str, str]:
        """``{path: hex sha256 of its contents}``; raises :class:`FileNotFoundError`."""
        ...

    def close(self) -> None:
        """Release connections (the transport may reconnect on next use)."""
        ...


def sha256_local(path: Path) -> str:
    """Hash a local file in 1 MiB blocks (samplesheets are small, reads may be huge)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LocalFilesMixin:
    """File operations on this host's file system (``local`` and ``embedded`` transports)."""

    def read_bytes(self, path: str, offset: int = 0, max_bytes: int | None = None) -> bytes:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read() if max_bytes is None else fh.read(max_bytes)

    def size(self, path: str) -> int | None:
        try:
            return Path(path).stat().st_size
        except FileNotFoundError:
            return None

    def write_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.chmod(mode)
        tmp.replace(target)

    def makedirs(self, path: str) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)

    def exists(self, path: str) -> bool:
        return Path(path).exists()

    def sha256(self, paths: Sequence[str]) -> dict[str, str]:
        return {p: sha256_local(Path(p)) for p in paths}
