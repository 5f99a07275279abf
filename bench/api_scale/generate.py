# ruff: noqa: E501  (the SQL of the generator reads better unwrapped)
"""Load a Postgres database with an MGnify-sized catalogue, in bulk, on the server side.

10,000 studies, 200,000 samples (20 per study), 1,000,000 runs (5 per sample) and 1,000,000
analyses (one per run), annotations (~20 KB of JSON) on 1 % of the analyses, biomes, ENA
mirrors and the sample↔study links; 2 % of the studies private (owned by a Webin account) and
~1 % suppressed, everything under them likewise. Rows are built by ``INSERT … SELECT … FROM
generate_series`` (multi-row inserts executed inside Postgres: no rows cross the socket), with the
secondary indexes dropped during the load and rebuilt after it, foreign-key triggers off for the
load (the data are consistent by construction), then ``VACUUM ANALYZE`` (statistics and the
visibility map, as autovacuum would leave them).

The database is recreated from scratch (idempotent): only names starting with ``emg_scale``.
Used by ``run.py --generate``; can run alone: ``.venv/bin/python bench/api_scale/generate.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DB_PREFIX = "emg_scale"

STUDIES = 10_000
SAMPLES_PER_STUDY = 20
RUNS_PER_SAMPLE = 5
#: One analysis in this many carries annotations.
ANNOTATED_EVERY = 100
#: Visibility, by study id: private every 50th, suppressed every 97th.
PRIVATE_EVERY = 50
SUPPRESSED_EVERY = 97

TABLES = (
    "analyses_biome",
    "ena_study",
    "analyses_study",
    "ena_sample",
    "analyses_sample",
    "analyses_sample_studies",
    "analyses_run",
    "analyses_analysis",
)

BIOMES = [
    "root",
    "root:Environmental",
    "root:Environmental:Aquatic",
    "root:Environmental:Aquatic:Marine",
    "root:Environmental:Aquatic:Marine:Oceanic",
    "root:Environmental:Aquatic:Freshwater",
    "root:Environmental:Aquatic:Freshwater:Lake",
    "root:Environmental:Terrestrial",
    "root:Environmental:Terrestrial:Soil",
    "root:Environmental:Terrestrial:Soil:Forest soil",
    "root:Environmental:Terrestrial:Soil:Agricultural",
    "root:Host-associated",
    "root:Host-associated:Human",
    "root:Host-associated:Human:Digestive system",
    "root:Host-associated:Human:Digestive system:Large intestine:Fecal",
    "root:Host-associated:Human:Skin",
    "root:Host-associated:Mammals",
    "root:Host-associated:Plants:Rhizosphere",
    "root:Engineered",
    "root:Engineered:Wastewater",
    "root:Engineered:Bioreactor",
]


def check_db_name(name: str) -> str:
    if not name.startswith(DB_PREFIX) or not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(f"database name {name!r} must start with {DB_PREFIX!r} (a-z, 0-9, _)")
    return name


def _connect(dbname: str):
    import psycopg2

    return psycopg2.connect(f"{SERVER_URL}/{dbname}")


def recreate_database(name: str) -> str:
    check_db_name(name)
    connection = _connect("postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return f"{SERVER_URL}/{name}"


def database_exists(name: str) -> bool:
    connection = _connect("postgres")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [check_db_name(name)])
        found = cursor.fetchone() is not None
    connection.close()
    return found


def migrate(url: str) -> None:
    """The platform's own migrations (a subprocess: this module does not set Django up)."""
    env = {
        "EMG_DATABASE__URL": url,
        "EMG_DJANGO__DEBUG": "true",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        stderr=subprocess.DEVNULL,
    )


