"""Sweeps with tiny budgets: grid, optuna (and its resumption), joblib, submitit_local, a failing trial."""

import csv

import pytest

from gvc.trial import rundir
from tests.conftest import TINY_EVAL, run_gvc

TINY_SWEEP = ["model=linear_vae", "trainer=smoke", "trainer.max_steps=2", "data.subset=256", "data.test_subset=128",
              "trainer.threads=1", *TINY_EVAL]


def read_index(sweep_dir):
    with open(sweep_dir / rundir.INDEX, newline="") as f:
        return list(csv.DictReader(f))


def check_completed(sweep_dir, n):
    rows = read_index(sweep_dir)
    assert len(rows) == n
    assert [r["status"] for r in rows] == ["completed"] * n
    for row in rows:
        assert rundir.read_summary(sweep_dir / row["run_dir"])["status"] == "completed"
        assert float(row["objective_value"]) > 0
    return rows


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_grid_sweep_2x2_writes_four_runs_and_an_index(tmp_path):
    out = tmp_path / "grid"
    result = run_gvc("-m", "+sweeps=grid", *TINY_SWEEP, "model.dropout=0.0", "data.batch_size=32,64",
                     "optimizer.lr=1e-4,2e-4", f"hydra.sweep.dir={out}")
    assert result.returncode == 0, result.stderr
    rows = check_completed(out, 4)
    assert {("optimizer.lr=0.0001" in r["overrides"], "data.batch_size=32" in r["overrides"]) for r in rows} == {
        (True, True), (True, False), (False, True), (False, False)}


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_optuna_sweep_resumes_its_study(tmp_path):
    optuna = pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path}/study.db"
    common = ["+sweeps=optuna", *TINY_SWEEP, "hydra.sweeper.n_trials=3", f"hydra.sweeper.storage={storage}"]
    first = run_gvc("-m", *common, f"hydra.sweep.dir={tmp_path / 'a'}")
    assert first.returncode == 0, first.stderr
    check_completed(tmp_path / "a", 3)
    second = run_gvc("-m", *common, f"hydra.sweep.dir={tmp_path / 'b'}")
    assert second.returncode == 0, second.stderr
    check_completed(tmp_path / "b", 3)
    check_completed(tmp_path / "a", 3)  # the first sweep's trials are untouched
    (summary,) = optuna.get_all_study_summaries(storage)  # one study, named by what makes its trials comparable
    assert summary.study_name.startswith("gvc_linear_vae_mnist_")
    assert "continuing Optuna study" in second.stdout + second.stderr
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    assert len(study.trials) == 6
    assert all(t.state.name == "COMPLETE" for t in study.trials)


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_joblib_launcher_runs_two_jobs_in_parallel(tmp_path):
    out = tmp_path / "joblib"
    result = run_gvc("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY_SWEEP, "optimizer.lr=1e-4,2e-4",
                     f"hydra.sweep.dir={out}")
    assert result.returncode == 0, result.stderr
    check_completed(out, 2)
    lines = (result.stdout + result.stderr).splitlines()  # interleaved trials' lines say whose they are
    assert any("[0_linear_vae][gvc.trial.lifecycle]" in line for line in lines)
    assert any("[1_linear_vae][gvc.trial.lifecycle]" in line for line in lines)


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_submitit_local_launcher_runs_two_jobs(tmp_path):
    out = tmp_path / "submitit"
    result = run_gvc("-m", "hydra/launcher=submitit_local", *TINY_SWEEP, "optimizer.lr=1e-4,2e-4",
                     f"hydra.sweep.dir={out}")
    assert result.returncode == 0, result.stderr
    check_completed(out, 2)


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_failing_and_diverging_trials_are_recorded_and_the_sweep_goes_on(tmp_path):
    out = tmp_path / "failing"
    # lr=-1 is refused by validation; lr=1e30 blows the weights up (NaN loss) within a step or two.
    result = run_gvc("-m", *TINY_SWEEP, "optimizer.lr=1e-4,-1,1e30", f"hydra.sweep.dir={out}")
    assert result.returncode == 0, result.stderr
    rows = read_index(out)
    assert [r["status"] for r in rows] == ["completed", "failed", "diverged"]
    assert "optimizer.lr" in rows[1]["reason"]
    assert float(rows[1]["objective_value"]) == float("inf") and float(rows[2]["objective_value"]) == float("inf")
    diverged = rundir.read_summary(out / rows[2]["run_dir"])
    assert diverged["diverged_at"]["epoch"] == 1 and diverged["diverged_at"]["step"] >= 1
    console = result.stdout + result.stderr  # one line per failed trial, and the count at the end
    assert "trial 1_linear_vae failed (ConfigError: optimizer.lr=-1.0" in console
    assert "trial 2_linear_vae diverged (" in console
    assert "2 of 3 trials failed or diverged: 1_linear_vae failed" in console


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_a_second_sweep_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "once"
    assert run_gvc("-m", *TINY_SWEEP, f"hydra.sweep.dir={out}").returncode == 0
    before = (out / "0_linear_vae" / rundir.HISTORY).read_bytes()
    again = run_gvc("-m", *TINY_SWEEP, "optimizer.lr=3e-4", f"hydra.sweep.dir={out}")
    assert again.returncode == 2 and "gvc: error:" in again.stderr and "refusing to overwrite" in again.stderr
    assert (out / "0_linear_vae" / rundir.HISTORY).read_bytes() == before
