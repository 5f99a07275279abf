"""The ``embedded`` transport: no Slurm at all, the laptop default.

It answers the same argv the resource sends to a real cluster -- ``sbatch --parsable``,
``sacct -X -P -n``, ``squeue -h``, ``scancel`` -- so the resource has a single code path.
``sbatch`` starts a detached supervisor process per job
(:mod:`slurm_resource.transports.embedded_supervisor`) that runs the same job script with bash;
job ids, states, exit codes, MaxRSS and logs live in a state directory, so a restarted process
reattaches exactly as it would on Slurm. Not emulated: scheduling (every job starts at once),
memory limits (no OUT_OF_MEMORY), accounts, partitions (recorded only), sacct's lag.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from slurm_resource.transports import embedded_supervisor as sup
from slurm_resource.transports.base import CommandResult, LocalFilesMixin

_SUPERVISOR = Path(sup.__file__).resolve()
_ACTIVE = {"PENDING", "RUNNING"}
_SUPERVISOR_START_GRACE = 60.0
_SBATCH_VALUE_OPTS = {
    "--job-name": "name",
    "--output": "output",
    "--chdir": "chdir",
    "--partition": "partition",
    "--time": "time",
    "--cpus-per-task": "cpus",
    "--mem": "mem",
    "--account": "account",
}
_SQUEUE_STATE_CODES = {"PD": "PENDING", "R": "RUNNING"}
_PASSED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR")


def _split_opt(arg: str, rest: list[str]) -> tuple[str, str]:
    """``--x=v`` or ``--x v`` -> (``--x``, ``v``), consuming from ``rest`` for the second form."""
    if "=" in arg:
        key, value = arg.split("=", 1)
        return key, value
    if not rest:
        raise ValueError(f"option {arg} needs a value")
    return arg, rest.pop(0)


def _fmt_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%dT%H:%M:%S") if ts else "Unknown"


def _fmt_elapsed(seconds: int) -> str:
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock


def _parse_since(text: str) -> float:
    """``now-72hours`` / ``now-30minutes`` / an ISO time, as sacct's ``-S`` accepts them."""
    match = re.fullmatch(r"now(?:-(\d+)(seconds|minutes|hours|days|weeks)?)?", text)
    if match:
        count = int(match.group(1) or 0)
        unit = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}[
            match.group(2) or "seconds"
        ]
        return time.time() - count * unit
    return datetime.fromisoformat(text).timestamp()


