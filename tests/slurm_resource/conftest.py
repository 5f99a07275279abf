"""Fixtures for the Slurm resource tests: the dev cluster, resources per transport, log capture.

The cluster is found from the variables ``slurm-dev env`` exports (``SLURM_CONF``,
``EMG_SLURM__SSH_*``, ``SLURM_DEV_WORK_DIR``). If they are missing, ``slurm-dev up`` is run here
(and ``slurm-dev down`` at the end of the session). If the cluster cannot be reached the real
Slurm tests are skipped -- under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from slurm_resource import JobSpec, SlurmJobResult, SlurmResource
from slurm_resource.resource import close_all

REPO = Path(__file__).resolve().parents[2]
SLURM_DEV = REPO / "slurm-dev-environment" / "slurm-dev"
NEXTFLOW_STANDIN_DIR = REPO / "tests" / "fixtures" / "nextflow_standin"
IN_CI = os.environ.get("CI", "").lower() == "true"
#: Poll fast in tests; production polls every 10 s.
POLL = 0.5

REAL = [pytest.mark.slurm]
TRANSPORTS = [
    pytest.param("local", marks=REAL, id="local"),
    pytest.param("ssh", marks=[*REAL, pytest.mark.ssh], id="ssh"),
    pytest.param("embedded", id="embedded"),
]


@dataclass
class Cluster:
    """How to reach the dev cluster."""

    env: dict[str, str]
    started_here: bool = False

    @property
    def slurm_conf(self) -> str:
        return self.env["SLURM_CONF"]

    @property
    def slurmctld_port(self) -> int:
        conf = Path(self.slurm_conf).read_text()
        return int(conf.split("SlurmctldPort=", 1)[1].split()[0])

    @property
    def work_dir(self) -> Path:
        return Path(self.env["SLURM_DEV_WORK_DIR"])

    def ssh_settings(self) -> dict[str, Any]:
        return {
            "ssh_host": self.env["EMG_SLURM__SSH_HOST"],
            "ssh_port": int(self.env["EMG_SLURM__SSH_PORT"]),
            "ssh_user": self.env["EMG_SLURM__SSH_USER"],
            "ssh_key_path": self.env["EMG_SLURM__SSH_KEY_PATH"],
            "ssh_known_hosts_path": self.env["EMG_SLURM__SSH_KNOWN_HOSTS_PATH"],
        }

    def slurm(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run a Slurm command on the cluster as root (e.g. ``sacct`` to count jobs)."""
        env = {**os.environ, "SLURM_CONF": self.slurm_conf}
        return subprocess.run(
            list(argv), capture_output=True, text=True, env=env, timeout=timeout, check=False
        )

    def dev(self, *args: str) -> None:
        """Run ``slurm-dev`` (e.g. ``stop slurmctld``, ``up``)."""
        env = {**os.environ, "SLURM_DEV_STATE_DIR": self.env["SLURM_DEV_STATE_DIR"]}
        subprocess.run([str(SLURM_DEV), *args], check=True, env=env, timeout=300)

    def jobs_named(self, name: str) -> list[str]:
        """Ids of all jobs with this name (all users, last day) per sacct."""
        out = self.slurm(
            "sacct", "-a", "-X", "-P", "-n", "--name", name, "-S", "now-1days", "-o", "JobIDRaw"
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.split()


_KEYS = (
    "SLURM_CONF",
    "SLURM_DEV_STATE_DIR",
    "SLURM_DEV_WORK_DIR",
    "EMG_SLURM__SSH_HOST",
    "EMG_SLURM__SSH_PORT",
    "EMG_SLURM__SSH_USER",
    "EMG_SLURM__SSH_KEY_PATH",
    "EMG_SLURM__SSH_KNOWN_HOSTS_PATH",
)


def _env_from_script() -> dict[str, str]:
    out = subprocess.run([str(SLURM_DEV), "env"], capture_output=True, text=True, check=True)
    env = {}
    for line in out.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    return env


def _unavailable(reason: str) -> None:
    """Skip -- or, under CI=true, fail: CI must not pass by skipping the Slurm tests."""
    if IN_CI:
        pytest.fail(f"CI=true and the Slurm dev cluster is unavailable: {reason}")
    pytest.skip(reason)


def _problem(env: dict[str, str]) -> str | None:
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%T"],
            capture_output=True,
            text=True,
            timeout=15,
            env={**os.environ, "SLURM_CONF": env["SLURM_CONF"]},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"sinfo failed: {exc}"
    if out.returncode != 0:
        return f"sinfo exited {out.returncode}: {out.stderr.strip()}"
    return None


@pytest.fixture(scope="session", autouse=True)
def _close_connections_at_the_end() -> Iterator[None]:
    """Close SSH connections while logging still works (else paramiko logs into a closed
    capture stream at interpreter exit)."""
    yield
    close_all()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The running dev cluster (started here if needed); skipped, or failed under CI=true."""
    env = {k: os.environ[k] for k in _KEYS if k in os.environ}
    started = False
    if len(env) < len(_KEYS) or _problem(env):
        env = _env_from_script()
        if _problem(env):
            if os.geteuid() != 0:
                _unavailable("the Slurm dev cluster is not up and starting it needs root")
            up = subprocess.run(
                [str(SLURM_DEV), "up"], capture_output=True, text=True, timeout=600, check=False
            )
            started = up.returncode == 0
            if up.returncode != 0:
                _unavailable(f"`slurm-dev up` failed: {up.stderr.strip()[-2000:]}")
    problem = _problem(env)
    if problem:
        _unavailable(problem)
    yield Cluster(env, started_here=started)
    if started:
        subprocess.run([str(SLURM_DEV), "down"], check=False, timeout=120)


@dataclass
class CapturedLog:
    """A logger stand-in (``context.log``-like) that keeps every message."""

    messages: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _add(self, level: str, msg: str) -> None:
        with self.lock:
            self.messages.append((level, msg))

    def debug(self, msg: str) -> None:
        self._add("debug", msg)

    def info(self, msg: str) -> None:
        self._add("info", msg)

    def warning(self, msg: str) -> None:
        self._add("warning", msg)

    def error(self, msg: str) -> None:
        self._add("error", msg)

    def text(self) -> str:
        with self.lock:
            return "\n".join(m for _, m in self.messages)


def unique_dir(base: Path, label: str) -> Path:
    """A fresh directory writable by the ssh user too (jobs run as that user)."""
    path = base / f"pytest-{label}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    path.chmod(0o1777)
    return path


ResourceFactory = Callable[..., SlurmResource]


def build_resource(
    kind: str, cluster: Cluster | None, work_dir: Path, **overrides: Any
) -> SlurmResource:
    settings: dict[str, Any] = {
        "transport": kind,
        "work_dir": str(work_dir),
        "poll_interval_seconds": POLL,
    }
    if kind in ("local", "ssh"):
        assert cluster is not None
        settings["slurm_conf"] = cluster.slurm_conf
    if kind == "ssh":
        assert cluster is not None
        settings.update(cluster.ssh_settings())
    settings.update(overrides)
    return SlurmResource(**settings)


@pytest.fixture
def transport_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def work_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Per test: under the cluster's shared dir for real transports, tmp_path for embedded."""
    callspec = getattr(request.node, "callspec", None)
    kind = callspec.params.get("transport_kind") if callspec else None
    if kind in ("local", "ssh"):
        cluster = request.getfixturevalue("cluster")
        return unique_dir(cluster.work_dir, request.node.name.replace("[", "-").strip("]"))
    return tmp_path


@pytest.fixture
def make_resource(request: pytest.FixtureRequest, work_dir: Path) -> ResourceFactory:
    """``make_resource(kind, **overrides)`` -> a SlurmResource on this test's work dir."""

    def make(kind: str, **overrides: Any) -> SlurmResource:
        cluster = request.getfixturevalue("cluster") if kind in ("local", "ssh") else None
        return build_resource(kind, cluster, work_dir, **overrides)

    return make


# -- the long TIMEOUT jobs start with the session and are checked by the last test --------------


@dataclass
class BackgroundRun:
    """A ``resource.run`` in a thread, started at session start."""

    label: str
    thread: threading.Thread
    result: SlurmJobResult | None = None
    error: BaseException | None = None
    log: CapturedLog = field(default_factory=CapturedLog)


def _start(label: str, resource: SlurmResource, spec: JobSpec) -> BackgroundRun:
    holder: dict[str, BackgroundRun] = {}

    def target() -> None:
        run = holder["run"]
        try:
            run.result = resource.run(spec, log=run.log, raise_on_failure=False)
        except BaseException as exc:  # reported by the test that joins the thread
            run.error = exc

    thread = threading.Thread(target=target, name=f"timeout-{label}", daemon=True)
    holder["run"] = BackgroundRun(label, thread)
    thread.start()
    return holder["run"]


@pytest.fixture(scope="session")
def timeout_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, BackgroundRun]:
    """Jobs with a 1-minute limit that outlive it, one per transport, started once.

    ``local`` has ``max_escalations=1``: its script sleeps only on the first attempt, so the
    escalated retry (2-minute limit) completes -- the OUT_OF_MEMORY/TIMEOUT escalation path.
    """
    runs: dict[str, BackgroundRun] = {}
    plain = JobSpec(name="timeout", time_limit_minutes=1, script="echo started; sleep 300")
    embedded_dir = tmp_path_factory.mktemp("timeout-embedded")
    runs["embedded"] = _start("embedded", build_resource("embedded", None, embedded_dir), plain)
    # Only when real-cluster tests were selected (`-m "not slurm"` must not start a cluster).
    if not any(item.get_closest_marker("slurm") for item in request.session.items):
        return runs
    try:
        cluster = request.getfixturevalue("cluster")
    except pytest.skip.Exception:
        return runs
    base = unique_dir(cluster.work_dir, "timeout")
    runs["ssh"] = _start("ssh", build_resource("ssh", cluster, base / "ssh"), plain)
    marker = base / "escalate-marker"
    escalating = JobSpec(
        name="timeout-escalate",
        time_limit_minutes=1,
        script=f"if [ -e {marker} ]; then echo second attempt; exit 0; fi\n"
        f"touch {marker}; echo first attempt; sleep 300",
    )
    runs["local"] = _start(
        "local", build_resource("local", cluster, base / "local", max_escalations=1), escalating
    )
    return runs
