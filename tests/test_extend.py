"""Raising a finished run's budget (trainer.extend=true) continues it to the history of an uninterrupted run at the
larger budget; lowering a budget or changing anything else stays refused."""

from __future__ import annotations

import pytest

from gvc.config import ConfigError
from gvc.trial import rundir
from gvc.trial.extend import BUDGET_KEYS, ExtensionRefused, extension, reopen
from gvc.trial.task import run
from tests.conftest import make_config, without_timing

# 256 images: linear_vae's batch 64 makes 4 steps an epoch, linear_gan's 128 makes 2.
BASE = ["data.subset=256", "data.test_subset=64", "trainer.progress=false", "eval.enabled=false",
        "trainer.threads=1", "trainer.epochs=10", "trainer.sample_every=100"]


@pytest.mark.parametrize("model, short, long", [("linear_vae", 6, 12), ("linear_gan", 3, 8)])
def test_an_extended_run_has_the_history_of_an_uninterrupted_run_at_the_larger_budget(tmp_path, mnist_root,
                                                                                         model, short, long):
    extended, direct = tmp_path / "extended", tmp_path / "direct"
    run(make_config([f"model={model}", *BASE, f"trainer.max_steps={short}"]), extended)
    assert rundir.read_history(extended)[-1]["partial"] == 1  # a budget cut the last epoch short
    run(make_config([f"model={model}", *BASE, f"trainer.max_steps={long}", "trainer.extend=true"]), extended)
    run(make_config([f"model={model}", *BASE, f"trainer.max_steps={long}"]), direct)
    assert without_timing(rundir.read_history(extended)) == without_timing(rundir.read_history(direct))
    summary = rundir.read_summary(extended)
    assert summary["status"] == "completed" and summary["steps"] == long
    assert summary["final"] == rundir.read_summary(direct)["final"]
    assert summary["extended"][0]["budgets"] == {"trainer.max_steps": {"from": short, "to": long}}
    assert summary["extended"][0]["at"]["step"] == short
    assert summary["config"]["trainer"]["max_steps"] == long


def test_a_raised_budget_without_extend_is_refused_and_says_how(tmp_path, mnist_root):
    run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=2"]), tmp_path)
    with pytest.raises(ConfigError, match="add trainer.extend=true"):
        run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=4", "trainer.resume=true"]), tmp_path)


def test_extend_refuses_a_lowered_budget_and_any_other_change(tmp_path, mnist_root):
    run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=3"]), tmp_path)
    before = (tmp_path / rundir.CHECKPOINT).read_bytes()
    with pytest.raises(ConfigError, match="cannot lower"):
        run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=2", "trainer.extend=true"]), tmp_path)
    with pytest.raises(ConfigError, match="optimizer.lr"):
        run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=6", "optimizer.lr=1e-3",
                         "trainer.extend=true"]), tmp_path)
    with pytest.raises(ConfigError, match="stopped by trainer.max_steps"):
        run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=3", "trainer.epochs=20",
                         "trainer.extend=true"]), tmp_path)
    assert (tmp_path / rundir.CHECKPOINT).read_bytes() == before


def test_every_budget_unit_can_be_raised_and_null_is_the_largest():
    for key in BUDGET_KEYS:
        section, name = key.split(".")
        recorded = {"trainer": {"epochs": 5, "max_steps": 10, "max_images": 640, "time_budget_s": 1.0,
                                "cpu_budget_s": 1.0, "seed": 0}}
        raised = {"trainer": {**recorded["trainer"], name: recorded["trainer"][name] * 2}}
        assert extension(recorded, raised, name) == {key: [recorded["trainer"][name], raised["trainer"][name]]}
        unlimited = {"trainer": {**recorded["trainer"], name: None}}
        assert key in extension(recorded, unlimited, name)
        with pytest.raises(ExtensionRefused):
            extension(raised, recorded, name)


def test_budgets_are_the_loops():
    from gvc.training.loop import BUDGETS

    assert BUDGET_KEYS == tuple(f"trainer.{b}" for b in BUDGETS)


