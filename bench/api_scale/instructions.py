"""Python instructions per API request, counted by ``valgrind --tool=callgrind``: a figure that
does not drift with the machine's load (wall-clock figures here drift up to 2×).

    .venv/bin/python bench/api_scale/instructions.py --only '^analyses/$'
    .venv/bin/python bench/api_scale/instructions.py --only 'annotations \\(' --root /tmp/old-tree

Per endpoint, the API runs in-process (Django test client, settings of ``bench_settings``) on the
kept scale database (``run.py --generate --keep``) twice under callgrind: 10 warm-up requests
only, then the same plus ``--requests`` more; the difference divided by ``--requests`` is the
cost of one request (Postgres, a separate process, is not counted). ``--root`` measures another
checkout of the platform (e.g. the previous commit, in a ``git worktree``) on the same database.
Each measurement takes 1–2 minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WARMUP = 10


def _serve(root: Path, pattern: str, requests: int) -> None:
    """The child under callgrind: warm up, then ``requests`` requests of the first endpoint
    matching ``pattern``."""
    sys.path[:0] = [str(root / "bench" / "api_scale"), str(root)]
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    import django

    django.setup()
    import run as bench
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    [endpoint, *_] = [e for e in bench.endpoints(random.Random(7)) if re.search(pattern, e.name)]
    for path in endpoint.paths[:WARMUP]:
        assert client.get(path).status_code == 200, path
    for i in range(requests):
        client.get(endpoint.paths[i % len(endpoint.paths)])


def _instructions(root: Path, pattern: str, requests: int) -> int:
    out = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, __file__, "--child", "--root", str(root), "--only", pattern,
            "--requests", str(requests),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"Collected : (\d+)", out.stderr)
    assert match, out.stderr[-2000:]
    return int(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", required=True, help="regex on endpoint names (first match)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--root", type=Path, default=ROOT, help="the platform checkout to run")
    parser.add_argument("--database", default="emg_scale")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault(
        "EMG_DATABASE__URL", f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    )
    os.environ.setdefault("EMG_DJANGO__DEBUG", "false")
    os.environ.setdefault("EMG_DJANGO__SECRET_KEY", "instructions-bench-" + "x" * 40)
    os.environ.setdefault("EMG_API__JWT_SECRET", "instructions-bench-" + "y" * 40)
    if args.child:
        _serve(args.root, args.only, args.requests)
        return 0
    base = _instructions(args.root, args.only, 0)
    loaded = _instructions(args.root, args.only, args.requests)
    per_request = (loaded - base) / args.requests
    print(f"{args.only}  {args.root}: {per_request / 1e6:.1f} M instructions per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