class EmbeddedTransport(LocalFilesMixin):
    """Slurm semantics without Slurm, persisted under ``state_dir``.

    :param state_dir: where job records live (the resource uses ``<work_dir>/.embedded-slurm``).
    """

    def __init__(self, state_dir: str):
        self.state_dir = Path(state_dir)
        (self.state_dir / "jobs").mkdir(parents=True, exist_ok=True)
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self._env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}

    def close(self) -> None:
        """Nothing to release: the supervisors are independent processes."""

    def run(
        self, argv: Sequence[str], *, timeout: float | None = 60.0, idempotent: bool = True
    ) -> CommandResult:
        args = list(argv)
        handlers = {
            "sbatch": self._sbatch,
            "sacct": self._sacct,
            "squeue": self._squeue,
            "scancel": self._scancel,
        }
        handler = handlers.get(args[0]) if args else None
        if handler is None:
            # Anything else (mkdir, sha256sum, ...) is a real command on this host.
            proc = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
            return CommandResult(
                proc.returncode,
                proc.stdout.decode("utf-8", "replace"),
                proc.stderr.decode("utf-8", "replace"),
            )
        try:
            return handler(args[1:])
        except ValueError as exc:
            return CommandResult(1, "", f"{args[0]}: error: {exc}\n")

    # -- records -------------------------------------------------------------------------

    def _next_id(self) -> int:
        counter = self.state_dir / "next_job_id"
        with open(self.state_dir / "next_job_id.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = int(counter.read_text()) if counter.exists() else 1
            counter.write_text(str(current + 1))
        return current

    def _all_records(self) -> Iterable[dict[str, Any]]:
        for path in (self.state_dir / "jobs").glob("*.json"):
            yield self._load(int(path.stem))

    def _load(self, job_id: int) -> dict[str, Any]:
        record = sup.read_record(self.state_dir, job_id)
        if record["state"] in _ACTIVE and not self._supervisor_alive(record):
            # Re-read: the supervisor may have written its final state and exited just now.
            record = sup.read_record(self.state_dir, job_id)
            if record["state"] in _ACTIVE and not self._supervisor_alive(record):
                # The "node" died (machine reboot, supervisor killed): Slurm's NODE_FAIL.
                record.update(state="NODE_FAIL", reason="embedded supervisor died", end=time.time())
                sup.write_record(self.state_dir, record)
        return record

    @staticmethod
    def _supervisor_alive(record: dict[str, Any]) -> bool:
        pid = record.get("supervisor_pid")
        if not pid:
            # Not started yet: give the supervisor process a generous time to come up.
            return time.time() - record["submit"] < _SUPERVISOR_START_GRACE
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return False
        # Guards against a recycled PID: the supervisor's argv ends with the job id.
        return cmdline.rstrip(b"\0").endswith(f"\0{record['id']}".encode())

    # -- sbatch --------------------------------------------------------------------------

    def _sbatch(self, args: list[str]) -> CommandResult:
        opts: dict[str, str] = {}
        script: str | None = None
        while args:
            arg = args.pop(0)
            if arg == "--parsable":
                continue
            if arg.startswith("--"):
                key, value = _split_opt(arg, args)
                if key not in _SBATCH_VALUE_OPTS:
                    raise ValueError(f"the embedded transport does not support sbatch {key}")
                opts[_SBATCH_VALUE_OPTS[key]] = value
            elif script is None:
                script = arg
            else:
                raise ValueError(f"unexpected argument {arg!r}")
        if script is None:
            raise ValueError("no batch script")
        job_id = self._next_id()
        chdir = opts.get("chdir", os.getcwd())
        output = opts.get("output", f"{chdir}/slurm-%j.out").replace("%j", str(job_id))
        if not output.startswith("/"):
            output = f"{chdir}/{output}"
        record: dict[str, Any] = {
            "id": job_id,
            "name": opts.get("name", Path(script).name),
            "user": self.user,
            "script": str(Path(script).resolve()),
            "output": output,
            "chdir": chdir,
            "submit_dir": os.getcwd(),
            "partition": opts.get("partition", "debug"),
            "account": opts.get("account", ""),
            "cpus": int(opts.get("cpus", "1")),
            "mem": opts.get("mem", ""),
            "time_limit_minutes": int(opts.get("time", "60")),
            "state": "PENDING",
            "reason": "None",
            "submit": time.time(),
            "start": None,
            "end": None,
            "exit_code": 0,
            "signal": 0,
            "max_rss_kb": None,
            "node": "localhost",
        }
        sup.write_record(self.state_dir, record)
        proc = subprocess.Popen(
            [sys.executable, str(_SUPERVISOR), str(self.state_dir), str(job_id)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.state_dir / "jobs" / f"{job_id}.supervisor.log", "ab"),  # noqa: SIM115
            env=self._env,
            start_new_session=True,  # survives the submitting process and its signals
        )
        # The supervisor records its own pid when it starts the job (writing it here would race
        # with the supervisor's own update); until then the submit time vouches for it.
        del proc
        return CommandResult(0, f"{job_id}\n", "")

    # -- scancel -------------------------------------------------------------------------

    def _scancel(self, args: list[str]) -> CommandResult:
        ids = [int(a) for arg in args if not arg.startswith("-") for a in arg.split(",")]
        for job_id in ids:
            try:
                record = self._load(job_id)
            except FileNotFoundError:
                return CommandResult(1, "", f"scancel: error: Invalid job id {job_id}\n")
            if record["state"] not in _ACTIVE:
                continue
            (self.state_dir / "jobs" / f"{job_id}.cancel").write_text(str(os.getuid()))
            pid = record.get("supervisor_pid")
            if pid and self._supervisor_alive(record):
                os.kill(pid, 15)
        return CommandResult(0, "", "")

    # -- sacct ---------------------------------------------------------------------------

    def _sacct(self, args: list[str]) -> CommandResult:
        ids: list[str] | None = None
        names: set[str] | None = None
        since: float | None = None
        fields = ["JobID", "JobName", "Partition", "State", "ExitCode"]
        allocations_only = False
        while args:
            arg = args.pop(0)
            if arg in ("-P", "--parsable2", "-n", "--noheader", "-a", "--allusers"):
                continue
            if arg in ("-X", "--allocations"):
                allocations_only = True
            elif arg in ("-j", "--jobs") or arg.startswith("--jobs="):
                _, value = _split_opt(arg, args)
                ids = value.split(",")
            elif arg in ("--name",) or arg.startswith("--name="):
                _, value = _split_opt(arg, args)
                names = set(value.split(","))
            elif arg in ("-S", "--starttime") or arg.startswith("--starttime="):
                _, value = _split_opt(arg, args)
                since = _parse_since(value)
            elif arg in ("-o", "--format") or arg.startswith("--format="):
                _, value = _split_opt(arg, args)
                fields = value.split(",")
            elif arg in ("-u", "--user"):
                args.pop(0)  # one user per embedded state dir
            else:
                raise ValueError(f"the embedded transport does not support sacct {arg}")
        rows: list[str] = []
        if ids is not None:
            for item in ids:
                base, _, step = item.partition(".")
                try:
                    record = self._load(int(base))
                except FileNotFoundError:
                    continue
                rows.extend(self._sacct_rows(record, fields, step or None, allocations_only))
        else:
            for record in sorted(self._all_records(), key=lambda r: r["id"]):
                if names is not None and record["name"] not in names:
                    continue
                # sacct -S selects jobs eligible/running after that time; ended-before are out.
                if since is not None and record["end"] is not None and record["end"] < since:
                    continue
                rows.extend(self._sacct_rows(record, fields, None, allocations_only))
        return CommandResult(0, "".join(r + "\n" for r in rows), "")

    def _sacct_rows(
        self, record: dict[str, Any], fields: list[str], step: str | None, allocations_only: bool
    ) -> list[str]:
        rows = []
        if step is None:
            rows.append("|".join(self._field(record, f, None) for f in fields))
        has_batch = record["start"] is not None
        if has_batch and (step == "batch" or (step is None and not allocations_only)):
            rows.append("|".join(self._field(record, f, "batch") for f in fields))
        return rows

    @staticmethod
    def _field(record: dict[str, Any], field: str, step: str | None) -> str:
        start, end = record["start"], record["end"]
        elapsed = int((end or time.time()) - start) if start else 0
        state = record["state"]
        if state == "CANCELLED" and record["reason"] and step is None:
            state = f"CANCELLED {record['reason']}"
        if step == "batch" and record["state"] == "TIMEOUT":
            state = "CANCELLED"  # as Slurm: the allocation says TIMEOUT, its batch step not
        values = {
            "jobidraw": f"{record['id']}.{step}" if step else str(record["id"]),
            "jobid": f"{record['id']}.{step}" if step else str(record["id"]),
            "jobname": "batch" if step else record["name"],
            "partition": record["partition"],
            "state": state,
            "exitcode": f"{record['exit_code']}:{record['signal']}",
            "elapsedraw": str(elapsed),
            "elapsed": _fmt_elapsed(elapsed),
            "nodelist": record["node"] if start else "None assigned",
            "reason": record["reason"] if step is None and state == "PENDING" else "None",
            "start": _fmt_time(start),
            "end": _fmt_time(end),
            "submit": _fmt_time(record["submit"]),
            "maxrss": f"{record['max_rss_kb']}K"
            if step and record["max_rss_kb"] is not None
            else "",
            "user": record["user"],
            "account": record["account"],
            "timelimit": str(record["time_limit_minutes"]),
        }
        try:
            return values[field.lower()]
        except KeyError:
            raise ValueError(f"the embedded transport has no sacct field {field}") from None

    # -- squeue --------------------------------------------------------------------------

    def _squeue(self, args: list[str]) -> CommandResult:
        fmt = "%i"
        states: set[str] | None = None
        names: set[str] | None = None
        ids: set[int] | None = None
        while args:
            arg = args.pop(0)
            if arg in ("-h", "--noheader"):
                continue
            key, value = _split_opt(arg, args) if arg.startswith("-") else (arg, "")
            if key in ("-o", "--format"):
                fmt = value
            elif key in ("-t", "--states"):
                states = {_SQUEUE_STATE_CODES.get(s.upper(), s.upper()) for s in value.split(",")}
            elif key == "--name":
                names = set(value.split(","))
            elif key in ("-j", "--jobs"):
                ids = {int(i) for i in value.split(",")}
            elif key in ("-u", "--user"):
                continue
            else:
                raise ValueError(f"the embedded transport does not support squeue {key}")
        lines = []
        for record in sorted(self._all_records(), key=lambda r: r["id"]):
            if record["state"] not in _ACTIVE:
                continue
            if states is not None and "ALL" not in states and record["state"] not in states:
                continue
            if names is not None and record["name"] not in names:
                continue
            if ids is not None and record["id"] not in ids:
                continue
            line = (
                fmt.replace("%i", str(record["id"]))
                .replace("%T", record["state"])
                .replace("%j", record["name"])
                .replace("%u", record["user"])
                .replace("%r", record["reason"])
            )
            lines.append(line)
        return CommandResult(0, "".join(line + "\n" for line in lines), "")
