"""Helpers around the stand-in ``nextflow`` (TEST FIXTURE) for the analysis tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
NEXTFLOW_STANDIN = REPO / "tests" / "fixtures" / "nextflow_standin" / "nextflow"


def run_standin(
    pipeline: str,
    samplesheet_rows: Sequence[Mapping[str, str]],
    columns: Sequence[str],
    base: Path,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Run the stand-in on a samplesheet in ``base``; return its outdir."""
    base.mkdir(parents=True, exist_ok=True)
    sheet = base / "samplesheet.csv"
    lines = [",".join(columns)] + [
        ",".join(row.get(c, "") for c in columns) for row in samplesheet_rows
    ]
    sheet.write_text("\n".join(lines) + "\n")
    outdir = base / "results"
    subprocess.run(
        [
            str(NEXTFLOW_STANDIN),
            "run",
            pipeline,
            "-r",
            "v6",
            "-profile",
            "test",
            "-resume",
            "-work-dir",
            str(base / "work"),
            "--input",
            str(sheet),
            "--outdir",
            str(outdir),
            "-with-trace",
            str(base / "trace.tsv"),
            "-ansi-log",
            "false",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    return outdir
