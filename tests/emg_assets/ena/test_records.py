"""Typed ENA records: strings in, typed fields out, bad values reported not fatal."""

from __future__ import annotations

import datetime as dt
import time

from emg_assets.ena.records import (
    ENAAssemblyRecord,
    ENAReadRunRecord,
    ENASampleRecord,
    ENAStudyRecord,
    FastqFile,
    ParseProblem,
    parse_records,
)
from emg_assets.ena.vocabulary import LibraryLayout, LibraryStrategy

#: The run of ENA.md, with files added.
GUAYMAS_RUN = {
    "run_accession": "SRR6301444",
    "sample_accession": "SAMN06251743",
    "secondary_sample_accession": "SRS2696342",
    "study_accession": "PRJNA362212",
    "secondary_study_accession": "SRP125161",
    "library_source": "METAGENOMIC",
    "library_strategy": "WGS",
    "library_layout": "PAIRED",
    "instrument_platform": "ILLUMINA",
    "instrument_model": "Illumina HiSeq 2500",
    "read_count": "260375006",
    "base_count": "65506757180",
    "library_name": "4484_3-4cm",
    "sample_title": "Metagenome from Guaymas Basin sediment dive 4484 depth 3-4cm",
    "first_public": "",
    "fastq_ftp": "ftp.sra.ebi.ac.uk/vol1/fastq/SRR630/004/SRR6301444/SRR6301444_1.fastq.gz;"
    "ftp.sra.ebi.ac.uk/vol1/fastq/SRR630/004/SRR6301444/SRR6301444_2.fastq.gz",
    "fastq_md5": "0f1e2d3c4b5a69788796a5b4c3d2e1f0;00112233445566778899aabbccddeeff",
    "fastq_bytes": "1234567890;1234567891",
}


def test_run_is_typed_and_raw_kept_without_empties() -> None:
    result = parse_records(ENAReadRunRecord, [GUAYMAS_RUN])
    assert result.problems == [] and result.skipped == 0
    (run,) = result.records
    assert run.accession == "SRR6301444"
    assert run.read_count == 260375006 and run.base_count == 65506757180
    assert run.first_public is None
    assert run.library_layout is LibraryLayout.PAIRED
    assert run.library_strategy == LibraryStrategy.WGS
    assert run.secondary_study_accession == ["SRP125161"]
    assert "first_public" not in run.raw and run.raw["read_count"] == "260375006"
    assert run.fastq_files == [
        FastqFile(
            url="ftp://ftp.sra.ebi.ac.uk/vol1/fastq/SRR630/004/SRR6301444/SRR6301444_1.fastq.gz",
            md5="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            size_bytes=1234567890,
            read_number=1,
        ),
        FastqFile(
            url="ftp://ftp.sra.ebi.ac.uk/vol1/fastq/SRR630/004/SRR6301444/SRR6301444_2.fastq.gz",
            md5="00112233445566778899aabbccddeeff",
            size_bytes=1234567891,
            read_number=2,
        ),
    ]
    assert "raw" not in run.model_dump(exclude={"raw"}) and "problems" not in run.model_dump()


def test_bad_values_are_reported_and_the_record_kept() -> None:
    rows = [
        {**GUAYMAS_RUN, "read_count": "lots", "first_public": "2017-13-45"},
        {**GUAYMAS_RUN, "run_accession": "ERR4918394", "fastq_bytes": "12;x"},
        {**GUAYMAS_RUN, "run_accession": "not-an-accession"},
        {"read_count": "1"},
    ]
    result = parse_records(ENAReadRunRecord, rows)
    assert [run.run_accession for run in result.records] == ["SRR6301444", "ERR4918394"]
    assert result.skipped == 2
    first, second = result.records
    assert first.read_count is None and first.first_public is None and first.base_count
    assert {(p.accession, p.field, p.value) for p in first.problems} == {
        ("SRR6301444", "read_count", "lots"),
        ("SRR6301444", "first_public", "2017-13-45"),
    }
    # The whole ENA value is quoted, and no echo of the dropped field as a consistency problem.
    assert [(p.field, p.value) for p in second.problems] == [("fastq_bytes", "12;x")]
    assert second.fastq_files[0].size_bytes is None and second.fastq_files[0].md5
    fields = {(p.accession, p.field) for p in result.problems}
    assert ("not-an-accession", "run_accession") in fields
    assert ("", "run_accession") in fields
    assert all(isinstance(p, ParseProblem) and p.reason for p in result.problems)
    no_accession = [p for p in result.problems if p.accession == ""]
    assert [(p.field, p.value, p.reason) for p in no_accession] == [
        ("run_accession", "", "Field required")
    ]


