"""Sweeps on a real SLURM cluster: job arrays, optuna, pre-emption and resume, scancel, divergence, bad input.

The cluster tests run when `sbatch` is on PATH and `sinfo` answers (CI starts a one-node cluster with
scripts/slurm-local.sh; its SLURM_CONF is found when the variable is not set), and are skipped otherwise.
Every trial is tiny (a linear model, a few hundred images, one thread, no evaluation).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from gvc.trial import rundir
from tests.conftest import ROOT, run_gvc, without_timing

LOCAL_CONF = Path(os.environ.get("GVC_SLURM_DIR", "/tmp/gvc-slurm-local")) / "etc" / "slurm.conf"
# Clients find the cluster through SLURM_CONF; fall back to the one scripts/slurm-local.sh writes.
SLURM_ENV = {} if "SLURM_CONF" in os.environ or not LOCAL_CONF.is_file() else {"SLURM_CONF": str(LOCAL_CONF)}
ENV = {**os.environ, **SLURM_ENV}
# One CPU and 1 GB per trial, so that two trials run at once on a 2-core machine.
LAUNCHER = ["hydra/launcher=slurm_cpu", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1"]
TINY = ["trainer=smoke", "data.subset=256", "data.test_subset=128", "eval.enabled=false", "trainer.threads=1",
        "trainer.progress=false"]


def cluster_missing() -> str | None:
    """Why no cluster can be used here, or None when one answers."""
    if shutil.which("sbatch") is None:
        return "no SLURM cluster: sbatch is not on PATH (start one with `scripts/slurm-local.sh up`)"
    try:
        answer = subprocess.run(["sinfo", "-h", "-o", "%a"], env=ENV, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "no SLURM cluster: sinfo did not answer within 20 s"
    if answer.returncode != 0 or "up" not in answer.stdout:
        said = (answer.stderr or answer.stdout).strip().splitlines() or ["no partition is up"]
        return f"no SLURM cluster answering (start one with `scripts/slurm-local.sh up`): {said[-1]}"
    return None


MISSING = cluster_missing()
needs_cluster = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def slurm(*args: str) -> str:
    return subprocess.run(list(args), env=ENV, capture_output=True, text=True, check=True, timeout=30).stdout


def sweep(*args: str, job_name: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return run_gvc("-m", *LAUNCHER, f"hydra.launcher.name={job_name}", *args, env=SLURM_ENV, timeout=timeout)


@contextmanager
def background_sweep(*args: str, job_name: str) -> Iterator[Future]:
    """A sweep running in a thread while the test acts on its jobs; a failing test cancels them first."""
    pool = ThreadPoolExecutor(1)
    try:
        yield pool.submit(sweep, *args, job_name=job_name)
    except BaseException:
        subprocess.run(["scancel", "--name", job_name], env=ENV, capture_output=True, timeout=30)
        raise
    finally:
        pool.shutdown(wait=True)


@pytest.fixture
def job_name(request) -> str:
    """A SLURM job name for this test; whatever of it still runs at the end (a failed test) is cancelled."""
    name = f"gvc_{request.node.name[5:40]}"
    yield name
    subprocess.run(["scancel", "--name", name], env=ENV, capture_output=True, timeout=30)


def read_index(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / rundir.INDEX, newline="") as f:
        return list(csv.DictReader(f))


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def history_rows(run_dir: Path) -> int:
    return len(rundir.read_history(run_dir)) if (run_dir / rundir.HISTORY).is_file() else 0


@needs_cluster
@pytest.mark.slow
def test_grid_sweep_runs_as_one_job_array_and_analysis_reports_it(tmp_path, job_name):
    out = tmp_path / "grid"
    result = sweep(*TINY, "model=linear_vae,linear_gan", "optimizer.lr=1e-4,2e-4", f"hydra.sweep.dir={out}",
                   job_name=job_name)
    assert result.returncode == 0, result.stderr
    rows = read_index(out)
    assert len(rows) == 4 and {r["status"] for r in rows} == {"completed"}
    jobs = [rundir.read_summary(out / r["run_dir"])["slurm"]["job_id"] for r in rows]
    assert len({j.split("_")[0] for j in jobs}) == 1 and sorted(j.split("_")[1] for j in jobs) == ["0", "1", "2", "3"]
    assert all(rundir.read_summary(out / r["run_dir"])["slurm"]["restarts"] == 0 for r in rows)
    assert len(list((out / ".submitit").glob("*_*/*_log.out"))) == 4  # where the README says the logs go
    report = subprocess.run([sys.executable, "-m", "analysis", str(out)], cwd=ROOT, capture_output=True, text=True,
                            timeout=240)
    assert report.returncode == 0, report.stderr
    assert (out / "report" / "report.html").is_file() and "linear_gan" in (out / "report" / "report.md").read_text()


@needs_cluster
@pytest.mark.slow
def test_optuna_sweep_through_slurm_stores_and_resumes_its_study(tmp_path, job_name):
    optuna = pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path}/study.db"
    command = ["+sweeps=optuna", "model=linear_vae", *TINY, "hydra.sweeper.n_trials=4", "hydra.sweeper.n_jobs=2",
               f"hydra.sweeper.storage={storage}"]
    for n, name in ((4, "a"), (8, "b")):  # the same command twice: the second run adds to the study
        result = sweep(*command, f"hydra.sweep.dir={tmp_path / name}", job_name=job_name)
        assert result.returncode == 0, result.stderr
        assert [r["status"] for r in read_index(tmp_path / name)] == ["completed"] * 4
        (summary,) = optuna.get_all_study_summaries(storage)  # the second sweep continued the same study
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        assert len(study.trials) == n and all(t.state.name == "COMPLETE" for t in study.trials)
    # Two trials per batch, each batch one job array of two.
    arrays = {rundir.read_summary(p)["slurm"]["job_id"].split("_")[0] for p in rundir.find_run_dirs(tmp_path / "a")}
    assert len(arrays) == 2


@needs_cluster
@pytest.mark.slow
def test_a_preempted_trial_is_requeued_and_resumes_to_the_same_history(tmp_path, job_name):
    # Long enough to be interrupted after its first checkpoint (every epoch): 8 epochs of 64 steps.
    budget = ["model=linear_vae", "trainer.epochs=8", "trainer.max_steps=null", "data.subset=4096",
              "data.test_subset=128", "eval.enabled=false", "trainer.threads=1", "trainer.progress=false"]
    out, trial = tmp_path / "preempted", tmp_path / "preempted" / "0_linear_vae"
    with background_sweep(*budget, "trainer.resume=true", f"hydra.sweep.dir={out}", job_name=job_name) as running:
        wait_for(lambda: (trial / rundir.CHECKPOINT).is_file(), 120, "the trial's first checkpoint")
        job = rundir.read_summary(trial)["slurm"]["job_id"]
        assert history_rows(trial) < 6, "the trial ran too fast to be interrupted while training"
        slurm("scancel", "--signal=USR2", job)  # what SLURM sends before a time limit, or when it pre-empts
        # submitit checkpoints and requeues; SLURM holds a requeued job ~2 min (BeginTime): release it.
        wait_for(lambda: "BeginTime" in slurm("squeue", "-h", "-o", "%r", "-j", job), 60, "the requeue")
        time.sleep(3.5)  # released sooner, SLURM fails the job ("Job credential revoked")
        slurm("scontrol", "update", f"JobId={job}", "StartTime=now")
        result = running.result(timeout=240)
    assert result.returncode == 0, result.stderr
    summary = rundir.read_summary(trial)
    assert summary["status"] == "completed" and summary["slurm"]["restarts"] == 1
    assert 1 <= summary["resumed_from"]["epoch"] < 8
    # The same trial, uninterrupted, on this machine.
    plain = tmp_path / "plain"
    assert run_gvc(*budget, f"hydra.run.dir={plain}").returncode == 0
    assert without_timing(rundir.read_history(trial)) == without_timing(rundir.read_history(plain))


def swept(overrides: list[str] | str) -> tuple[int, float]:
    """(trainer.max_steps, optimizer.lr) of a trial, as Hydra wrote its overrides."""
    values = dict(o.split("=", 1) for o in (overrides.split() if isinstance(overrides, str) else overrides))
    return int(values["trainer.max_steps"]), float(values["optimizer.lr"])


@needs_cluster
@pytest.mark.slow
def test_a_cancelled_trial_is_recorded_failed_and_a_diverging_one_sinks_no_other(tmp_path, job_name):
    out = tmp_path / "cancel"
    endless = (100_000_000, 1e-3)
    # Four trials: (5 steps, lr 1e-3) completes; (endless, 1e-3) runs until scancel; both lr=1e30 diverge.
    args = ["model=linear_vae", *TINY, "trainer.epochs=100000", "trainer.max_steps=5,100000000",
            "optimizer.lr=1e-3,1e30", f"hydra.sweep.dir={out}"]
    with background_sweep(*args, job_name=job_name) as running:
        def endless_trial() -> Path | None:
            for run in rundir.find_run_dirs(out) if out.is_dir() else []:
                summary = rundir.read_summary(run)  # written atomically, unlike Hydra's overrides.yaml
                if summary and swept(summary["overrides"]) == endless and history_rows(run):
                    return run
            return None

        trial = wait_for(endless_trial, 120, "the endless trial's first epoch")
        slurm("scancel", rundir.read_summary(trial)["slurm"]["job_id"])
        cancelled_at = time.monotonic()
        result = running.result(timeout=240)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - cancelled_at < 90  # submitit learns the job's fate from sacct
    rows = {swept(r["overrides"]): r for r in read_index(out)}
    # scancel sends SIGTERM: the trial writes a checkpoint and ends `interrupted` (resumable), with SLURM's account.
    assert {k: r["status"] for k, r in rows.items()} == {
        (5, 1e-3): "completed", endless: "interrupted", (5, 1e30): "diverged", (100_000_000, 1e30): "diverged"}
    assert "CANCELLED" in rows[endless]["reason"] and float(rows[endless]["objective_value"]) == float("inf")
    assert float(rows[(5, 1e-3)]["objective_value"]) < float("inf")


@needs_cluster
@pytest.mark.slow
def test_a_trial_cancelled_before_it_started_is_recorded_failed_with_its_overrides(tmp_path, job_name):
    out = tmp_path / "pending"
    held = "+hydra.launcher.additional_parameters.begin=now+1hour"  # pending until cancelled
    with background_sweep(held, "model=linear_vae", *TINY, f"hydra.sweep.dir={out}", job_name=job_name) as running:
        job = wait_for(lambda: slurm("squeue", "-h", "-o", "%i", "--name", job_name).strip(), 60, "the submission")
        slurm("scancel", job)
        result = running.result(timeout=120)
    assert result.returncode == 0, result.stderr
    [row] = read_index(out)
    assert row["status"] == "failed" and "CANCELLED" in row["reason"] and "model=linear_vae" in row["overrides"]


@needs_cluster
def test_an_impossible_resource_request_fails_at_submission_with_slurms_reason(tmp_path):
    started = time.monotonic()
    result = run_gvc("-m", "hydra/launcher=slurm_cpu", "hydra.launcher.cpus_per_task=100000", *TINY,
                     "model=linear_vae", f"hydra.sweep.dir={tmp_path / 'big'}", env=SLURM_ENV, timeout=120)
    assert result.returncode == 2 and time.monotonic() - started < 60
    assert "SLURM refused the sweep's jobs" in result.stderr and "cpus_per_task" in result.stderr
    assert "processors" in result.stderr.lower() and "Traceback" not in result.stderr
    assert not rundir.find_run_dirs(tmp_path / "big") if (tmp_path / "big").exists() else True


@pytest.mark.slow  # a process launch; tests/test_bad_input.py checks the same refusal in-process
def test_a_slurm_launcher_without_sbatch_is_refused_with_the_fix(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_gvc("-m", "hydra/launcher=slurm_cpu", *TINY, "model=linear_vae", f"hydra.sweep.dir={tmp_path / 's'}",
                     env={"PATH": str(empty)}, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "`sbatch` is not on PATH" in result.stderr and "scripts/slurm-local.sh up" in result.stderr
    assert not (tmp_path / "s").exists() or not rundir.find_run_dirs(tmp_path / "s")


def render_sbatch(preset: str, monkeypatch) -> str:
    """The sbatch script the preset's launcher would submit, rendered without a cluster."""
    from hydra import compose, initialize_config_dir
    from hydra.utils import get_class
    from omegaconf import OmegaConf
    from submitit.slurm.slurm import SlurmExecutor

    from gvc.config import register_configs

    monkeypatch.setattr(SlurmExecutor, "affinity", classmethod(lambda cls: 2))  # "srun is on PATH"
    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "conf")):
        cfg = compose("config", overrides=[f"hydra/launcher={preset}", "hydra.sweep.dir=/tmp/gvc-render"],
                      return_hydra_config=True)
    params = OmegaConf.to_container(cfg.hydra.launcher, resolve=False)
    params.update(submitit_folder="/tmp/gvc-render/.submitit/%j", name="gvc")
    launcher = get_class(params.pop("_target_"))(**params)
    return launcher.make_executor()._executor._make_submission_file_text("python -m submitit.core._submit", "uid")