def test_reopen_leaves_an_epoch_end_checkpoint_as_it_is():
    checkpoint = {"epoch": 3, "step": 12, "history": [{"images": 256}] * 3, "images": 768, "cut": None}
    assert reopen(checkpoint) is checkpoint


@pytest.mark.slow  # three evaluated runs
def test_an_evaluated_run_extended_by_epochs_trains_on_as_if_never_evaluated(tmp_path, mnist_root):
    evaluated = [*BASE[:-4], "trainer.threads=1", "trainer.sample_every=100", "eval=fast", "eval.enabled=true"]
    extended, direct = tmp_path / "extended", tmp_path / "direct"
    run(make_config(["model=linear_gan", *evaluated, "trainer.epochs=1"]), extended)
    run(make_config(["model=linear_gan", *evaluated, "trainer.epochs=2", "trainer.extend=true"]), extended)
    run(make_config(["model=linear_gan", *evaluated, "trainer.epochs=2"]), direct)
    assert without_timing(rundir.read_history(extended)) == without_timing(rundir.read_history(direct))
    # re-evaluated at the new end: the same numbers as the direct run's
    assert rundir.read_summary(extended)["metrics"]["fid"] == rundir.read_summary(direct)["metrics"]["fid"]


def test_a_run_started_from_another_runs_weights_records_it_and_is_another_run(tmp_path, mnist_root):
    import torch

    source, started = tmp_path / "source", tmp_path / "started"
    run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=3"]), source)
    # one step at a vanishing learning rate: the weights it ends with are the source's
    run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=1", "optimizer.lr=1e-30",
                     f"trainer.init_from={source}"]), started)
    theirs = rundir.read_checkpoint(source / rundir.CHECKPOINT)["model"]
    ours = rundir.read_checkpoint(started / rundir.CHECKPOINT)["model"]
    assert all(torch.allclose(ours[k].float(), theirs[k].float()) for k in theirs)
    summary = rundir.read_summary(started)
    assert summary["init_from"]["step"] == 3 and summary["config"]["trainer"]["init_from"] == str(source)
    with pytest.raises(ConfigError, match="trainer.init_from"):  # part of what the run is
        run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=1", "optimizer.lr=1e-30",
                         "trainer.resume=true"]), started)


def test_a_missing_init_from_is_refused_before_training(tmp_path, mnist_root):
    with pytest.raises(rundir.CheckpointError, match="holds no checkpoint"):
        run(make_config(["model=linear_gan", *BASE, f"trainer.init_from={tmp_path / 'nowhere'}"]), tmp_path / "run")


def test_starting_from_another_runs_weights_is_a_departure_from_the_paper():
    import pandas as pd

    from analysis.protocol import departures_long

    table = pd.DataFrame([{"model": "dcgan", "status": "completed", "trainer.epochs": 100, "trainer.init_from": None},
                          {"model": "linear_gan", "status": "completed", "trainer.epochs": 100,
                           "trainer.init_from": "outputs/linear_gan/RUN"}])
    rows = departures_long(table).set_index(["model", "setting"])
    assert rows.loc[("linear_gan", "initial weights"), "departs"] is True
    assert rows.loc[("linear_gan", "initial weights"), "value"] == "from outputs/linear_gan/RUN"
    assert rows.loc[("dcgan", "initial weights"), "departs"] is False


def test_a_run_killed_after_its_last_checkpoint_is_extended_from_the_cut_too(tmp_path, mnist_root):
    extended, direct = tmp_path / "extended", tmp_path / "direct"
    run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=3"]), extended)
    # killed in its final evaluation (after the last checkpoint): summary.json still says running
    rundir.write_summary(extended, {**rundir.read_summary(extended), "status": "running", "pid": 0})
    run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=8", "trainer.extend=true"]), extended)
    run(make_config(["model=linear_gan", *BASE, "trainer.max_steps=8"]), direct)
    assert without_timing(rundir.read_history(extended)) == without_timing(rundir.read_history(direct))
