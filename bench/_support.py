"""Shared helpers of the ENA benchmarks (ingest_study.py, sensor_tick.py): a scratch Postgres
database, Django set up on it, the fake ENA in a subprocess, timing and memory figures.

Not a test module and not part of the platform: the benchmarks print figures, they do not assert.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Benchmarks may only touch databases whose names start with this (others run tests).
DB_PREFIX = "emg_bench"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432"


def check_db_name(name: str) -> str:
    if not name.startswith(DB_PREFIX) or not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(
            f"database name {name!r} must start with {DB_PREFIX!r} (lower case, digits, _)"
        )
    return name


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create ``name`` on the server; return its URL."""
    import psycopg2

    check_db_name(name)
    connection = psycopg2.connect(f"{server_url}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return f"{server_url}/{name}"


def drop_database(server_url: str, name: str) -> None:
    import psycopg2

    check_db_name(name)
    connection = psycopg2.connect(f"{server_url}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def setup_django(database_url: str, debug: bool = True) -> None:
    """Point the platform at ``database_url`` and set Django up (before any model import)."""
    os.environ["EMG_DATABASE__URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "emg_django.settings"
    os.environ["EMG_DJANGO__DEBUG"] = "true" if debug else "false"
    if not debug:
        os.environ.setdefault("EMG_DJANGO__SECRET_KEY", secrets.token_urlsafe(50))
        os.environ.setdefault("EMG_API__JWT_SECRET", secrets.token_urlsafe(50))
    import logging

    import django

    # httpx logs every request at INFO: keep the benchmark's output to its figures.
    for name in ("httpx", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    django.setup()


def migrate() -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of another live process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


class FakeENAProcess:
    """``python -m tests.fakes.ena`` in a subprocess (its memory apart from the benchmark's)."""

    def __init__(self, args: Sequence[str], timeout: float = 300.0) -> None:
        command = [sys.executable, "-u", "-m", "tests.fakes.ena", "--port", "0", *args]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.portal_api_url = ""
        self.loaded_seconds: float | None = None
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                err = self.process.stderr.read() if self.process.stderr else ""
                raise RuntimeError(
                    f"the fake ENA exited before serving:\n{''.join(self.lines)}{err}"
                )
            self.lines.append(line)
            if match := re.search(r"data loaded in ([\d.]+)s", line):
                self.loaded_seconds = float(match.group(1))
            if line.strip().startswith("Portal API:"):
                self.portal_api_url = line.split(":", 1)[1].strip()
                break
        if not self.portal_api_url:
            self.stop()
            raise RuntimeError("the fake ENA did not start in time")
        # Keep draining its output so that it never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for _line in self.process.stdout:
            pass

    def find(self, pattern: str) -> re.Match[str] | None:
        for line in self.lines:
            if match := re.search(pattern, line):
                return match
        return None

    @property
    def peak_rss_mb(self) -> float | None:
        return process_peak_rss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def temp_dagster_home(yaml_text: str = "") -> Iterator[Path]:
    """A temporary DAGSTER_HOME (SQLite storage unless ``yaml_text`` says otherwise)."""
    import tempfile

    previous = os.environ.get("DAGSTER_HOME")
    with tempfile.TemporaryDirectory(prefix="emg-bench-dagster-") as home:
        Path(home, "dagster.yaml").write_text(yaml_text)
        os.environ["DAGSTER_HOME"] = home
        try:
            yield Path(home)
        finally:
            if previous is None:
                os.environ.pop("DAGSTER_HOME", None)
            else:
                os.environ["DAGSTER_HOME"] = previous


@dataclass
class Row:
    phase: str
    seconds: float
    rows: int | None = None
    peak_rss_mb: float | None = None
    note: str = ""

    @property
    def rate(self) -> str:
        if not self.rows or self.seconds <= 0:
            return "-"
        return f"{self.rows / self.seconds:,.0f}"


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(
        self,
        phase: str,
        seconds: float,
        rows: int | None = None,
        note: str = "",
        rss: float | None = None,
    ) -> Row:
        row = Row(phase, seconds, rows, peak_rss_mb() if rss is None else rss, note)
        self.rows.append(row)
        print(f"  … {phase}: {seconds:.2f} s" + (f" ({note})" if note else ""), flush=True)
        return row

    def render(self) -> str:
        header = ("phase", "seconds", "rows", "rows/s", "peak RSS MB", "note")
        lines = [header]
        for row in self.rows:
            lines.append(
                (
                    row.phase,
                    f"{row.seconds:.2f}",
                    "-" if row.rows is None else f"{row.rows:,}",
                    row.rate,
                    "-" if row.peak_rss_mb is None else f"{row.peak_rss_mb:.0f}",
                    row.note,
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        out = []
        for index, line in enumerate(lines):
            out.append(
                "  ".join(
                    cell.ljust(widths[i]) if i in (0, 5) else cell.rjust(widths[i])
                    for i, cell in enumerate(line)
                ).rstrip()
            )
            if index == 0:
                out.append("  ".join("-" * w for w in widths))
        return "\n".join(out)


def verdict(
    name: str, value: float, target: float, unit: str, higher_is_better: bool = False
) -> str:
    ok = value >= target if higher_is_better else value <= target
    sign = "≥" if higher_is_better else "≤"
    verdict = "PASS" if ok else "MISS"
    return f"  {verdict}  {name}: {value:,.2f} {unit} (target {sign} {target:g} {unit})"


class Timer:
    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
