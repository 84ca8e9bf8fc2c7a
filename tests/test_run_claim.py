"""One process at a time trains into a run folder: the claim is atomic (an flock), held for the run's life, freed
by the kernel on any exit; processes started together into one folder get one winner and one-line refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from gvc.trial import rundir, runlock
from tests.conftest import DATA_ROOT, ROOT

# Each racer waits for a common start time, claims, reports, and holds its claim until told to stop.
RACER = """
import sys, time
from gvc.trial import runlock
start = float(sys.argv[2])
while time.time() < start:
    pass
try:
    runlock.claim(sys.argv[1])
    print("won", flush=True)
except runlock.RunBusy as e:
    print("lost", e.holder, flush=True)
sys.stdin.read()
"""


def start_racer(folder: Path, start: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RACER, str(folder), str(start)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_many_processes_racing_for_one_folder_get_exactly_one_claim(tmp_path):
    folder = tmp_path / "run"
    start = time.time() + 3  # all started and spinning before it
    racers = [start_racer(folder, start) for _ in range(8)]
    answers = [p.stdout.readline().split() for p in racers]
    for p in racers:
        p.stdin.close()
        p.wait(timeout=30)
    winners = [p.pid for p, a in zip(racers, answers) if a == ["won"]]
    assert len(winners) == 1, answers
    losers = [a for a in answers if a[0] == "lost"]
    # A loser names the winner, or says it is starting (it holds the lock but has not written its pid yet).
    named = ["process", str(winners[0]), "on", os.uname().nodename]
    assert len(losers) == 7 and all(a[1:] == named or a[1:3] == ["another", "process"] for a in losers), answers


def test_a_killed_holder_leaves_no_stale_claim(tmp_path):
    folder = tmp_path / "run"
    holder = start_racer(folder, 0)
    assert holder.stdout.readline().split() == ["won"]
    assert runlock.claimed_by(folder) == f"process {holder.pid} on {os.uname().nodename}"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert str(holder.pid) in (folder / runlock.LOCK).read_text()  # the file still says so; the kernel does not
    assert runlock.claimed_by(folder) is None
    try:
        runlock.claim(folder)
        assert runlock.holds(folder)
    finally:
        runlock.release(folder)
    assert not runlock.holds(folder)


def test_a_refused_claim_leaves_no_folder_behind(tmp_path, monkeypatch):
    from gvc.callbacks import release_refused

    folder = tmp_path / "fresh"
    assert runlock.claim(folder) is True
    release_refused(folder, created=True)
    assert not folder.exists() and not runlock.holds(folder)


def test_a_released_claim_leaves_no_lock_file(tmp_path):
    runlock.claim(tmp_path)
    assert (tmp_path / runlock.LOCK).is_file()
    runlock.release(tmp_path)
    assert list(tmp_path.iterdir()) == [] and runlock.claimed_by(tmp_path) is None


def test_a_trial_folder_another_live_process_holds_is_passed_over(tmp_path):
    from gvc.trial.run_identity import trial_dir

    root = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}, "trainer": {"seed": 1}})
    holder = start_racer(tmp_path / "0_linear_vae", 0)  # a parallel trial that resolved the same name first
    try:
        assert holder.stdout.readline().split() == ["won"]
        assert trial_dir("0_linear_vae", _root_=root) == "0_linear_vae-2"
        assert runlock.holds(tmp_path / "0_linear_vae-2")  # claimed before Hydra writes into it
        assert trial_dir("0_linear_vae", _root_=root) == "0_linear_vae-2"  # resolved again: the same folder
    finally:
        holder.stdin.close()
        holder.wait()
        runlock.release(tmp_path / "0_linear_vae-2")
    assert trial_dir("0_linear_vae", _root_=root) == "0_linear_vae"  # the holder ended: free again
    runlock.release(tmp_path / "0_linear_vae")


RACE = ["model=linear_vae", "trainer.max_steps=30", "data.subset=512", "data.test_subset=64", "eval.enabled=false",
        "trainer.progress=false", "trainer.threads=1"]


def gvc_process(*args: str) -> subprocess.Popen:
    env = {**os.environ, "GVC_DATA": DATA_ROOT, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "gvc", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow  # three gvc processes
def test_runs_started_together_into_one_folder_train_once_and_the_others_are_refused(tmp_path, mnist_root):
    folder = tmp_path / "run"
    procs = [gvc_process(*RACE, f"trainer.seed={seed}", f"hydra.run.dir={folder}") for seed in (1, 2, 3)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = [r[0] for r in results]
    assert sorted(codes) == [0, 2, 2], results
    winner = codes.index(0)
    for code, _, err in results:
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "is in use right now by process" in lines[0], err
    summary = rundir.read_summary(folder)
    assert summary["status"] == "completed" and summary["pid"] == procs[winner].pid
    # The folder is wholly the winner's: its summary, Hydra's record and its log say the same seed.
    assert summary["config"]["trainer"]["seed"] == winner + 1
    assert OmegaConf.load(folder / rundir.HYDRA_CONFIG).trainer.seed == winner + 1
    assert (folder / "gvc.log").read_text().count("completed") == 1


@pytest.mark.slow  # a joblib sweep of three parallel trials
def test_joblib_trials_racing_for_one_folder_each_get_their_own(tmp_path, mnist_root):
    sweep = tmp_path / "sweep"
    proc = gvc_process("-m", *RACE, "trainer.seed=1,2,3", "hydra/launcher=joblib", "hydra.launcher.n_jobs=3",
                       f"hydra.sweep.dir={sweep}", "hydra.sweep.subdir=${gvc_trial_dir:trial}")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    runs = rundir.find_run_dirs(sweep)
    assert sorted(r.name for r in runs) == ["trial", "trial-2", "trial-3"]
    seeds = set()
    for run in runs:
        summary = rundir.read_summary(run)
        seed = summary["config"]["trainer"]["seed"]
        assert summary["status"] == "completed"
        assert OmegaConf.load(run / rundir.HYDRA_CONFIG).trainer.seed == seed
        assert (run / "gvc.log").read_text().count("completed") == 1
        seeds.add(seed)
    assert seeds == {1, 2, 3}
