"""The v2 API at scale: a 1M-run/1M-analysis Postgres catalogue under gunicorn, loaded with wrk.

    .venv/bin/python bench/api_scale/run.py --generate --load --keep   # (re)generate, load, keep
    .venv/bin/python bench/api_scale/run.py --load --keep              # reuse the kept database

``--generate`` recreates the database (``generate.py``: ~70 s); ``--load`` reuses it (and
generates it first if it is missing). Without ``--keep`` the database is dropped at the end.
The API runs under gunicorn (2 sync workers, 127.0.0.1, DEBUG off) with bench-only settings whose
URLconf also mounts the naive comparison endpoint (``naive.py``). Each endpoint gets a warm-up
run, then a measured wrk run (``--duration`` s, ``--connections``); detail and nested endpoints
rotate over 500 random visible objects. Prints one table (req/s, p50, p99, target, PASS/MISS),
the deep-page ratio, naive vs platform, the first (cold) deep-page requests, and the workers'
peak RSS. Figures are not asserted: a miss prints MISS and the script exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import generate as gen  # noqa: E402

API = "/api/v2"
LIST_RPS, LIST_P99_MS, DETAIL_RPS, DEEP_RATIO = 300, 100.0, 500, 3.0


def public_study(s: int) -> bool:
    return s % gen.PRIVATE_EVERY != 0 and s % gen.SUPPRESSED_EVERY != 0


def study_of_sample(i: int) -> int:
    return (i - 1) // gen.SAMPLES_PER_STUDY + 1


def study_of_run(j: int) -> int:
    return (j - 1) // (gen.SAMPLES_PER_STUDY * gen.RUNS_PER_SAMPLE) + 1


def visible_ids(count: int, upper: int, study_of, rng: random.Random, every: int = 1) -> list[int]:
    ids: list[int] = []
    while len(ids) < count:
        candidate = rng.randrange(1, upper // every + 1) * every
        if public_study(study_of(candidate)):
            ids.append(candidate)
    return ids


@dataclass
class Endpoint:
    name: str
    kind: str  # list | deep | detail | nested | annotations | naive
    paths: list[str]
    result: dict = field(default_factory=dict)


def endpoints(rng: random.Random, n: int = 500) -> list[Endpoint]:
    studies = gen.STUDIES
    samples = studies * gen.SAMPLES_PER_STUDY
    runs = samples * gen.RUNS_PER_SAMPLE
    s_ids = visible_ids(n, studies, lambda s: s, rng)
    sa_ids = visible_ids(n, samples, study_of_sample, rng)
    r_ids = visible_ids(n, runs, study_of_run, rng)
    a_ids = visible_ids(n, runs, study_of_run, rng)
    ann_ids = visible_ids(n, runs, study_of_run, rng, every=gen.ANNOTATED_EVERY)
    mgys = [f"MGYS{s:08d}" for s in s_ids]
    return [
        Endpoint("studies/", "list", [f"{API}/studies/"]),
        Endpoint("samples/", "list", [f"{API}/samples/"]),
        Endpoint("runs/", "list", [f"{API}/runs/"]),
        Endpoint(
            "runs/?has_experiment_type=METAT", "list", [f"{API}/runs/?has_experiment_type=METAT"]
        ),
        Endpoint("analyses/", "list", [f"{API}/analyses/"]),
        Endpoint("analyses/?page=10000", "deep", [f"{API}/analyses/?page=10000"]),
        Endpoint("runs/?page=10000", "deep", [f"{API}/runs/?page=10000"]),
        Endpoint("studies/{MGYS}", "detail", [f"{API}/studies/{a}" for a in mgys]),
        Endpoint(
            "samples/{SAMEA}", "detail", [f"{API}/samples/SAMEA{1000000 + i}" for i in sa_ids]
        ),
        Endpoint("runs/{ERR}", "detail", [f"{API}/runs/ERR{1000000 + j}" for j in r_ids]),
        Endpoint("analyses/{MGYA}", "detail", [f"{API}/analyses/MGYA{k:08d}" for k in a_ids]),
        Endpoint(
            "studies/{MGYS}/analyses/", "nested", [f"{API}/studies/{a}/analyses/" for a in mgys]
        ),
        Endpoint(
            "studies/{MGYS}/samples/", "nested", [f"{API}/studies/{a}/samples/" for a in mgys]
        ),
        Endpoint(
            "samples/{SAMEA}/runs/",
            "nested",
            [f"{API}/samples/SAMEA{1000000 + i}/runs/" for i in sa_ids],
        ),
        Endpoint(
            "runs/{ERR}/analyses/",
            "nested",
            [f"{API}/runs/ERR{1000000 + j}/analyses/" for j in r_ids],
        ),
        Endpoint(
            "analyses/{MGYA}/annotations (~20 KB)",
            "annotations",
            [f"{API}/analyses/MGYA{k:08d}/annotations" for k in ann_ids],
        ),
        Endpoint(
            "analyses/{MGYA}/annotations/taxonomies__ssu",
            "annotations_list",
            [f"{API}/analyses/MGYA{k:08d}/annotations/taxonomies__ssu" for k in ann_ids],
        ),
        Endpoint(
            "NAIVE analyses/ (ORM objects, per-item FK queries, COUNT(*))",
            "naive",
            ["/bench-naive/analyses/"],
        ),
    ]


def target_of(endpoint: Endpoint) -> str:
    if endpoint.kind in {"list", "nested", "annotations_list", "deep"}:
        return f">= {LIST_RPS}/s, p99 <= {LIST_P99_MS:.0f} ms"
    if endpoint.kind in {"detail", "annotations"}:
        return f">= {DETAIL_RPS}/s"
    return "-"


def verdict(endpoint: Endpoint) -> str:
    r = endpoint.result
    if not r or r.get("errors"):
        return "MISS"
    if endpoint.kind in {"list", "nested", "annotations_list", "deep"}:
        ok = r["rps"] >= LIST_RPS and r["p99_ms"] <= LIST_P99_MS
    elif endpoint.kind in {"detail", "annotations"}:
        ok = r["rps"] >= DETAIL_RPS
    else:
        return "-"
    return "PASS" if ok else "MISS"


# ---------------------------------------------------------------------------------------------
# gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, database_url: str, workers: int, log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "EMG_DATABASE__URL": database_url,
            "EMG_DJANGO__DEBUG": "false",  # DEBUG keeps every query in memory
            "EMG_DJANGO__SECRET_KEY": secrets.token_urlsafe(50),
            "EMG_API__JWT_SECRET": secrets.token_urlsafe(50),
            "PYTHONPATH": f"{HERE}{os.pathsep}{ROOT}",
        }
        self.log = open(log_path, "w")  # noqa: SIM115
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(ROOT),
                "--timeout",
                "120",
                "--log-level",
                "warning",
                "emg_django.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log_path}")
            try:
                urllib.request.urlopen(f"{self.base}{API}/biomes/", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not answer in 60 s")
        while len(self.workers()) < workers:
            time.sleep(0.2)

    def workers(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def peak_rss_mb(self) -> dict[int, float]:
        peaks = {}
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                peaks[pid] = int(match.group(1)) / 1024
        return peaks

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# ---------------------------------------------------------------------------------------------
# wrk

LUA = """
local paths = {%s}
local n = #paths
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
request = function()
  return wrk.format("GET", paths[math.random(n)])
