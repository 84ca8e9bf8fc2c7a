"""Ctrl-C in a sweep: the resume command is the sweep's, the interrupted trial has its index row, and the resumed
sweep's new trials start without a 'nothing to resume' warning."""

from __future__ import annotations

import csv
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

from gvc.trial import rundir
from tests.conftest import DATA_ROOT, ROOT

SWEEP = ["model=linear_vae", "data.subset=8000", "data.test_subset=256", "trainer.epochs=3", "trainer.progress=false",
         "trainer.threads=1", "eval.enabled=false", "optimizer.lr=1e-4,2e-4"]


def foreground_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as in a terminal, whatever started the suite


@pytest.mark.slow  # a sweep interrupted and resumed
def test_ctrl_c_in_a_sweep_names_the_sweeps_resume_command_and_indexes_the_trial(tmp_path, mnist_root):
    out = tmp_path / "sweep"
    env = {**os.environ, "GVC_DATA": DATA_ROOT, "HYDRA_FULL_ERROR": "0", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "gvc", "-m", *SWEEP, f"hydra.sweep.dir={out}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=foreground_ctrl_c)
    deadline = time.time() + 180
    while not (out / "0_linear_vae" / rundir.HISTORY).is_file():  # inside the first trial's second epoch
        assert proc.poll() is None and time.time() < deadline, "the trial ended before it could be interrupted"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out_text, err = proc.communicate(timeout=120)
    err = out_text + err  # Hydra logs a sweep's trials to stdout
    assert proc.returncode == 130, err
    assert "Resume the sweep with:" in err
    command = shlex.split(err.split("Resume the sweep with:")[1].strip().splitlines()[0])
    assert command[1:4] == ["-m", "gvc", "-m"] and "optimizer.lr=1e-4,2e-4" in command
    assert command[-2:] == [f"hydra.sweep.dir={out}", "trainer.resume=true"]
    with open(out / rundir.INDEX, newline="") as f:
        rows = {r["run_dir"]: r["status"] for r in csv.DictReader(f)}
    assert rows == {"0_linear_vae": "interrupted"}

    resumed = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "nothing to resume" not in resumed.stderr + resumed.stdout
    with open(out / rundir.INDEX, newline="") as f:
        rows = {r["run_dir"]: r["status"] for r in csv.DictReader(f)}
    assert rows == {"0_linear_vae": "completed", "1_linear_vae": "completed"}
    assert rundir.read_summary(out / "0_linear_vae")["resumed_from"]["epoch"] >= 1