def test_the_gpu_preset_asks_slurm_for_one_gpu_and_a_signal_before_the_limit(monkeypatch):
    script = render_sbatch("slurm_gpu", monkeypatch)
    for line in ("#SBATCH --gpus-per-node=1", "#SBATCH --cpus-per-task=8", "#SBATCH --mem=32GB",
                 "#SBATCH --time=240", "#SBATCH --signal=USR2@120", "export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK"):
        assert line in script, f"{line!r} missing from:\n{script}"
    cpu = render_sbatch("slurm_cpu", monkeypatch)
    assert "gpus" not in cpu and "#SBATCH --signal=USR2@60" in cpu and "#SBATCH --cpus-per-task=2" in cpu


@needs_cluster
@pytest.mark.slow
def test_a_killed_sweeper_loses_no_slurm_results_and_the_same_command_finishes_the_sweep(tmp_path, job_name):
    budget = ["model=linear_vae", "trainer.epochs=8", "trainer.max_steps=null", "data.subset=4096",
              "data.test_subset=128", "eval.enabled=false", "trainer.threads=1", "trainer.progress=false"]
    out, trial = tmp_path / "killed", tmp_path / "killed" / "0_linear_vae"
    args = ["-m", *LAUNCHER, f"hydra.launcher.name={job_name}", *budget, "optimizer.lr=1e-4,2e-4",
            "trainer.resume=true", f"hydra.sweep.dir={out}"]
    sweeper = subprocess.Popen([sys.executable, "-m", "gvc", *args], cwd=ROOT, env={**ENV, "HYDRA_FULL_ERROR": "0"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (trial / rundir.CHECKPOINT).is_file(), 120, "the trial's first checkpoint")
    finally:
        sweeper.kill()  # kill -9 of the sweeping process while its job array runs
        sweeper.wait()
    job = rundir.read_summary(trial)["slurm"]["job_id"]
    # The jobs run on: nobody may train in their folders meanwhile (suspended, so that they surely still run).
    slurm("scontrol", "suspend", job)
    refused = run_gvc(*args, env=SLURM_ENV)
    slurm("scontrol", "resume", job)
    assert refused.returncode == 2 and "is being trained right now by" in refused.stderr
    wait_for(lambda: not slurm("squeue", "-h", "--name", job_name).strip(), 180, "the orphaned jobs' end")
    again = run_gvc(*args, env=SLURM_ENV, timeout=240)
    assert again.returncode == 0, again.stderr
    rows = read_index(out)
    assert [(r["run_dir"], r["status"]) for r in rows] == [("0_linear_vae", "completed"), ("1_linear_vae", "completed")]
    # The orphaned job's result, reported again (a retrained trial would carry the new job's id). The "already
    # completed" line itself is the SLURM job's log, not the sweeper's console.
    assert rundir.read_summary(trial)["slurm"]["job_id"] == job