def test_layout_consistency() -> None:
    single_ok = {
        **GUAYMAS_RUN,
        "library_layout": "SINGLE",
        "fastq_ftp": "ftp.sra.ebi.ac.uk/vol1/fastq/SRR630/004/SRR6301444/SRR6301444.fastq.gz",
        "fastq_md5": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "fastq_bytes": "5",
    }
    single_two_files = {**GUAYMAS_RUN, "library_layout": "SINGLE"}
    paired_one_file = {**single_ok, "library_layout": "PAIRED"}
    paired_with_unpaired_extra = {
        **GUAYMAS_RUN,
        "fastq_ftp": "x/SRR6301444.fastq.gz;x/SRR6301444_1.fastq.gz;x/SRR6301444_2.fastq.gz",
        "fastq_md5": "a;b;c",
        "fastq_bytes": "1;2;3",
    }
    md5_missing = {**GUAYMAS_RUN, "fastq_md5": "a"}
    no_files = {**GUAYMAS_RUN, "fastq_ftp": "", "fastq_md5": "", "fastq_bytes": ""}
    bad_layout = {**GUAYMAS_RUN, "library_layout": "TRIPLE"}

    def problems(row: dict[str, str]) -> list[str]:
        return [p.reason for p in parse_records(ENAReadRunRecord, [row]).problems]

    assert problems(single_ok) == []
    assert problems(single_two_files) == ["SINGLE run with 2 files"]
    assert problems(paired_one_file) == ["PAIRED run without one _1 and one _2 file"]
    assert problems(paired_with_unpaired_extra) == []
    assert problems(md5_missing) == ["1 value(s) for 2 fastq file(s)"]
    assert problems(no_files) == ["run has no fastq files"]
    (reason,) = problems(bad_layout)
    assert "PAIRED" in reason
    run = parse_records(ENAReadRunRecord, [md5_missing]).records[0]
    assert [f.md5 for f in run.fastq_files] == [None, None]  # pairing unknowable
    extra = parse_records(ENAReadRunRecord, [paired_with_unpaired_extra]).records[0]
    assert [f.read_number for f in extra.fastq_files] == [None, 1, 2]


def test_co_assembly_and_study_and_sample() -> None:
    assembly = parse_records(
        ENAAssemblyRecord,
        [
            {
                "analysis_accession": "ERZ9000001",
                "assembly_type": "primary metagenome",
                "run_accession": "ERR4918397;ERR4918398",
                "sample_accession": "SAMEA7687882;SAMEA7678309",
                "generated_ftp": "a/contig.fa.gz",
                "generated_md5": "",
                "completeness_score": "",
                "first_public": "2021-03-01",
            }
        ],
    )
    (record,) = assembly.records
    assert record.is_co_assembly and record.run_accession == ["ERR4918397", "ERR4918398"]
    assert record.completeness_score is None
    assert [p.field for p in assembly.problems] == ["generated_md5"]

    (study,) = parse_records(
        ENAStudyRecord,
        [
            {
                "study_accession": "PRJNA900005",
                "secondary_study_accession": "SRP000903;SRP001212",
                "first_public": "2012-06-13",
                "tax_id": "408170",
                "study_title": "",
            }
        ],
    ).records
    assert study.accessions == ["PRJNA900005", "SRP000903", "SRP001212"]
    assert study.first_public == dt.date(2012, 6, 13) and study.study_title is None
    assert study.is_private is False

    (sample,) = parse_records(
        ENASampleRecord,
        [
            {
                "sample_accession": "SAMEA7687881",
                "collection_date": "2019-06-11",
                "country": "Norway",
                "location": "66.079905 N 12.587848 E",
                "lat": "66.079905",
                "lon": "not provided",
            }
        ],
    ).records
    assert sample.collection_date_as_date == dt.date(2019, 6, 11)
    assert sample.lat == 66.079905 and sample.lon is None
    assert [p.field for p in sample.problems] == ["lon"]
    assert (
        ENASampleRecord.model_validate(
            {"sample_accession": "SAMEA1", "collection_date": "2019"}
        ).collection_date_as_date
        is None
    )


def _run_rows(count: int) -> list[dict[str, str]]:
    rows = []
    for index in range(count):
        run = f"ERR{40000000 + index}"
        base = f"ftp.sra.ebi.ac.uk/vol1/fastq/{run[:6]}/{run[9:].zfill(3)}/{run}/{run}"
        rows.append(
            {
                **GUAYMAS_RUN,
                "run_accession": run,
                "experiment_accession": f"ERX{40000000 + index}",
                "fastq_ftp": f"{base}_1.fastq.gz;{base}_2.fastq.gz",
                "first_public": "2021-01-06",
                "last_updated": "2021-01-06",
                "tax_id": "1602388",
                "lat": "66.07",
                "lon": "12.58",
                "collection_date": "2019-06-11",
            }
        )
    return rows


def test_parsing_20000_runs_is_fast() -> None:
    rows = _run_rows(20_000)
    started = time.perf_counter()
    result = parse_records(ENAReadRunRecord, rows)
    elapsed = time.perf_counter() - started
    assert len(result.records) == 20_000 and not result.problems
    # ~0.5 s on the project's 2-core machines; generous for a loaded CI box.
    assert elapsed < 3.0, f"parsing 20,000 runs took {elapsed:.2f}s"
