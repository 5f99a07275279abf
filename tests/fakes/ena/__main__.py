"""Run the fake ENA by hand: ``python -m tests.fakes.ena --port 8085 --dataset realistic``.

Prints the URLs and the ``EMG_*`` variables that point the platform at it, then serves until
interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time

from tests.fakes.ena.datasets import (
    DATAHUB_PASSWORD,
    DATAHUB_USERNAME,
    generate_studies,
    generate_study,
    seed_realistic,
)
from tests.fakes.ena.server import FakeENA


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.ena", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8085, help="port (0 = any free one)")
    parser.add_argument(
        "--dataset",
        choices=("realistic", "generated", "empty"),
        default="realistic",
        help="realistic: ENA.md's examples and a few synthetic studies; generated: --studies "
        "small studies plus one big one (--big-samples/--big-runs)",
    )
    parser.add_argument("--studies", type=int, default=100, help="generated: how many studies")
    parser.add_argument("--first-public", type=dt.date.fromisoformat, default=dt.date(2024, 1, 1))
    parser.add_argument("--days", type=int, default=30, help="generated: spread over N days")
    parser.add_argument("--big-samples", type=int, default=0, help="generated: big study samples")
    parser.add_argument("--big-runs", type=int, default=0, help="generated: big study runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shuffle", action="store_true", help="unstable row order, like ENA")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    fake = FakeENA(args.host, args.port, shuffle_seed=args.seed if args.shuffle else None)
    started = time.perf_counter()
    if args.dataset == "realistic":
        seed_realistic(fake)
    elif args.dataset == "generated":
        fake.set_datahub_account(DATAHUB_USERNAME, DATAHUB_PASSWORD)
        generate_studies(fake, args.studies, args.first_public, args.days, seed=args.seed)
        if args.big_runs or args.big_samples:
            big = generate_study(
                fake, None, max(args.big_samples, 1), args.big_runs, seed=args.seed
            )
            print(
                f"big study: {big.accession} ({len(big.sample_accessions)} samples, "
                f"{len(big.run_accessions)} runs)"
            )
    else:
        fake.set_datahub_account(DATAHUB_USERNAME, DATAHUB_PASSWORD)
    loaded = time.perf_counter() - started
    fake.start()
    print(f"fake ENA (a test fixture) on {fake.base_url}, data loaded in {loaded:.2f}s")
    print(f"  Portal API: {fake.portal_api_url}")
    print(f"  Webin auth: {fake.webin_auth_url}")
    print("Point the platform at it:")
    print(f"  export EMG_ENA__PORTAL_API_URL={fake.portal_api_url}")
    print(f"  export EMG_WEBIN__AUTH_URL={fake.webin_auth_url}")
    print(f"  export EMG_WEBIN__DATAHUB_USERNAME={DATAHUB_USERNAME}")
    print(f"  export EMG_WEBIN__DATAHUB_PASSWORD={DATAHUB_PASSWORD}")
    print("Try:")
    print(
        f"  curl '{fake.portal_api_url}/search?result=read_study&format=json&dataPortal=metagenome"
        "&fields=study_title'"
    )
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping")
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
