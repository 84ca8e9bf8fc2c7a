"""Successive halving (hydra/sweeper=halving): rungs, decisions made in the sweeping process, promotion by
resume in the trial's own folder, pruned trials recorded, refusals before any compute, and a killed sweeper's
sweep finished with the same decisions."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from gvc.config import ConfigError
from gvc.trial import rundir
from gvc.sweep.halving import (HALVING_FILE, check_budget_key, check_single_objective, decide, grouped, hyperband_brackets,
                         rungs_of)
from gvc.trial.task import run
from tests.conftest import DATA_ROOT, ROOT, make_config, run_gvc, without_timing

# 4 candidates, eta 2, rungs 2 -> 4 -> 8 steps: 4 trials at 2 steps, 2 at 4, 1 at 8. 256 images of batch 64
# are 4 steps an epoch, so the 8-step finalist crosses an epoch (epochs=10 never binds).
TRIALS = ["model=linear_vae", "trainer=smoke", "trainer.epochs=10", "data.subset=256", "data.test_subset=128",
          "trainer.threads=1", "eval.enabled=false"]
HALVING = ["hydra/sweeper=halving", "hydra.sweeper.budget=trainer.max_steps", "hydra.sweeper.rungs=[2,4,8]",
           "hydra.sweeper.eta=2", *TRIALS, "optimizer.lr=1e-4,2e-4,5e-4,1e-3"]


def read_index(sweep_dir):
    with open(sweep_dir / rundir.INDEX, newline="") as f:
        return list(csv.DictReader(f))


def decisions(sweep_dir):
    """Each rung's values, promotions and prunings, as the journal holds them."""
    journal = json.loads((sweep_dir / HALVING_FILE).read_text())
    return [{k: d[k] for k in ("rung", "budget", "trials", "ranked", "promoted", "pruned")} for d in journal["decided"]]


# -- the plan, without training ------------------------------------------------------------------------------
def test_rungs_grow_by_eta_from_min_to_max():
    assert rungs_of(30, 270, 3, None) == [30, 90, 270]
    assert rungs_of(2, 10, 2, None) == [2, 4, 8, 10]  # the last rung is max
    assert rungs_of(None, None, 3, [2, 4, 8]) == [2, 4, 8]


@pytest.mark.parametrize("args, match", [
    ((None, None, 3, [4, 2, 8]), "not increasing"),
    ((None, None, 3, [2, 2]), "not increasing"),
    ((270, 30, 3, None), "not increasing"),
    ((30, 270, 1, None), "at least 2"),
    ((30, 270, 2.5, None), "whole number"),
])
def test_bad_rungs_and_eta_are_refused(args, match):
    with pytest.raises(ConfigError, match=match):
        rungs_of(*args)


def test_a_budget_unit_the_trials_do_not_use_or_that_the_sweep_varies_is_refused():
    with pytest.raises(ConfigError, match="not a budget unit"):
        check_budget_key("trainer.steps", [])
    with pytest.raises(ConfigError, match="set by the halving sweeper"):
        check_budget_key("trainer.max_steps", ["trainer.max_steps"])
    check_budget_key("trainer.cpu_budget_s", ["optimizer.lr"])


def test_a_multi_objective_sweep_cannot_prune():
    with pytest.raises(ConfigError, match="multi-objective"):
        check_single_objective(["minimize", "maximize"], [])
    with pytest.raises(ConfigError, match="trainer.objective varies"):
        check_single_objective("auto", ["trainer.objective"])
    assert check_single_objective(["maximize"], []) == "maximize"


def test_hyperbands_brackets_start_fewer_candidates_on_larger_budgets():
    assert hyperband_brackets(3, 3, 3) == ((0, 9), (1, 5), (2, 3))  # Li et al. 2018, eta 3, s_max 2
    assert hyperband_brackets(3, 2, 2) == ((0, 4), (1, 3))
    with pytest.raises(ConfigError, match="brackets=4"):
        hyperband_brackets(3, 3, 4)