def annotations_json() -> str:
    """~20 KB of annotations in the pipelines' shape (types → rows)."""
    ssu = [
        {
            "count": 5000 // (i + 1),
            "organism": f"sk__Bacteria;k__;p__Phylum{i % 40};c__Class{i % 90};"
            f"o__Order{i};f__Family{i};g__Genus{i}",
        }
        for i in range(120)
    ]
    lsu = [
        {"count": 900 // (i + 1), "organism": f"sk__Bacteria;k__;p__Phylum{i % 40};g__G{i}"}
        for i in range(40)
    ]
    pfams = [
        {
            "count": 3000 // (i + 1),
            "accession": f"PF{i:05d}",
            "description": f"Protein domain family {i}",
        }
        for i in range(100)
    ]
    return json.dumps({"taxonomies__ssu": ssu, "taxonomies__lsu": lsu, "pfams": pfams})


def _downloads(kind: str) -> str:
    files = [
        {
            "alias": f"{kind}_MERGED_FASTQ_SSU.fasta.gz",
            "path": f"taxonomy/{kind}_ssu.fasta.gz",
            "file_type": "fasta",
            "download_type": "Sequence data",
            "download_group": "taxonomies.closed_reference.ssu",
            "short_description": "Reads with SSU rRNA",
            "long_description": "",
            "file_size_bytes": 1234567,
        },
        {
            "alias": f"{kind}_SSU_OTU.tsv",
            "path": f"taxonomy/{kind}_ssu_otu.tsv",
            "file_type": "tsv",
            "download_type": "Taxonomic analysis",
            "download_group": "taxonomies.closed_reference.ssu",
            "short_description": "OTUs and taxonomic assignments for SSU rRNA",
            "long_description": "",
            "file_size_bytes": 34567,
        },
    ]
    return json.dumps(files)


VISIBILITY = (
    f"(s % {PRIVATE_EVERY} = 0) AS is_private, (s % {SUPPRESSED_EVERY} = 0) AS is_suppressed, "
    f"CASE WHEN s % {PRIVATE_EVERY} = 0 THEN 'Webin-' || (s % 500) END AS webin_submitter"
)
COLS_VIS = "created_at, updated_at, is_private, is_suppressed, webin_submitter"


def statements(annotations: str) -> list[tuple[str, str, list]]:
    """(label, SQL, params) in load order. ``s`` is always the study id of the row."""
    samples = STUDIES * SAMPLES_PER_STUDY
    runs = samples * RUNS_PER_SAMPLE
    # Newer rows were updated later: updated_at grows with the id (plus some jitter).
    ts = "now() - interval '3 years' + (i * interval '90 seconds') * {scale}"
    return [
        (
            "ena_study",
            f"""
            INSERT INTO ena_study (id, {COLS_VIS}, accession, additional_accessions, title, metadata, fetched_at)
            SELECT i, {ts.format(scale=100)}, {ts.format(scale=100)}, {VISIBILITY},
                   'PRJEB' || (100000 + i), jsonb_build_array('ERP' || (100000 + i)),
                   'Metagenomes of site ' || i || ' (' || (ARRAY['marine','soil','gut','wastewater'])[1 + i % 4] || ')',
                   '{{}}'::jsonb, now()
            FROM generate_series(1, {STUDIES}) AS i, LATERAL (SELECT i AS s) v""",
            [],
        ),
        (
            "analyses_study",
            f"""
            INSERT INTO analyses_study (id, {COLS_VIS}, metadata, ena_accessions, title, downloads,
                                        results_dir, biome_id, ena_study_id)
            SELECT i, {ts.format(scale=100)}, {ts.format(scale=100)}, {VISIBILITY},
                   jsonb_build_object('centre_name', 'Centre ' || (i % 300)),
                   jsonb_build_array('PRJEB' || (100000 + i), 'ERP' || (100000 + i)),
                   'Metagenomes of site ' || i || ' (' || (ARRAY['marine','soil','gut','wastewater'])[1 + i % 4] || ')',
                   %s::jsonb, 'studies/MGYS' || lpad(i::text, 8, '0'),
                   1 + (i % {len(BIOMES)}), i
            FROM generate_series(1, {STUDIES}) AS i, LATERAL (SELECT i AS s) v""",
            [_downloads("study")],
        ),
        (
            "ena_sample",
            f"""
            INSERT INTO ena_sample (id, {COLS_VIS}, accession, additional_accessions, title, metadata,
                                    fetched_at, study_id)
            SELECT i, {ts.format(scale=5)}, {ts.format(scale=5)}, {VISIBILITY},
                   'SAMEA' || (1000000 + i), jsonb_build_array('ERS' || (1000000 + i)),
                   'Sample ' || i, '{{}}'::jsonb, now(), s
            FROM generate_series(1, {samples}) AS i,
                 LATERAL (SELECT (i - 1) / {SAMPLES_PER_STUDY} + 1 AS s) v""",
            [],
        ),
        (
            "analyses_sample",
            f"""
            INSERT INTO analyses_sample (id, {COLS_VIS}, metadata, accession, ena_accessions, sample_title,
                                         biome_id, ena_sample_id)
            SELECT i, {ts.format(scale=5)}, {ts.format(scale=5)}, {VISIBILITY},
                   jsonb_build_object('collection_date', '2021-06-01', 'geo_loc_name', 'Site ' || s),
                   'SAMEA' || (1000000 + i), jsonb_build_array('SAMEA' || (1000000 + i), 'ERS' || (1000000 + i)),
                   'Sample ' || i || ' of study ' || s,
                   1 + (s % {len(BIOMES)}), i
            FROM generate_series(1, {samples}) AS i,
                 LATERAL (SELECT (i - 1) / {SAMPLES_PER_STUDY} + 1 AS s) v""",
            [],
        ),
        (
            "analyses_sample_studies",
            f"""
            INSERT INTO analyses_sample_studies (id, sample_id, study_id)
            SELECT i, i, (i - 1) / {SAMPLES_PER_STUDY} + 1 FROM generate_series(1, {samples}) AS i""",
            [],
        ),
        (
            "analyses_run",
            f"""
            INSERT INTO analyses_run (id, {COLS_VIS}, metadata, accession, experiment_type, instrument_platform,
                                      instrument_model, library_strategy, library_layout, library_source,
                                      fastq_files, sample_id, study_id)
            SELECT i, {ts.format(scale=1)}, {ts.format(scale=1)}, {VISIBILITY}, '{{}}'::jsonb,
                   'ERR' || (1000000 + i), e.code, 'ILLUMINA',
                   (ARRAY['Illumina NovaSeq 6000','Illumina MiSeq','Illumina HiSeq 2500'])[1 + i % 3],
                   e.strategy, 'PAIRED', e.source,
                   jsonb_build_array(
                     jsonb_build_object('url', 'ftp.sra.ebi.ac.uk/vol1/fastq/ERR' || (1000000 + i) || '_1.fastq.gz',
                                        'md5', md5(i::text), 'size_bytes', 100000000 + i),
                     jsonb_build_object('url', 'ftp.sra.ebi.ac.uk/vol1/fastq/ERR' || (1000000 + i) || '_2.fastq.gz',
                                        'md5', md5((-i)::text), 'size_bytes', 100000000 + i)),
                   (i - 1) / {RUNS_PER_SAMPLE} + 1, s
            FROM generate_series(1, {runs}) AS i,
                 LATERAL (SELECT (i - 1) / {SAMPLES_PER_STUDY * RUNS_PER_SAMPLE} + 1 AS s) v,
                 LATERAL (SELECT CASE WHEN s % 10 < 5 THEN 'AMPLI' WHEN s % 10 < 8 THEN 'METAG'
                                      WHEN s % 10 < 9 THEN 'METAT' ELSE 'ASSEM' END AS code,
                                 CASE WHEN s % 10 < 5 THEN 'AMPLICON' WHEN s % 10 < 9 THEN 'WGS'
                                      ELSE 'WGS' END AS strategy,
                                 CASE WHEN s % 10 = 8 THEN 'METATRANSCRIPTOMIC' ELSE 'METAGENOMIC' END AS source) e
            """,
            [],
        ),
        (
            "analyses_analysis",
            f"""
            INSERT INTO analyses_analysis (id, {COLS_VIS}, metadata, experiment_type, pipeline_version, status,
                                           status_reason, quality_control, annotations, downloads,
                                           results_dir, assembly_id, run_id, sample_id, study_id)
            SELECT i, {ts.format(scale=1)}, {ts.format(scale=1)}, {VISIBILITY}, '{{}}'::jsonb,
                   CASE WHEN s % 10 < 5 THEN 'AMPLI' WHEN s % 10 < 8 THEN 'METAG'
                        WHEN s % 10 < 9 THEN 'METAT' ELSE 'ASSEM' END,
                   CASE WHEN s % 3 = 0 THEN 'V5' ELSE 'V6' END,
                   'completed', '',
                   jsonb_build_object('before_filtering', 100000 + i % 5000, 'after_filtering', 90000 + i % 4000),
                   CASE WHEN i % {ANNOTATED_EVERY} = 0 THEN %s::jsonb ELSE '{{}}'::jsonb END,
                   %s::jsonb, 'analyses/MGYA' || lpad(i::text, 8, '0'),
                   NULL, i, (i - 1) / {RUNS_PER_SAMPLE} + 1, s
            FROM generate_series(1, {runs}) AS i,
                 LATERAL (SELECT (i - 1) / {SAMPLES_PER_STUDY * RUNS_PER_SAMPLE} + 1 AS s) v""",
            [annotations, _downloads("analysis")],
        ),
    ]


def generate(name: str) -> dict[str, float]:
    """Recreate ``name``, migrate, load; return seconds per phase."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    url = recreate_database(name)
    migrate(url)
    timings["create + migrate"] = time.perf_counter() - started

    connection = _connect(name)
    connection.autocommit = False
    cursor = connection.cursor()
    cursor.execute("SET synchronous_commit = off")
    cursor.execute("SET maintenance_work_mem = '512MB'")
    cursor.execute("SET session_replication_role = replica")  # no FK triggers during the load

    # Secondary indexes (not the primary keys, not the constraint-backed ones): drop, rebuild after.
    phase = time.perf_counter()
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        [list(TABLES)],
    )
    secondary = cursor.fetchall()
    for index_name, _ in secondary:
        cursor.execute(f'DROP INDEX "{index_name}"')
    for lineage_index, lineage in enumerate(BIOMES, start=1):
        cursor.execute(
            "INSERT INTO analyses_biome (id, biome_name, lineage, depth) VALUES (%s, %s, %s, %s)",
            [lineage_index, lineage.split(":")[-1], lineage, lineage.count(":") + 1],
        )
    connection.commit()
    annotations = annotations_json()
    for label, sql, params in statements(annotations):
        step = time.perf_counter()
        if params:  # literal % (modulo) must be doubled when psycopg2 interpolates
            cursor.execute(sql.replace("%", "%%").replace("%%s", "%s"), params)
        else:
            cursor.execute(sql)
        connection.commit()
        timings[f"insert {label}"] = time.perf_counter() - step
        print(
            f"  … {label}: {cursor.rowcount:,} rows in {timings[f'insert {label}']:.1f} s",
            flush=True,
        )
    timings["load (all tables)"] = time.perf_counter() - phase

    step = time.perf_counter()
    for _, definition in secondary:
        cursor.execute(definition)
        connection.commit()
    timings[f"rebuild {len(secondary)} secondary indexes"] = time.perf_counter() - step
    print(
        f"  … {len(secondary)} secondary indexes rebuilt in {time.perf_counter() - step:.1f} s",
        flush=True,
    )

    # Identity sequences after explicit ids, so the platform's own inserts keep working.
    for table in TABLES:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    connection.commit()
    connection.autocommit = True
    step = time.perf_counter()
    for table in TABLES:
        cursor.execute(f"VACUUM ANALYZE {table}")
    timings["vacuum analyze"] = time.perf_counter() - step
    connection.close()
    timings["total"] = time.perf_counter() - started
    return timings


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="emg_scale", help="name (starts with emg_scale)")
    args = parser.parse_args()
    timings = generate(check_db_name(args.database))
    for phase, seconds in timings.items():
        print(f"{phase:<40} {seconds:8.1f} s")


if __name__ == "__main__":
    main()