end
"""


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(text)
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    base: str,
    paths: list[str],
    seconds: float,
    connections: int,
    threads: int,
    workdir: Path,
    timeout_s: int = 30,
) -> dict:
    script = workdir / "paths.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        f"--timeout={timeout_s}s",
        "-s",
        str(script),
        base,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": rps,
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
        "requests": requests,
        "errors": (int(non2xx.group(1)) if non2xx else 0),
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "command": " ".join(command[:-3] + [base]),
    }


def check_paths(base: str, endpoint: Endpoint, sample: int = 3) -> str:
    """GET a few of the endpoint's paths: each must answer 200 with JSON."""
    for path in endpoint.paths[:sample]:
        try:
            with urllib.request.urlopen(base + path, timeout=120) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as error:
            return f"{path}: HTTP {error.code} {error.read()[:200]!r}"
        listed = endpoint.kind in {"list", "deep", "nested", "annotations_list", "naive"}
        if listed and not body.get("items"):
            return f"{path}: empty page"
    return ""


def timed_get(url: str) -> float:
    started = time.perf_counter()
    urllib.request.urlopen(url, timeout=120).read()
    return (time.perf_counter() - started) * 1000


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generate", action="store_true", help="(re)create and load the database")
    parser.add_argument("--load", action="store_true", help="run gunicorn + wrk against it")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--database", default="emg_scale", help="name (starts with emg_scale)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="", help="regex on endpoint names")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not (args.generate or args.load):
        parser.error("give --generate and/or --load")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    name = gen.check_db_name(args.database)
    database_url = f"{gen.SERVER_URL}/{name}"

    if args.generate or not gen.database_exists(name):
        print(f"Generating {name} …", flush=True)
        timings = gen.generate(name)
        for phase, seconds in timings.items():
            print(f"  {phase:<40} {seconds:8.1f} s")
    if not args.load:
        return

    rng = random.Random(7)
    chosen = [e for e in endpoints(rng) if re.search(args.only, e.name)]
    workdir = Path(tempfile.mkdtemp(prefix="emg-api-scale-"))
    server = Gunicorn(database_url, args.workers, workdir / "gunicorn.log")
    cold: list[float] = []
    try:
        # First requests of a deep page on a fresh server (anchors not yet cached in the worker).
        deep = next((e for e in chosen if e.kind == "deep"), None)
        if deep is not None:
            cold = [timed_get(server.base + deep.paths[0]) for _ in range(4)]
        for endpoint in chosen:
            problem = check_paths(server.base, endpoint)
            if problem:
                endpoint.result = {"errors": 1, "problem": problem}
                print(f"  ! {endpoint.name}: {problem}", flush=True)
                continue
            naive = endpoint.kind == "naive"
            seconds = max(args.duration, 15.0) if naive else args.duration
            if args.warmup > 0:
                run_wrk(
                    server.base,
                    endpoint.paths,
                    min(args.warmup, 3.0) if naive else args.warmup,
                    args.connections,
                    args.threads,
                    workdir,
                )
            endpoint.result = run_wrk(
                server.base, endpoint.paths, seconds, args.connections, args.threads, workdir
            )
            r = endpoint.result
            print(
                f"  … {endpoint.name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, "
                f"p99 {r['p99_ms']:.1f} ms ({r['requests']} requests, {r['errors']} non-2xx)",
                flush=True,
            )
        peaks = server.peak_rss_mb()
    finally:
        server.stop()
        if not args.keep:
            gen_drop(name)
    report(chosen, peaks, cold, args)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "endpoints": [{"name": e.name, "kind": e.kind, **e.result} for e in chosen],
                    "worker_peak_rss_mb": peaks,
                    "cold_deep_ms": cold,
                },
                indent=2,
            )
        )


