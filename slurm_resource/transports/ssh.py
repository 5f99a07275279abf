"""Run Slurm commands on a login node over SSH (paramiko).

- Host keys are verified against the configured known_hosts file with ``RejectPolicy``; they
  are never added automatically, and the system's known_hosts is not consulted.
- One connection per process (the resource caches transports), shared by threads: paramiko
  opens one channel per command and channels run in parallel on a connection.
- ``TCP_NODELAY`` on the socket: without it each command stalls ~43 ms on Nagle + delayed ACK.
- Commands are run with ``exec_command`` (a non-interactive, non-login shell): no rc file does
  work per command, and every argument is quoted with :func:`shlex.join`.
- After a dropped connection the next call reconnects; an idempotent command is retried once,
  ``sbatch`` never (the caller reattaches by name instead of risking a twin).
"""

from __future__ import annotations

import shlex
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import paramiko

from slurm_resource.errors import (
    SlurmAuthenticationError,
    SlurmHostKeyError,
    SlurmTransportError,
)
from slurm_resource.transports.base import CommandResult

T = TypeVar("T")

#: Errors that mean "the connection is gone", after which we reconnect.
_DROPPED = (paramiko.SSHException, EOFError, OSError)


class SSHTransport:
    """Slurm over SSH.

    :param host: login node.
    :param port: SSH port.
    :param user: remote user (jobs run as this user).
    :param key_path: private key file (no agent, no other keys are tried).
    :param known_hosts_path: known_hosts file holding the server's host key.
    :param connect_timeout: seconds for TCP connect, banner and authentication.
    """

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        key_path: str,
        known_hosts_path: str,
        connect_timeout: float = 15.0,
    ):
        if not known_hosts_path:
            raise SlurmTransportError(
                "the ssh transport needs ssh_known_hosts_path: host keys are never auto-added"
            )
        if not key_path:
            raise SlurmTransportError("the ssh transport needs ssh_key_path (key auth only)")
        self.host = host
        self.port = port
        self.user = user
        self.key_path = key_path
        self.known_hosts_path = known_hosts_path
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._sftp_lock = threading.Lock()
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        #: how many connections were opened (tests and benchmarks check reuse).
        self.connects = 0

    # -- connection ----------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def _connect(self) -> paramiko.SSHClient:
        if not Path(self.known_hosts_path).is_file():
            raise SlurmHostKeyError(f"known_hosts file {self.known_hosts_path} does not exist")
        try:
            # Loaded here (any key type) so a bad key file is reported as such, not as whatever
            # error paramiko's last key-type guess produced.
            pkey = paramiko.PKey.from_path(self.key_path)
        except (OSError, paramiko.SSHException) as exc:
            raise SlurmAuthenticationError(
                f"cannot load the SSH private key {self.key_path}: {exc}"
            ) from exc
        client = paramiko.SSHClient()
        client.load_host_keys(self.known_hosts_path)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.user,
                pkey=pkey,
                allow_agent=False,
                look_for_keys=False,
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise SlurmHostKeyError(
                f"host key mismatch for [{self.host}]:{self.port}: the server offered "
                f"{exc.key.get_name()} {exc.key.fingerprint}, but {self.known_hosts_path} "
                f"expects {exc.expected_key.get_name()} {exc.expected_key.fingerprint}. "
                "Refusing to connect (possible man-in-the-middle, or the host was reinstalled)."
            ) from exc
        except paramiko.AuthenticationException as exc:
            client.close()
            raise SlurmAuthenticationError(
                f"SSH authentication failed for {self._where} with key {self.key_path}: {exc}. "
                "Is the public key in the user's authorized_keys?"
            ) from exc
        except paramiko.SSHException as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise SlurmHostKeyError(
                    f"host [{self.host}]:{self.port} has no key in {self.known_hosts_path}; "
                    "refusing to connect (host keys are never added automatically)"
                ) from exc
            raise SlurmTransportError(f"SSH connection to {self._where} failed: {exc}") from exc
        except OSError as exc:
            client.close()
            raise SlurmTransportError(f"cannot connect to {self._where}: {exc}") from exc
        transport = client.get_transport()
        assert transport is not None
        transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_keepalive(30)
        self.connects += 1
        return client

    def _get_client(self) -> paramiko.SSHClient:
        with self._lock:
            client = self._client
            if client is not None:
                transport = client.get_transport()
                if transport is not None and transport.is_active():
                    return client
                self._drop_locked()
            self._client = self._connect()
            return self._client

    def _drop_locked(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _drop(self, client: paramiko.SSHClient) -> None:
        with self._lock:
            if self._client is client:
                self._drop_locked()

    def close(self) -> None:
        with self._lock:
            self._drop_locked()

    # -- commands ------------------------------------------------------------------------

    def run(
        self, argv: Sequence[str], *, timeout: float | None = 60.0, idempotent: bool = True
    ) -> CommandResult:
        command = shlex.join(argv)
        attempts = 2 if idempotent else 1
        for attempt in range(attempts):
            client = self._get_client()
            try:
                return self._exec(client, command, timeout)
            except TimeoutError as exc:
                raise SlurmTransportError(f"`{command}` on {self._where} timed out") from exc
            except _DROPPED as exc:
                self._drop(client)
                if attempt + 1 == attempts:
                    raise SlurmTransportError(
                        f"connection to {self._where} dropped while running `{command}`: {exc!r}"
                    ) from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _exec(client: paramiko.SSHClient, command: str, timeout: float | None) -> CommandResult:
        transport = client.get_transport()
        assert transport is not None
        channel = transport.open_session(timeout=timeout)
        try:
            channel.settimeout(timeout)
            channel.exec_command(command)
            stdout = channel.makefile("rb").read()
            stderr = channel.makefile_stderr("rb").read()
            rc = channel.recv_exit_status()
        finally:
            channel.close()
        return CommandResult(
            rc, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")
        )

    # -- files (SFTP) --------------------------------------------------------------------

    def _with_sftp(self, op: Callable[[paramiko.SFTPClient], T]) -> T:
        for attempt in range(2):
            client = self._get_client()
            try:
                with self._sftp_lock:
                    if self._sftp is None:
                        self._sftp = client.open_sftp()
                    return op(self._sftp)
            except (FileNotFoundError, PermissionError):
                raise
            except _DROPPED as exc:
                self._drop(client)
                if attempt == 1:
                    raise SlurmTransportError(f"SFTP to {self._where} failed: {exc!r}") from exc
        raise AssertionError("unreachable")

    def read_bytes(self, path: str, offset: int = 0, max_bytes: int | None = None) -> bytes:
        def op(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(path, "rb") as fh:
                fh.seek(offset)
                return fh.read() if max_bytes is None else fh.read(max_bytes)

        return self._with_sftp(op)

    def size(self, path: str) -> int | None:
        def op(sftp: paramiko.SFTPClient) -> int | None:
            try:
                return sftp.stat(path).st_size
            except FileNotFoundError:
                return None

        return self._with_sftp(op)

    def write_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        directory, _, name = path.rpartition("/")
        tmp = f"{directory}/.{name}.tmp"

        def op(sftp: paramiko.SFTPClient) -> None:
            with sftp.open(tmp, "wb") as fh:
                fh.write(data)
            sftp.chmod(tmp, mode)
            sftp.posix_rename(tmp, path)

        self._with_sftp(op)

    def exists(self, path: str) -> bool:
        return self.size(path) is not None

    def makedirs(self, path: str) -> None:
        result = self.run(["mkdir", "-p", "--", path])
        if not result.ok:
            raise SlurmTransportError(f"mkdir -p {path} on {self._where}: {result.stderr.strip()}")

    def sha256(self, paths: Sequence[str]) -> dict[str, str]:
        if not paths:
            return {}
        result = self.run(["sha256sum", "--", *paths])
        if not result.ok:
            if "No such file" in result.stderr:
                raise FileNotFoundError(result.stderr.strip())
            raise SlurmTransportError(f"sha256sum on {self._where}: {result.stderr.strip()}")
        digests: dict[str, str] = {}
        for line in result.stdout.splitlines():
            digest, _, name = line.partition("  ")
            digests[name] = digest
        return {p: digests[p] for p in paths}
