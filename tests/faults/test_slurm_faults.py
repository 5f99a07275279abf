"""Slurm faults during a study analysis: ``amplicon_analyses`` of a 4-run study (2 chunk jobs of
the stand-in Nextflow, then the datamover publish job) materialised on the real dev cluster
(``local`` transport), with a fault injected while the chunk jobs run:

* slurmctld killed (SIGKILL) and restarted after the jobs ended;
* sacct failing (slurmdbd stopped) for ~20 s while the jobs end;
* the node drained: the running chunk jobs finish, the publish job waits PENDING with Slurm's
  reason reported in the run's log, and runs once the node is resumed.

Each time: the materialisation succeeds, each chunk job and the publish job exist exactly once in
sacct (no twin), every analysis ends in a terminal status (none left ``running``).

Services are always restored in ``finally`` (``slurm-dev up``, node resumed).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from emg_assets.analyses.assets import ANALYSIS_ASSETS, amplicon_analyses
from emg_assets.ena.assets import INGEST_ASSETS
from emg_assets.partitions import add_study_partitions
from emg_django.analyses.choices import AnalysisStatus
from emg_django.analyses.models import Analysis
from slurm_resource import SlurmResource
from tests.emg_assets.analyses.conftest import pipelines_resource
from tests.fakes.ena.datasets import generate_study
from tests.slurm_resource.conftest import Cluster, unique_dir
from tests.support import wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.django_db(transaction=True)]

S = AnalysisStatus
TERMINAL = {S.ANNOTATIONS_IMPORTED, S.QC_FAILED, S.FAILED, S.BLOCKED}
RUN_CONFIG = {
    "ops": {"amplicon_analyses": {"config": {"biome": "root:Environmental:Aquatic:Marine"}}}
}
#: Seconds the stand-in sleeps per sample: a chunk job of 2 runs lasts ~2 × this.
SLEEP = 4
#: slurmctld writes its state in batches, up to ~5 s after a change: a controller killed
#: sooner forgets the newest jobs (seen here: a chunk job lost, its id reused for another job,
#: the node drained "Duplicate jobid"). That is Slurm's own crash window, not the platform's.
STATE_SAVE_WAIT = 6


@dataclass
class Analysed:
    """A study analysis materialising in a background thread."""

    cluster: Cluster
    base: Path
    slurm: SlurmResource
    runs: list[str]
    instance: dg.DagsterInstance
    thread: threading.Thread | None = None
    box: dict = field(default_factory=dict)

    def start(self, resources: dict, key: str) -> None:
        def target() -> None:
            try:
                self.box["result"] = dg.materialize(
                    [*INGEST_ASSETS, *ANALYSIS_ASSETS],
                    selection=[amplicon_analyses],
                    partition_key=key,
                    instance=self.instance,
                    resources=resources,
                    run_config=RUN_CONFIG,
                    raise_on_error=False,
                )
            except BaseException as exc:  # re-raised by finish()
                self.box["error"] = exc

        self.thread = threading.Thread(target=target, name="analysis", daemon=True)
        self.thread.start()

    def job_dirs(self) -> list[Path]:
        return sorted(
            p
            for p in (self.base / "slurm").glob("emg-*")
            if (p / "jobids").is_file() and (p / "jobids").read_text().split()
        )

    def chunk_job_ids(self) -> list[str]:
        """Wait for both chunk jobs to be submitted and RUNNING; their ids."""
        wait_until(
            lambda: len([d for d in self.job_dirs() if "amplicon" in d.name]) == 2,
            60,
            "two chunk jobs",
        )
        ids = [(d / "jobids").read_text().split()[-1] for d in self.job_dirs()]
        wait_until(
            lambda: (
                self.cluster.slurm("squeue", "-h", "-t", "R", "-o", "%i", "-j", ",".join(ids))
                .stdout.split()
                .__len__()
                == 2
            ),
            30,
            f"jobs {ids} RUNNING",
        )
        return ids

    def finish(self, timeout: float = 150) -> dg.ExecuteInProcessResult:
        assert self.thread is not None
        self.thread.join(timeout=timeout)
        assert not self.thread.is_alive(), "the analysis step is still waiting"
        if "error" in self.box:
            raise self.box["error"]
        return self.box["result"]

    def statuses(self) -> dict[str, str]:
        return dict(
            Analysis.objects.filter(run__accession__in=self.runs).values_list(
                "run__accession", "status"
            )
        )

    def log_messages(self, run_id: str) -> list[str]:
        return [e.user_message for e in self.instance.all_logs(run_id)]

    def assert_clean_end(self, result: dg.ExecuteInProcessResult) -> dict[str, object]:
        """Success, one job per name (chunks + publish), every analysis terminal."""
        assert result.success, self.log_messages(result.run_id)[-30:]
        dirs = self.job_dirs()
        assert len(dirs) == 3, [d.name for d in dirs]  # 2 chunks + the publish job
        for job_dir in dirs:
            # A name lookup in sacct lags its job-id lookup by a moment after a job ends.
            named = wait_until(
                lambda d=job_dir: self.cluster.jobs_named(d.name),
                20,
                f"sacct to list {job_dir.name}",
            )
            assert len(named) == 1, f"a twin of {job_dir.name}: {named}"  # type: ignore[arg-type]
            assert len((job_dir / "jobids").read_text().split()) == 1
        statuses = self.statuses()
        assert set(statuses.values()) <= TERMINAL and len(statuses) == 4, statuses
        assert statuses == {
            **{r: S.ANNOTATIONS_IMPORTED for r in self.runs[:3]},
            self.runs[3]: S.QC_FAILED,
        }
        [event] = result.get_asset_materialization_events()
        return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.fixture
def analysed(cluster: Cluster, fake_ena, ena) -> Callable[[], Analysed]:
    """``start()`` ingests a fresh 4-run amplicon study and starts analysing it."""
    made: list[Analysed] = []

    def start() -> Analysed:
        study = generate_study(
            fake_ena,
            None,
            4,
            4,
            seed=31,
            library_strategy="AMPLICON",
            first_public=dt.date(2026, 5, 4),
        )
        instance = dg.DagsterInstance.ephemeral()
        add_study_partitions(instance, [study.accession])
        dg.materialize(
            list(INGEST_ASSETS),
            partition_key=study.accession,
            instance=instance,
            resources={"ena": ena},
        )
        runs = sorted(study.run_accessions)
        base = unique_dir(cluster.work_dir, "faults")
        env = {"NEXTFLOW_STANDIN_SLEEP": str(SLEEP), "NEXTFLOW_STANDIN_QC_FAIL": runs[3]}
        pipelines = pipelines_resource(base / "results", chunk_size=2, env=env, dir_mode=0o777)
        slurm = SlurmResource(
            transport="local",
            slurm_conf=cluster.slurm_conf,
            work_dir=str(base / "slurm"),
            poll_interval_seconds=0.5,
        )
        run = Analysed(cluster, base, slurm, runs, instance)
        run.start({"ena": ena, "slurm": slurm, "pipelines": pipelines}, study.accession)
        made.append(run)
        return run

    yield start
    for run in made:  # never leave a waiting thread behind a failed assertion for long
        if run.thread is not None:
            run.thread.join(timeout=60)


@pytest.fixture(autouse=True)
def _cluster_healthy_afterwards(cluster: Cluster) -> Iterator[None]:
    """After a fault, wait until the cluster runs a job again, so the tests that follow (here and
    in tests/slurm_resource) do not meet a controller or node still recovering."""
    yield
    node = cluster.slurm("sinfo", "-h", "-N", "-o", "%N").stdout.split()[0]
    cluster.slurm("scontrol", "update", f"nodename={node}", "state=resume")  # no-op if not drained
    probe = cluster.slurm(
        "sbatch", "--parsable", "--job-name=health-probe", "--output=/dev/null", "--wrap", "true"
    )
    assert probe.returncode == 0, probe.stderr
    job_id = probe.stdout.strip().split(";")[0]
    wait_until(
        lambda: (
            "COMPLETED"
            in cluster.slurm("sacct", "-X", "-n", "-P", "-o", "State", "-j", job_id).stdout
        ),
        120,
        f"health probe job {job_id} to complete after the fault",
    )


def _kill_slurmctld(cluster: Cluster) -> None:
    pid_file = Path(cluster.env["SLURM_DEV_STATE_DIR"]) / "run" / "slurmctld.pid"
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: (
            not Path(f"/proc/{pid}").exists()
            or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
        ),
        10,
        "slurmctld dead",
    )


def test_slurmctld_killed_and_restarted_during_a_study_analysis(
    cluster: Cluster, analysed: Callable[[], Analysed]
) -> None:
    run = analysed()
    ids = run.chunk_job_ids()
    time.sleep(STATE_SAVE_WAIT)  # past slurmctld's state-save batching (see STATE_SAVE_WAIT)
    try:
        _kill_slurmctld(cluster)
        assert cluster.slurm("squeue", "-h", timeout=60).returncode != 0  # really down
        time.sleep(2 * SLEEP - STATE_SAVE_WAIT + 3)  # the jobs end while the controller is away
    finally:
        cluster.dev("up")
    meta = run.assert_clean_end(run.finish())
    assert set(meta["slurm_job_ids"].split(",")[:2]) == set(ids)


def test_sacct_failing_for_a_while_does_not_fail_the_analysis(
    cluster: Cluster, analysed: Callable[[], Analysed]
) -> None:
    run = analysed()
    ids = run.chunk_job_ids()
    monitor = run.slurm.get_monitor()
    failed_before = monitor.stats.failed_calls
    cluster.dev("stop", "slurmdbd")
    try:
        wait_until(lambda: monitor.stats.failed_calls > failed_before, 20, "failing sacct calls")
        time.sleep(20)  # sacct keeps failing while both chunk jobs end
        assert cluster.slurm("sacct", "-X", "-n", "-j", ids[0]).returncode != 0
    finally:
        cluster.dev("up")
    meta = run.assert_clean_end(run.finish())
    assert monitor.stats.failed_calls > failed_before
    assert set(meta["slurm_job_ids"].split(",")[:2]) == set(ids)
    assert "COMPLETED" in meta["chunks_table"] and "FAILED" not in meta["chunks_table"]


def test_a_drained_node_lets_jobs_end_and_holds_new_ones_pending_with_the_reason(
    cluster: Cluster, analysed: Callable[[], Analysed]
) -> None:
    node = cluster.slurm("sinfo", "-h", "-N", "-o", "%N").stdout.split()[0]
    run = analysed()
    ids = run.chunk_job_ids()
    drained = cluster.slurm(
        "scontrol", "update", f"nodename={node}", "state=drain", "reason=faults-test"
    )
    try:
        assert drained.returncode == 0, drained.stderr
        # The running chunk jobs finish on the draining node...
        wait_until(
            lambda: (
                not cluster.slurm("squeue", "-h", "-o", "%i", "-j", ",".join(ids)).stdout.split()
            ),
            60,
            "the chunk jobs to end",
        )
        # ...and the publish job submitted next waits, with Slurm's reason.
        publish = wait_until(
            lambda: [d for d in run.job_dirs() if "publish" in d.name], 60, "the publish job"
        )
        publish_id = (publish[0] / "jobids").read_text().split()[-1]  # type: ignore[index]
        state = wait_until(
            lambda: cluster.slurm("squeue", "-h", "-o", "%T|%r", "-j", publish_id).stdout.strip(),
            30,
            "publish job queued",
        )
        assert str(state).startswith("PENDING|"), state
        time.sleep(2)  # a few polls while PENDING
        assert run.thread is not None and run.thread.is_alive()  # waits; no time-out on PENDING
    finally:
        cluster.slurm("scontrol", "update", f"nodename={node}", "state=resume")
    result = run.finish()
    meta = run.assert_clean_end(result)
    # The wait is in the run's log. KNOWN GAP (reported, not fixed here): the resource reads
    # states and reasons from sacct only, which lags squeue -- after a slurmdbd restart by many
    # seconds -- so the job may show only as SUBMITTED, or PENDING without a reason, while
    # squeue already says why. When a reason is logged it is the node's unavailability.
    waiting = [
        m
        for m in run.log_messages(result.run_id)
        if re.search(rf"Slurm job {publish_id}: (SUBMITTED|PENDING)", m)
    ]
    assert waiting, state
    reasons = [m for m in waiting if "(" in m]
    assert all(
        re.search(r"PENDING \((ReqNodeNotAvail|Nodes required for job are DOWN)", m)
        for m in reasons
    ), (state, waiting)
    assert set(meta["slurm_job_ids"].split(",")[:2]) == set(ids)


def test_a_failed_submission_fails_the_step_clearly_and_leaves_no_analysis_running(
    cluster: Cluster, fake_ena, ena
) -> None:
    """sbatch refusing the jobs (here: an unknown partition, the same path as a controller that
    stays unreachable past the resource's sbatch retries) must fail the step with Slurm's error,
    and must not leave the analyses ``running`` with no job behind them."""
    study = generate_study(
        fake_ena, None, 2, 2, seed=32, library_strategy="AMPLICON", first_public=dt.date(2026, 5, 4)
    )
    instance = dg.DagsterInstance.ephemeral()
    add_study_partitions(instance, [study.accession])
    dg.materialize(
        list(INGEST_ASSETS),
        partition_key=study.accession,
        instance=instance,
        resources={"ena": ena},
    )
    base = unique_dir(cluster.work_dir, "faults-submit")
    pipelines = pipelines_resource(base / "results", chunk_size=2, dir_mode=0o777)
    slurm = SlurmResource(
        transport="local",
        slurm_conf=cluster.slurm_conf,
        work_dir=str(base / "slurm"),
        poll_interval_seconds=0.5,
        partition="no-such-partition",
        submit_attempts=1,
    )
    result = dg.materialize(
        [*INGEST_ASSETS, *ANALYSIS_ASSETS],
        selection=[amplicon_analyses],
        partition_key=study.accession,
        instance=instance,
        run_config=RUN_CONFIG,
        resources={"ena": ena, "slurm": slurm, "pipelines": pipelines},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "invalid partition" in failure.step_failure_data.error.to_string().lower()
    analyses = list(
        Analysis.objects.filter(run__accession__in=study.run_accessions).values_list(
            "status", "status_reason"
        )
    )
    assert len(analyses) == 2
    assert {status for status, _ in analyses} == {S.FAILED}, analyses
    assert all("invalid partition" in reason.lower() for _, reason in analyses), analyses
