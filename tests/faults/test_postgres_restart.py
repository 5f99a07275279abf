"""Postgres restarted during an ENA ingest: the materialisation fails cleanly, a retry succeeds.

Uses a throwaway private Postgres cluster (initdb + pg_ctl as the ``postgres`` user, its own
port, ``fsync=off``), never the shared one on 5432; the ingest runs in a child process
(``tests.faults.ingest_driver``) whose Django database is that cluster.

1. The restart hits *inside* the samples transaction: another session holds a SHARE lock on
   the sample↔study link table, so ``write_samples`` blocks on its last statement after writing
   the ENA and MGnify sample rows; ``pg_ctl restart -m fast`` then kills every session. The step
   must fail with the database error, the later steps must not run, the first asset's study
   must stay committed and no sample row of the broken transaction may remain.
2. The retry succeeds, although Postgres is restarted once more while its samples request to
   ENA is held (``slow``): the asset reconnects after the network wait instead of using the dead
   connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from tests.fakes.ena.datasets import HOLOFOOD_STUDY
from tests.fakes.ena.server import FakeENA, FaultMode
from tests.faults.enafaults import fault_when
from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
IN_CI = os.environ.get("CI", "").lower() == "true"
DB = "emg_pgfault"


@dataclass
class PrivatePostgres:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DB}"

    def pg_ctl(self, *args: str, timeout: float = 60) -> None:
        options = f"-p {self.port} -c fsync=off -c listen_addresses=127.0.0.1 -k {self.root}"
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "log"),
                "-w",
                "-o",
                options,
                *args,
            ],
            timeout=timeout,
        )

    def connect(self):  # noqa: ANN201 - a psycopg2 connection
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=DB, connect_timeout=5
        )

    def scalar(self, sql: str) -> object:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchone()[0]
        finally:
            conn.close()


def _as_postgres(argv: list[str], timeout: float = 60) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    out = subprocess.run(
        [*prefix, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {out.stdout}{out.stderr}")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    problem = None
    if not (PG_BIN / "initdb").exists():
        problem = f"no PostgreSQL 15 binaries in {PG_BIN}"
    else:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            problem = "no postgres OS user"
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true and a private Postgres cannot be made: {problem}")
        pytest.skip(problem)
    root = Path(tempfile.mkdtemp(prefix="emg-faults-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PrivatePostgres(root, free_port())
    try:
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(cluster.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            timeout=120,
        )
        cluster.pg_ctl("start")
        _as_postgres(
            [
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(cluster.port),
                "-U",
                "postgres",
                DB,
            ]
        )
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            cluster.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(root, ignore_errors=True)


def _driver(cluster: PrivatePostgres, spec: dict) -> subprocess.Popen:
    env = {
        **os.environ,
        "EMG_DATABASE__URL": cluster.url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.ingest_driver", json.dumps(spec)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _result(proc: subprocess.Popen, timeout: float = 120) -> dict:
    out, _ = proc.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert lines, out[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def _wait(predicate, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


COUNTS = {
    "analyses_study": "SELECT count(*) FROM analyses_study",
    "ena_sample": "SELECT count(*) FROM ena_sample",
    "analyses_sample": "SELECT count(*) FROM analyses_sample",
    "analyses_sample_studies": "SELECT count(*) FROM analyses_sample_studies",
    "analyses_run": "SELECT count(*) FROM analyses_run",
    "analyses_assembly": "SELECT count(*) FROM analyses_assembly",
}


def _counts(cluster: PrivatePostgres) -> dict[str, object]:
    return {table: cluster.scalar(sql) for table, sql in COUNTS.items()}


def test_postgres_restart_during_ingest_fails_cleanly_and_a_retry_succeeds(
    private_postgres: PrivatePostgres,
    fake_ena: FakeENA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster = private_postgres
    assert _result(_driver(cluster, {"migrate": True}), timeout=180)["success"]
    spec = {
        "portal_api_url": fake_ena.portal_api_url,
        "partition": HOLOFOOD_STUDY,
        "dagster_home": str(tmp_path / "dagster_home"),
    }

    # 1. Restart while write_samples's transaction is open (blocked on its last statement).
    locker = cluster.connect()
    with locker.cursor() as cur:
        cur.execute("BEGIN; LOCK TABLE analyses_sample_studies IN SHARE MODE")
    proc = _driver(cluster, spec)
    try:
        _wait(
            lambda: (
                proc.poll() is not None
                or cluster.scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query ILIKE '%analyses_sample_studies%'"
                )
                == 1
            ),
            60,
            "the blocked samples write",
        )
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        # The blocked transaction has already written (it holds a transaction id): the sample
        # rows, invisible to others until a commit that never comes.
        assert (
            cluster.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE '%analyses_sample_studies%' AND backend_xid IS NOT NULL"
            )
            == 1
        )
        cluster.pg_ctl("restart", "-m", "fast")
        first = _result(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        locker.close()
    assert not first["success"]
    assert first["steps"] == {"ena_study": "success", "ena_samples": "failure"}, first
    error = first["error"]
    assert "OperationalError" in error or "AdminShutdown" in error, error
    assert "terminating connection" in error or "server closed the connection" in error, error
    # Nothing half-written: the first asset's study is there, no row of the broken transaction.
    assert _counts(cluster) == {
        "analyses_study": 1,
        "ena_sample": 0,
        "analyses_sample": 0,
        "analyses_sample_studies": 0,
        "analyses_run": 0,
        "analyses_assembly": 0,
    }

    # 2. The retry succeeds though Postgres restarts again while it waits on ENA for samples.
    fault = fault_when(
        fake_ena,
        monkeypatch,
        lambda p: p.get("result") == "sample",
        FaultMode.SLOW,
        times=1,
        delay=4.0,
    )
    proc = _driver(cluster, spec)
    try:
        _wait(lambda: fault.remaining == 0, 60, "the retry's samples request")
        cluster.pg_ctl("restart", "-m", "fast")
        retry = _result(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert retry["success"], retry["error"]
    assert set(retry["steps"].values()) == {"success"} and len(retry["steps"]) == 4
    assert _counts(cluster) == {
        "analyses_study": 1,
        "ena_sample": 3,
        "analyses_sample": 3,
        "analyses_sample_studies": 3,
        "analyses_run": 3,
        "analyses_assembly": 2,
    }
