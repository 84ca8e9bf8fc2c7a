"""A crashed sweep can be finished: kill -9 of the sweeping process mid-trial, then the same command with
trainer.resume=true into the same folder completes it (basic, joblib and Optuna paths)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gvc.trial import rundir
from tests.conftest import DATA_ROOT, ROOT, run_gvc

# Epochs of 8k images (about a second each on one thread), so that a kill lands inside a trial (after its first
# checkpoint).
KILLABLE = ["model=linear_vae", "data.subset=8000", "data.test_subset=256", "trainer.epochs=3",
            "trainer.progress=false", "trainer.threads=1", "eval.enabled=false", "trainer.resume=true"]

pytestmark = pytest.mark.slow


def read_index(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / rundir.INDEX, newline="") as f:
        return list(csv.DictReader(f))


def kill_sweep_when(args: list[str], ready, timeout: float = 300) -> None:
    """Start `python -m gvc -m ARGS`, wait until ready() and kill -9 the sweeping process."""
    env = {**os.environ, "GVC_DATA": DATA_ROOT}
    proc = subprocess.Popen([sys.executable, "-m", "gvc", "-m", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None and time.time() < deadline, "the sweep ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def checkpointed(run: Path):
    return lambda: (run / rundir.CHECKPOINT).is_file()


def test_killed_basic_sweep_is_finished_by_the_same_command(tmp_path, mnist_root):
    out = tmp_path / "grid"
    command = [*KILLABLE, "optimizer.lr=1e-4,2e-4", f"hydra.sweep.dir={out}"]
    kill_sweep_when(command, checkpointed(out / "0_linear_vae"))
    assert rundir.read_summary(out / "0_linear_vae")["status"] == "running"
    again = run_gvc("-m", *command)
    assert again.returncode == 0, again.stderr
    rows = read_index(out)
    assert [(r["run_dir"], r["status"]) for r in rows] == [("0_linear_vae", "completed"), ("1_linear_vae", "completed")]
    first = rundir.read_summary(out / "0_linear_vae")
    assert first["resumed_from"]["epoch"] >= 1 and len(rundir.read_history(out / "0_linear_vae")) == 3


def test_killed_joblib_sweep_refuses_while_its_trials_run_then_loses_nothing(tmp_path, mnist_root):
    out = tmp_path / "joblib"
    command = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *KILLABLE, "optimizer.lr=1e-4,2e-4,3e-4",
               f"hydra.sweep.dir={out}"]
    kill_sweep_when(command, checkpointed(out / "0_linear_vae"))
    # The sweeper is gone, its joblib workers are not: nobody else may train in their folders meanwhile.
    running = [r for r in rundir.find_run_dirs(out) if rundir.read_summary(r)["status"] == "running"]
    pids = {rundir.read_summary(r)["pid"] for r in running}
    for pid in pids:  # held still, so that they are surely alive while the command below starts
        os.kill(pid, signal.SIGSTOP)
    refused = run_gvc("-m", *command)
    assert refused.returncode == 2 and "is being trained right now by process" in refused.stderr
    for pid in pids:  # what the message tells the user to do
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 60
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.time() < deadline:
        time.sleep(0.1)
    again = run_gvc("-m", *command)
    assert again.returncode == 0, again.stderr
    rows = read_index(out)
    assert [r["run_dir"] for r in rows] == ["0_linear_vae", "1_linear_vae", "2_linear_vae"]
    assert {r["status"] for r in rows} == {"completed"}
    assert rundir.read_summary(out / "0_linear_vae")["resumed_from"]["epoch"] >= 1


def test_killed_optuna_sweep_closes_the_dead_trial_and_reruns_its_parameters(tmp_path, mnist_root):
    optuna = pytest.importorskip("optuna")
    out = tmp_path / "optuna"
    command = ["+sweeps=optuna", *KILLABLE, "hydra.sweeper.n_trials=2", f"hydra.sweep.dir={out}"]
    kill_sweep_when(command, checkpointed(out / "1_linear_vae"))  # trial 0 done, trial 1 inside its training
    again = run_gvc("-m", *command)
    assert again.returncode == 0, again.stderr
    assert "trial 1 was left running by a sweeper that is gone" in again.stdout + again.stderr
    (summary,) = optuna.get_all_study_summaries(f"sqlite:///{out / 'optuna.db'}")
    study = optuna.load_study(study_name=summary.study_name, storage=f"sqlite:///{out / 'optuna.db'}")
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE"]  # every trial accounted for, n_trials=2 finished
    dead, rerun = study.trials[1], study.trials[2]
    assert rerun.params == dead.params and rerun.user_attrs["gvc_rerun_of"] == 1
    result = rundir.read_summary(out / "2_linear_vae")  # the re-run went into its own folder
    assert result["status"] == "completed" and rerun.value == result["objective"]["value"]
    assert result["config"]["optimizer"]["lr"] == dead.params["optimizer.lr"]
