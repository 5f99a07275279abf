"""Run the Slurm commands on this host (Dagster runs on a login node, or tests)."""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Sequence

from slurm_resource.errors import SlurmTransportError
from slurm_resource.transports.base import CommandResult, LocalFilesMixin

#: Only these variables reach sbatch (which exports its environment into the job by default):
#: the Dagster process holds secrets (database URLs, tokens) that jobs have no business seeing.
_PASSED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR")


class LocalTransport(LocalFilesMixin):
    """Slurm commands run as subprocesses of this process.

    :param slurm_conf: ``SLURM_CONF`` for the commands (``None``: the host's default).
    """

    def __init__(self, slurm_conf: str | None = None):
        self.slurm_conf = slurm_conf
        self.user = pwd.getpwuid(os.getuid()).pw_name
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        conf = slurm_conf or os.environ.get("SLURM_CONF")
        if conf:
            env["SLURM_CONF"] = conf
        self._env = env

    def run(
        self, argv: Sequence[str], *, timeout: float | None = 60.0, idempotent: bool = True
    ) -> CommandResult:
        try:
            proc = subprocess.run(
                list(argv), capture_output=True, timeout=timeout, env=self._env, check=False
            )
        except FileNotFoundError as exc:
            raise SlurmTransportError(f"{argv[0]} not found on this host: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise SlurmTransportError(f"`{' '.join(argv)}` timed out after {timeout} s") from exc
        return CommandResult(
            proc.returncode,
            proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"),
        )

    def close(self) -> None:
        """Nothing to release."""