def test_the_best_fraction_is_promoted_the_other_completed_are_pruned_and_failed_stay_failed():
    trials = {0: {"status": "completed", "value": 3.0}, 1: {"status": "failed", "value": math.inf},
              2: {"status": "completed", "value": 1.0}, 3: {"status": "completed", "value": 2.0}}
    assert decide(trials, "minimize", 2) == ([2, 3], [0])
    assert decide(trials, "maximize", 1) == ([0], [2, 3])


# -- refusals on the command line: one line, exit 2, nothing trained ---------------------------------------------
@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
@pytest.mark.parametrize("extra, says", [
    (["hydra.sweeper.rungs=[4,2,8]"], "are not increasing"),
    (["hydra.sweeper.eta=1"], "eta=1"),
    (["hydra.sweeper.budget=trainer.max_stepz"], "not a budget unit the trials use"),
    (["trainer.objective=fid"], "an evaluation metric needs eval.enabled=true"),
    (["hydra.sweeper.direction=[minimize,maximize]"], "multi-objective"),
    (["trainer.epochs=1"], "trainer.epochs=1 ends the trials after at most 4 steps"),
    (["hydra.sweeper.brackets=2"], "Hyperband's brackets each draw their own candidates"),
    (["hydra.sweeper.group_by=[trainer.seed]"], "trainer.seed is not searched"),
])
def test_bad_halving_input_is_refused_before_anything_runs(tmp_path, extra, says):
    out = tmp_path / "refused"
    result = run_gvc("-m", *HALVING, *extra, f"hydra.sweep.dir={out}")
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("gvc: error:")]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not rundir.find_run_dirs(out) if out.exists() else True


