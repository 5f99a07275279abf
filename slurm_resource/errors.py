"""Exceptions of the Slurm resource."""

from __future__ import annotations


class SlurmError(Exception):
    """Base class of this package's errors."""


class SlurmTransportError(SlurmError):
    """The transport could not run a command or reach a file (connection, auth, host key)."""


class SlurmHostKeyError(SlurmTransportError):
    """The SSH server's host key is missing from known_hosts or does not match it."""


class SlurmAuthenticationError(SlurmTransportError):
    """The SSH server rejected the configured user and key."""


class SlurmCommandError(SlurmError):
    """A Slurm command ran but failed (non-zero exit or unparsable output)."""

    def __init__(self, argv: list[str] | tuple[str, ...], rc: int, stdout: str, stderr: str):
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"`{' '.join(self.argv)}` exited {rc}: {stderr.strip() or stdout.strip()}")