def gen_drop(name: str) -> None:
    connection = gen._connect("postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{gen.check_db_name(name)}" WITH (FORCE)')
    connection.close()


def report(chosen: list[Endpoint], peaks: dict[int, float], cold: list[float], args) -> None:
    print()
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency (after "
        f"{args.warmup:g} s warm-up), gunicorn {args.workers} sync workers, 127.0.0.1"
    )
    print()
    print("| endpoint | req/s | p50 ms | p99 ms | target | |")
    print("|---|---:|---:|---:|---|---|")
    for e in chosen:
        r = e.result
        if "rps" not in r:
            print(
                f"| {e.name} | – | – | – | {target_of(e)} | MISS ({r.get('problem', 'failed')}) |"
            )
            continue
        errors = f" ({r['errors']} non-2xx)" if r["errors"] else ""
        print(
            f"| {e.name} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{target_of(e)} | {verdict(e)}{errors} |"
        )
    by_name = {e.name: e.result for e in chosen}
    print()
    first = by_name.get("analyses/", {})
    for deep_name, page1_name in (
        ("analyses/?page=10000", "analyses/"),
        ("runs/?page=10000", "runs/"),
    ):
        deep, page1 = by_name.get(deep_name, {}), by_name.get(page1_name, {})
        if "rps" in deep and "rps" in page1:
            p50 = deep["p50_ms"] / page1["p50_ms"]
            per_request = page1["rps"] / deep["rps"]
            ok = "PASS" if max(p50, per_request) <= DEEP_RATIO else "MISS"
            print(
                f"deep page {deep_name} vs page 1: p50 {p50:.2f}×, time per request "
                f"(1/throughput) {per_request:.2f}× (target <= {DEEP_RATIO:g}×): {ok}"
            )
    naive = next((e.result for e in chosen if e.kind == "naive"), {})
    if "rps" in naive and "rps" in first:
        print(
            f"platform analyses/ vs naive: {first['rps'] / naive['rps']:.0f}× the throughput "
            f"({first['rps']:,.0f} vs {naive['rps']:,.1f} req/s), p50 "
            f"{naive['p50_ms'] / first['p50_ms']:.0f}× lower ({first['p50_ms']:.1f} vs "
            f"{naive['p50_ms']:.0f} ms)"
        )
    if cold:
        print(
            "first requests of analyses/?page=10000 on a fresh server (anchors computed once per "
            "worker, then cached): " + ", ".join(f"{ms:.0f} ms" for ms in cold)
        )
    if peaks:
        print(
            "gunicorn worker peak RSS (VmHWM) after the run: "
            + ", ".join(f"{mb:.0f} MB" for mb in peaks.values())
        )


if __name__ == "__main__":
    main()