# -- real sweeps ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def halved(tmp_path_factory, mnist_root):
    """One uninterrupted halving sweep on the basic launcher (shared by the tests that compare with it)."""
    out = tmp_path_factory.mktemp("halving") / "basic"
    result = run_gvc("-m", *HALVING, f"hydra.sweep.dir={out}")
    assert result.returncode == 0, result.stderr
    return out, result.stdout + result.stderr


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_halving_prunes_the_worse_half_at_each_rung_and_records_why(halved):
    out, console = halved
    rungs = decisions(out)
    assert [d["budget"] for d in rungs] == [2, 4, 8]
    assert [len(d["trials"]) for d in rungs] == [4, 2, 1]  # every rung's values, for comparing rankings later
    assert len(rungs[0]["promoted"]) == 2 and len(rungs[0]["pruned"]) == 2
    assert len(rungs[1]["promoted"]) == 1 and rungs[1]["pruned"] == [n for n in rungs[0]["promoted"]
                                                                     if n not in rungs[1]["promoted"]]
    for d in rungs[:2]:  # the promoted are the best (test_loss: lower is better)
        best = max(d["trials"][str(n)]["value"] for n in d["promoted"])
        assert all(d["trials"][str(n)]["value"] >= best for n in d["pruned"])
    rows = {r["run_dir"]: r for r in read_index(out)}
    assert len(rows) == 4  # promotions continue in their own folders: no new ones
    (final,) = rungs[2]["promoted"]
    assert rows[f"{final}_linear_vae"]["status"] == "completed"
    for d in rungs[:2]:
        for n in d["pruned"]:
            row, value = rows[f"{n}_linear_vae"], d["trials"][str(n)]["value"]
            assert row["status"] == "pruned" and float(row["objective_value"]) == value
            assert row["reason"].startswith(f"pruned at rung {d['rung']} (budget trainer.max_steps={d['budget']}): "
                                            f"value {value:.6g}, rank {d['ranked'].index(n) + 1} of {len(d['ranked'])}")
            summary = rundir.read_summary(out / f"{n}_linear_vae")
            assert summary["status"] == "pruned" and summary["pruned"]["rung"] == d["rung"]
            assert summary["steps"] == d["budget"]  # trained to its rung and no further
    assert "1 of 4 trials completed, 3 pruned" in console


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_a_promoted_trial_has_the_history_of_an_uninterrupted_run_at_the_largest_budget(halved, tmp_path):
    out, _ = halved
    (final,) = decisions(out)[2]["promoted"]
    folder = out / f"{final}_linear_vae"
    summary = rundir.read_summary(folder)
    assert [e["budgets"] for e in summary["extended"]] == [  # continued twice, never retrained from scratch
        {"trainer.max_steps": {"from": 2, "to": 4}}, {"trainer.max_steps": {"from": 4, "to": 8}}]
    assert [e["at"]["step"] for e in summary["extended"]] == [2, 4] and summary["resumed_from"]["step"] == 4
    lr = summary["config"]["optimizer"]["lr"]
    direct = tmp_path / "direct"
    run(make_config([*TRIALS, f"optimizer.lr={lr}", "trainer.max_steps=8", "trainer.progress=false"]), direct)
    assert without_timing(rundir.read_history(folder)) == without_timing(rundir.read_history(direct))
    assert summary["objective"]["value"] == rundir.read_summary(direct)["objective"]["value"]


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
@pytest.mark.parametrize("launcher", [["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                                      ["hydra/launcher=submitit_local"]], ids=["joblib", "submitit_local"])
def test_halving_decides_the_same_on_other_launchers(halved, tmp_path, launcher):
    out = tmp_path / "other"
    result = run_gvc("-m", *HALVING, *launcher, f"hydra.sweep.dir={out}")
    assert result.returncode == 0, result.stderr
    assert decisions(out) == decisions(halved[0])
    assert [(r["run_dir"], r["status"]) for r in read_index(out)] == [
        (r["run_dir"], r["status"]) for r in read_index(halved[0])]


def kill_when(args: list[str], ready, timeout: float = 300) -> None:
    """Start `python -m gvc ARGS`, wait until ready() and kill -9 it (tests/test_sweep_recovery.py's idiom)."""
    env = {**os.environ, "GVC_DATA": DATA_ROOT}
    proc = subprocess.Popen([sys.executable, "-m", "gvc", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None and time.time() < deadline, "it ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def journal_rungs(sweep_dir):
    try:
        return len(json.loads((sweep_dir / HALVING_FILE).read_text())["decided"])
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
@pytest.mark.parametrize("moment", ["in rung 0", "in rung 1"])
def test_a_killed_halving_sweep_is_finished_by_the_same_command_with_the_same_decisions(halved, tmp_path, moment):
    out = tmp_path / "killed"
    command = ["-m", *HALVING, "trainer.resume=true", f"hydra.sweep.dir={out}"]
    if moment == "in rung 0":  # trial 2 has started: trials 0 and 1 are done, none decided
        ready = lambda: (out / "2_linear_vae" / rundir.SUMMARY).is_file()  # noqa: E731
    else:  # rung 0 decided and journaled: its promotions are being launched
        ready = lambda: journal_rungs(out) >= 1  # noqa: E731
    kill_when(command, ready)
    assert journal_rungs(out) < 3  # killed before the sweep ended
    again = run_gvc(*command)
    assert again.returncode == 0, again.stderr
    assert decisions(out) == decisions(halved[0])
    rows = read_index(out)
    assert [r["status"] for r in rows] == [r["status"] for r in read_index(halved[0])]
    if moment == "in rung 1":
        assert "continuing the halving sweep" in again.stdout + again.stderr


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_an_extension_killed_before_its_first_checkpoint_resumes_to_the_uninterrupted_history(tmp_path, mnist_root):
    """A promotion killed after it started training on, before it wrote a checkpoint, still holds the smaller
    budget's cut checkpoint: resuming it re-opens that cut, as the extension itself did."""
    config = ["model=linear_vae", "data.subset=20000", "data.test_subset=128", "trainer.progress=false",
              "trainer.threads=1", "eval.enabled=false", "trainer.epochs=10"]
    folder, direct = tmp_path / "promoted", tmp_path / "direct"
    assert run_gvc(*config, "trainer.max_steps=3", f"hydra.run.dir={folder}").returncode == 0
    extension = [*config, "trainer.max_steps=400", "trainer.resume=true", "trainer.extend=true",
                 f"hydra.run.dir={folder}"]

    def training_on() -> bool:
        summary = rundir.read_summary(folder) or {}
        return summary.get("status") == "running" and summary["config"]["trainer"]["max_steps"] == 400

    kill_when(extension, training_on)
    assert rundir.read_checkpoint(folder / rundir.CHECKPOINT).get("cut")  # still the 3-step run's checkpoint
    again = run_gvc(*extension)
    assert again.returncode == 0, again.stderr
    # As a user runs it (trainer.threads=1 applied by the entry point): an in-process run would use pytest's threads,
    # whose other summation order differs in the last float digits.
    assert run_gvc(*config, "trainer.max_steps=400", f"hydra.run.dir={direct}").returncode == 0
    assert without_timing(rundir.read_history(folder)) == without_timing(rundir.read_history(direct))


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_analysis_lists_pruned_trials_with_their_rung_and_never_pools_them(halved):
    from analysis.collect import collect
    from analysis.tables import problems_table

    out, _ = halved
    collection = collect([out])
    statuses = dict(zip(collection.table["run"], collection.table["status"]))
    assert sorted(statuses.values()) == ["completed", "pruned", "pruned", "pruned"]
    problems = problems_table(collection)
    assert sorted(problems["status"]) == ["pruned"] * 3
    assert all(r.startswith("pruned at rung ") and "value " in r for r in problems["reason"])


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_sampled_candidates_are_told_to_their_study_pruned_with_their_last_rung_value(tmp_path, mnist_root):
    optuna = pytest.importorskip("optuna")
    out = tmp_path / "sampled"
    command = ["-m", *HALVING[:4], "+hydra.sweeper.sampler._target_=optuna.samplers.RandomSampler",
               "+hydra.sweeper.sampler.seed=0", "hydra.sweeper.n_trials=4", *TRIALS,
               "optimizer.lr=tag(log, interval(1e-4, 1e-3))", f"hydra.sweep.dir={out}"]
    result = run_gvc(*command)
    assert result.returncode == 0, result.stderr
    rungs = decisions(out)
    storage = f"sqlite:///{out / 'optuna.db'}"
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    states = {t.number: t for t in study.trials}
    assert sorted(t.state.name for t in study.trials) == ["COMPLETE", "PRUNED", "PRUNED", "PRUNED"]
    for d in rungs:
        for n, outcome in d["trials"].items():  # every rung's value is the trial's intermediate value there
            assert states[int(n)].intermediate_values[d["rung"]] == outcome["value"]
        for n in d["pruned"]:
            assert states[n].state.name == "PRUNED" and states[n].value == d["trials"][str(n)]["value"]
    (final,) = rungs[2]["promoted"]
    assert states[final].value == rundir.read_summary(out / f"{final}_linear_vae")["objective"]["value"]
    lr = rundir.read_summary(out / f"{final}_linear_vae")["config"]["optimizer"]["lr"]
    assert states[final].params["optimizer.lr"] == lr
    again = run_gvc(*command, "trainer.resume=true")  # the journal's candidates: nothing asked or trained anew
    assert again.returncode == 0, again.stderr
    assert len(optuna.load_study(study_name=summary.study_name, storage=storage).trials) == 4
    assert decisions(out) == rungs


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_a_pruned_trial_resumed_alone_stays_pruned_and_once_extended_by_hand_is_left_alone(halved, tmp_path):
    import shutil

    out = tmp_path / "sweep"
    shutil.copytree(halved[0], out)
    n = min(decisions(out)[0]["pruned"])
    folder = out / f"{n}_linear_vae"
    before = rundir.read_summary(folder)
    lr = before["config"]["optimizer"]["lr"]
    config = [*TRIALS, f"optimizer.lr={lr}", "trainer.progress=false"]
    value = run(make_config([*config, "trainer.max_steps=2", "trainer.resume=true"]), folder)
    assert value == before["objective"]["value"] and rundir.read_summary(folder) == before  # reported again
    run(make_config([*config, "trainer.max_steps=4", "trainer.extend=true"]), folder)
    after = rundir.read_summary(folder)
    assert after["status"] == "completed" and after["steps"] == 4 and "pruned" not in after
    again = run_gvc("-m", *HALVING, "trainer.resume=true", f"hydra.sweep.dir={out}")  # the sweep, finished again
    assert again.returncode == 0, again.stderr
    assert rundir.read_summary(folder) == after  # the user's extension is not pruned again


def test_grouped_candidates_are_contiguous_per_group_in_grid_order():
    grid = [["a=1", "b=x"], ["a=1", "b=y"], ["a=2", "b=x"], ["a=2", "b=y"]]
    ordered, groups = grouped(grid, ["b"], ["a", "b"])
    assert ordered == [["a=1", "b=x"], ["a=2", "b=x"], ["a=1", "b=y"], ["a=2", "b=y"]]
    assert groups == (("b=x", 2), ("b=y", 2))


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_a_grouped_sweep_halves_each_group_on_its_own_and_each_keeps_its_best(tmp_path, mnist_root):
    out = tmp_path / "grouped"
    command = ["-m", "hydra/sweeper=halving", "hydra.sweeper.budget=trainer.max_steps", "hydra.sweeper.rungs=[2,4]",
               "hydra.sweeper.eta=2", "hydra.sweeper.group_by=[optimizer.lr]", *TRIALS,
               "optimizer.lr=1e-4,1e-3", "trainer.seed=0,1", f"hydra.sweep.dir={out}"]
    result = run_gvc(*command)
    assert result.returncode == 0, result.stderr
    journal = json.loads((out / HALVING_FILE).read_text())
    assert journal["groups"] == [["optimizer.lr=0.0001", 2], ["optimizer.lr=0.001", 2]]
    assert [(d["group"], d["rung"], sorted(d["trials"])) for d in journal["decided"]] == [
        ("optimizer.lr=0.0001", 0, ["0", "1"]), ("optimizer.lr=0.0001", 1, ["0"] if journal["decided"][0]["promoted"]
                                                 == [0] else ["1"]),
        ("optimizer.lr=0.001", 0, ["2", "3"]), ("optimizer.lr=0.001", 1, [str(n) for n in
                                                                          journal["decided"][2]["promoted"]])]
    for d in journal["decided"][::2]:  # each group's better seed goes on, however the other group scored
        (kept,), (dropped,) = d["promoted"], d["pruned"]
        assert d["trials"][str(kept)]["value"] <= d["trials"][str(dropped)]["value"]
    rows = read_index(out)
    assert sorted(r["status"] for r in rows) == ["completed", "completed", "pruned", "pruned"]
    lrs = {r["overrides"].split("optimizer.lr=")[1].split()[0] for r in rows if r["status"] == "completed"}
    assert lrs == {"0.0001", "0.001"}  # a finalist per group


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_hyperband_brackets_halve_their_own_sampled_candidates_from_their_own_first_rung(tmp_path, mnist_root):
    optuna = pytest.importorskip("optuna")
    out = tmp_path / "hyperband"
    command = ["-m", *HALVING[:4], "hydra.sweeper.brackets=2", "+hydra.sweeper.sampler._target_=optuna.samplers.RandomSampler",
               "+hydra.sweeper.sampler.seed=0", *TRIALS, "optimizer.lr=tag(log, interval(1e-4, 1e-3))",
               f"hydra.sweep.dir={out}"]
    result = run_gvc(*command)
    assert result.returncode == 0, result.stderr
    journal = json.loads((out / HALVING_FILE).read_text())
    assert [(d["bracket"], d["rung"], len(d["trials"])) for d in journal["decided"]] == [
        (0, 0, 4), (0, 1, 2), (0, 2, 1), (1, 1, 3), (1, 2, 1)]
    late = [n for n in journal["decided"][3]["trials"]]
    assert sorted(late) == ["4", "5", "6"]
    for n in late:  # bracket 1 started at rung 1's budget, from scratch
        summary = rundir.read_summary(out / journal["folders"][n])
        first = summary["extended"][0]["budgets"] if summary.get("extended") else None
        assert first in (None, {"trainer.max_steps": {"from": 4, "to": 8}})
    rows = read_index(out)
    assert sorted(r["status"] for r in rows) == ["completed"] * 2 + ["pruned"] * 5
    storage = f"sqlite:///{out / 'optuna.db'}"
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    assert sorted(t.state.name for t in study.trials) == ["COMPLETE"] * 2 + ["PRUNED"] * 5
