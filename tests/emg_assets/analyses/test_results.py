"""Pure unit tests: the importers on the stand-in's MGnify layouts, samplesheets, statuses."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from emg_assets.analyses import statuses
from emg_assets.analyses.pipelines import AMPLICON, ASSEMBLY, PIPELINES, RAWREADS
from emg_assets.analyses.publish import Move, Prune, move_script
from emg_assets.analyses.results import (
    MISSING_REASON,
    ResultError,
    VerdictKind,
    read_results,
    read_verdicts,
)
from emg_assets.analyses.samplesheets import chunk_dir, chunked, render, with_scheme
from emg_assets.analyses.summary import render_summary, summary_tables
from emg_django.analyses.choices import AnalysisStatus
from tests.emg_assets.analyses.standin import run_standin

RUNS = ["ERR100001", "ERR100002", "ERR100003", "ERR100004"]
KNOBS = {
    "NEXTFLOW_STANDIN_QC_FAIL": "ERR100002",
    "NEXTFLOW_STANDIN_NO_OUTPUT": "ERR100003",
    "NEXTFLOW_STANDIN_MALFORMED": "ERR100004",
}
READ_ROWS = [
    {
        "sample": r,
        "fastq_1": f"ftp://x/{r}_1.fastq.gz",
        "fastq_2": f"ftp://x/{r}_2.fastq.gz",
        "single_end": "false",
        "instrument_platform": "ILLUMINA",
    }
    for r in RUNS
]
ASSEMBLIES = ["ERZ100001", "ERZ100002", "ERZ100003", "ERZ100004"]
ASSEMBLY_ROWS = [{"sample": a, "assembly_fasta": f"http://x/{a}.fa.gz"} for a in ASSEMBLIES]


@pytest.fixture(scope="module")
def outdirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("standin")
    env = {k: f"{v},{v.replace('ERR', 'ERZ')}" for k, v in KNOBS.items()}
    return {
        "amplicon": run_standin(
            "ebi-metagenomics/amplicon-pipeline",
            READ_ROWS,
            AMPLICON.samplesheet_columns,
            base / "amplicon",
            env,
        ),
        "rawreads": run_standin(
            "ebi-metagenomics/raw-reads-analysis-pipeline",
            READ_ROWS,
            RAWREADS.samplesheet_columns,
            base / "rawreads",
            env,
        ),
        "assembly": run_standin(
            "ebi-metagenomics/assembly-analysis-pipeline",
            ASSEMBLY_ROWS,
            ASSEMBLY.samplesheet_columns,
            base / "assembly",
            env,
        ),
    }


@pytest.mark.parametrize("name", ["amplicon", "rawreads", "assembly"])
def test_verdicts_cover_passed_qc_failed_and_missing(outdirs: dict[str, Path], name: str) -> None:
    pipeline = PIPELINES[name]
    ids = ASSEMBLIES if name == "assembly" else RUNS
    verdicts = read_verdicts(pipeline, outdirs[name], ids)
    assert [verdicts[i].kind for i in ids] == [
        VerdictKind.PASSED,
        VerdictKind.QC_FAILED,
        VerdictKind.MISSING,
        VerdictKind.PASSED,
    ]
    assert verdicts[ids[1]].detail in {"libstrat_fail", "no_reads", "insufficient_contigs"}
    assert verdicts[ids[2]].detail == MISSING_REASON


def test_amplicon_results(outdirs: dict[str, Path]) -> None:
    results = read_results(AMPLICON, outdirs["amplicon"] / "ERR100001", "ERR100001")
    assert results.quality_control["fastp"]["after_filtering"]["total_reads"] > 0
    ssu = results.annotations["taxonomies__ssu"]
    assert ssu[0].organism.startswith("sk__") and ssu[0].count >= ssu[-1].count
    assert set(results.annotations) == {
        "taxonomies__ssu",
        "taxonomies__pr2",
        "taxonomies__dada2_silva",
        "taxonomies__dada2_pr2",
    }
    by_alias = {d.alias: d for d in results.downloads}
    assert len(by_alias) == len(results.downloads)  # aliases are unique
    tsv = by_alias["ERR100001_SILVA-SSU.tsv"]
    assert tsv.path == "taxonomy-summary/SILVA-SSU/ERR100001_SILVA-SSU.tsv"
    assert tsv.download_group == "taxonomies.closed_reference.SILVA-SSU"
    assert tsv.file_size_bytes and tsv.file_size_bytes > 0
    assert {"ERR100001_SILVA-SSU.html", "ERR100001_PR2.html"} <= set(by_alias)


def test_rawreads_results_have_taxonomy_and_pfam(outdirs: dict[str, Path]) -> None:
    results = read_results(RAWREADS, outdirs["rawreads"] / "ERR100001", "ERR100001")
    assert set(results.quality_control) == {"qc", "decontamination"}
    assert {"taxonomies__ssu", "taxonomies__lsu", "taxonomies__motus", "pfams"} <= set(
        results.annotations
    )
    assert results.annotations["pfams"][0].accession.startswith("PF")
    assert any(i.organism == "unassigned" for i in results.annotations["taxonomies__motus"])


def test_assembly_results(outdirs: dict[str, Path]) -> None:
    results = read_results(ASSEMBLY, outdirs["assembly"] / "ERZ100001", "ERZ100001")
    assert results.quality_control["quast"]["N50"] == 1520
    assert results.annotations["pfams"][0].description
    assert results.annotations["taxonomies__contigs"][0].organism.startswith("d__")
    assert "ERZ100001_predicted_cds.faa.gz" in {d.alias for d in results.downloads}


@pytest.mark.parametrize("name", ["amplicon", "rawreads", "assembly"])
def test_malformed_taxonomy_is_a_clear_error(outdirs: dict[str, Path], name: str) -> None:
    accession = "ERZ100004" if name == "assembly" else "ERR100004"
    with pytest.raises(ResultError, match="count 'twelve' is not a non-negative integer"):
        read_results(PIPELINES[name], outdirs[name] / accession, accession)


def test_missing_required_output_is_an_error(outdirs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "ERR100001"
    shutil.copytree(outdirs["rawreads"] / "ERR100001", run_dir)
    (run_dir / "qc" / "ERR100001_multiqc_report.html").unlink()
    shutil.rmtree(run_dir / "taxonomy-summary" / "motus")
    with pytest.raises(ResultError) as error:
        read_results(RAWREADS, run_dir, "ERR100001")
    assert "qc/ERR100001_multiqc_report.html" in str(error.value)
    assert "taxonomy-summary/motus/" in str(error.value)


def test_truncated_gzip_is_an_error(outdirs: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "ERR100001"
    shutil.copytree(outdirs["rawreads"] / "ERR100001", run_dir)
    table = run_dir / "taxonomy-summary" / "silva-lsu" / "ERR100001_silva-lsu.txt.gz"
    table.write_bytes(gzip.compress(b"Count\tSuperkingdom\n5\tsk__Bacteria\n" * 50)[:40])
    with pytest.raises(ResultError, match="unreadable"):
        read_results(RAWREADS, run_dir, "ERR100001")


def test_bad_verdict_status_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "qc_passed_runs.csv").write_text("ERR1,great\n")
    with pytest.raises(ResultError, match="unknown status 'great'"):
        read_verdicts(AMPLICON, tmp_path, ["ERR1"])


def test_samplesheet_is_sorted_and_its_dir_named_by_content(tmp_path: Path) -> None:
    rows = [
        {"sample": "ERR2", "fastq_1": "ftp://b", "fastq_2": "", "single_end": "true"},
        {"sample": "ERR1", "fastq_1": "ftp://a", "fastq_2": "ftp://c", "single_end": "false"},
    ]
    text = render(AMPLICON, rows)
    assert text.splitlines() == [
        "sample,fastq_1,fastq_2,single_end",
        "ERR1,ftp://a,ftp://c,false",
        "ERR2,ftp://b,,true",
    ]
    assert render(AMPLICON, list(reversed(rows))) == text
    one = chunk_dir(tmp_path, "PRJEB1", AMPLICON.name, text)
    assert one == chunk_dir(tmp_path, "PRJEB1", AMPLICON.name, text)
    assert one != chunk_dir(tmp_path, "PRJEB1", AMPLICON.name, text + "ERR3,x,,true\n")
    assert chunked(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert (
        with_scheme("ftp.sra.ebi.ac.uk/vol1/x.fastq.gz")
        == "ftp://ftp.sra.ebi.ac.uk/vol1/x.fastq.gz"
    )


def test_status_transitions() -> None:
    S = AnalysisStatus
    statuses.check_transition(S.PENDING, S.RUNNING)
    statuses.check_transition(S.RUNNING, S.COMPLETED)
    statuses.check_transition(S.COMPLETED, S.ANNOTATIONS_IMPORTED)
    for old, new in [
        (S.ANNOTATIONS_IMPORTED, S.RUNNING),
        (S.PENDING, S.COMPLETED),
        (S.QC_FAILED, S.ANNOTATIONS_IMPORTED),
    ]:
        with pytest.raises(statuses.InvalidTransition):
            statuses.check_transition(old, new)
    assert S.QC_FAILED not in statuses.attemptable(retry_qc_failed=False)
    assert S.QC_FAILED in statuses.attemptable(retry_qc_failed=True)
    assert not {S.COMPLETED, S.ANNOTATIONS_IMPORTED} & statuses.attemptable(True)


def test_study_summary_table() -> None:
    table = next(t for t in summary_tables(RAWREADS) if t.annotation_key == "pfams")
    text = render_summary(
        table,
        {
            "ERR2": {"pfams": [{"accession": "PF1", "count": 3}]},
            "ERR1": {"pfams": [{"accession": "PF1", "count": 1}, {"accession": "PF0", "count": 2}]},
            "ERR3": {},
        },
    )
    assert text == "pfam\tERR1\tERR2\nPF0\t2\t0\nPF1\t1\t3\n"


def test_move_script_is_idempotent(tmp_path: Path) -> None:
    import subprocess

    source = tmp_path / "work" / "ERR1"
    (source / "qc").mkdir(parents=True)
    (source / "qc" / "a.txt").write_text("a")
    destination = tmp_path / "public" / "PRJ" / "ERR1"
    script = move_script([Move(source, destination)])
    for _ in range(2):  # a rerun after success changes nothing and still succeeds
        subprocess.run(["bash", "-c", script], check=True, capture_output=True)
        assert (destination / "qc" / "a.txt").read_text() == "a" and not source.exists()


def test_move_script_prunes_what_the_moves_left_behind(tmp_path: Path) -> None:
    import subprocess

    private, public = tmp_path / "private", tmp_path / "public"
    study = private / "PRJEB12" / "PRJEB12345"
    source = study / "V6" / "amplicon" / "MGYA1"
    source.mkdir(parents=True)
    (source / "a.txt").write_text("a")
    sibling = private / "PRJEB12" / "PRJEB12399" / "V6"  # another study's results stay
    sibling.mkdir(parents=True)
    (sibling / "b.txt").write_text("b")
    script = move_script(
        [Move(source, public / source.relative_to(private))], [Prune(study, root=private)]
    )
    for _ in range(2):
        subprocess.run(["bash", "-c", script], check=True, capture_output=True)
        assert not study.exists() and (sibling / "b.txt").is_file() and private.is_dir()
        assert (public / "PRJEB12/PRJEB12345/V6/amplicon/MGYA1/a.txt").read_text() == "a"
    (sibling / "b.txt").unlink()
    subprocess.run(["bash", "-c", move_script([], [Prune(sibling, root=private)])], check=True)
    assert private.is_dir() and not list(private.iterdir())  # emptied up to, not including, root


def test_a_privacy_move_merges_into_what_the_destination_holds(tmp_path: Path) -> None:
    import subprocess

    source, destination = tmp_path / "private" / "PRJEB1", tmp_path / "public" / "PRJEB1"
    (source / "MGYA1" / "qc").mkdir(parents=True)
    (source / "MGYA1" / "qc" / "a.txt").write_text("old a")
    (source / "MGYA1" / "qc" / "b.txt").write_text("b")
    (source / "MGYA2").mkdir()
    (source / "MGYA2" / "x.partial").write_text("a file that happens to end in .partial")
    (source / "MGYA2" / "x").write_text("x")
    (destination / "MGYA1" / "qc").mkdir(parents=True)
    (destination / "MGYA1" / "qc" / "a.txt").write_text("new a")  # published here since: newer
    script = move_script([Move(source, destination, merge=True)])
    for _ in range(2):
        subprocess.run(["bash", "-c", script], check=True, capture_output=True)
        assert (destination / "MGYA1" / "qc" / "a.txt").read_text() == "new a"
        assert (destination / "MGYA1" / "qc" / "b.txt").read_text() == "b"
        assert (destination / "MGYA2" / "x").read_text() == "x"
        assert (destination / "MGYA2" / "x.partial").read_text().startswith("a file")
        assert not source.exists()


def test_a_failing_merge_stops_before_removing_its_source(tmp_path: Path) -> None:
    import subprocess

    source, destination = tmp_path / "private" / "MGYA1", tmp_path / "public" / "MGYA1"
    (source / "qc").mkdir(parents=True)
    (source / "qc" / "a.txt").write_text("a")
    destination.mkdir(parents=True)
    (destination / "qc").write_text("a file where the source has a dir")
    script = move_script([Move(source, destination, merge=True)])
    done = subprocess.run(["bash", "-c", script], capture_output=True, check=False)
    assert done.returncode != 0
    assert (source / "qc" / "a.txt").read_text() == "a"


def test_movers_holding_the_same_study_lock_take_turns(tmp_path: Path) -> None:
    import fcntl
    import subprocess
    import time

    lock = tmp_path / "slurm" / "locks" / "results-PRJEB1.lock"
    source, destination = tmp_path / "private" / "PRJEB1", tmp_path / "public" / "PRJEB1"
    source.mkdir(parents=True)
    (source / "a.txt").write_text("a")
    script = move_script([Move(source, destination, merge=True)], lock=lock)
    lock.parent.mkdir(parents=True)
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another mover of the study holds it
        mover = subprocess.Popen(["bash", "-c", script])
        time.sleep(1.0)
        assert mover.poll() is None and (source / "a.txt").exists()
        fcntl.flock(held, fcntl.LOCK_UN)
    assert mover.wait(timeout=30) == 0
    assert (destination / "a.txt").read_text() == "a" and not source.exists()


@pytest.mark.parametrize("tree, root", [("/r", "/r"), ("/r/a", "/s"), ("/r", "/r/a")])
def test_prune_only_below_its_root(tree: str, root: str) -> None:
    with pytest.raises(ValueError, match="is not under"):
        Prune(Path(tree), root=Path(root))
