"""Where a request's time goes: the API in-process (no HTTP, no gunicorn) on the kept scale
database, per endpoint: wall ms per request, SQL queries and their ms, and with ``--profile``
the top functions by cumulative time.

    .venv/bin/python bench/api_scale/per_request.py                   # every endpoint, 200 requests
    .venv/bin/python bench/api_scale/per_request.py --only 'analyses' --profile

Needs the database of ``run.py --generate --keep`` (``emg_scale``). Complements ``run.py``: wrk's
requests/s on 2 cores shared with Postgres and wrk is about ``1000 / ms`` per worker here.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]
BATCH = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="emg_scale")
    parser.add_argument("--requests", type=int, default=200, help="per endpoint")
    parser.add_argument("--only", default="", help="regex on endpoint names")
    parser.add_argument("--profile", action="store_true", help="cProfile, top 25 by cumtime")
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    os.environ.setdefault(
        "EMG_DATABASE__URL", f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    )
    os.environ.setdefault("EMG_DJANGO__DEBUG", "false")
    os.environ.setdefault("EMG_DJANGO__SECRET_KEY", "per-request-bench-" + "x" * 40)
    os.environ.setdefault("EMG_API__JWT_SECRET", "per-request-bench-" + "y" * 40)
    import django

    django.setup()
    import run as bench
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    pattern = re.compile(args.only) if args.only else None
    print(f"{'endpoint':48} {'ms/req':>8} {'CPU ms':>8} {'queries':>8} {'SQL ms':>8}")
    for endpoint in bench.endpoints(random.Random(7)):
        if endpoint.kind == "naive" or (pattern and not pattern.search(endpoint.name)):
            continue
        paths = endpoint.paths
        for path in paths[:5]:  # warm caches (counts, anchors, biomes), connections
            assert client.get(path).status_code == 200, path
        with CaptureQueriesContext(connection) as captured:
            client.get(paths[0])
        queries = captured.captured_queries
        sql_ms = sum(float(q["time"]) for q in queries) * 1000
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        # Batches of 20: the median batch is robust to the machine's other load.
        walls, cpus = [], []
        for batch in range(max(1, args.requests // BATCH)):
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(BATCH):
                client.get(paths[(batch * BATCH + i) % len(paths)])
            walls.append((time.perf_counter() - wall) * 1000 / BATCH)
            cpus.append((time.process_time() - cpu) * 1000 / BATCH)
        if profiler:
            profiler.disable()
        print(
            f"{endpoint.name[:48]:48} {statistics.median(walls):8.2f} "
            f"{statistics.median(cpus):8.2f} {len(queries):8d} {sql_ms:8.2f}"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
