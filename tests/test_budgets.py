"""Training budgets: epochs, max_steps, max_images and time_budget_s end a run, and summary.json says which."""

import pytest

from gvc.training.loop import Trainer
from gvc.trial import rundir
from gvc.trial.task import run
from tests.conftest import TINY, make_config, without_timing

# 256 images at batch 64: four steps an epoch.
SMALL = ["model=linear_vae", *TINY, "trainer.max_steps=null", "data.subset=256", "data.batch_size=64"]


def test_max_images_stops_after_the_step_that_reaches_it_and_marks_the_partial_epoch(tmp_path, mnist_root):
    run(make_config([*SMALL, "trainer.epochs=10", "trainer.max_images=300"]), tmp_path)
    summary, history = rundir.read_summary(tmp_path), rundir.read_history(tmp_path)
    assert summary["stopped_by"] == "max_images"
    # 256 images in epoch 1 (whole), then one more batch of 64: 320 >= 300.
    assert [(row["epoch"], row["images"], row["partial"]) for row in history] == [(1, 256, 0), (2, 64, 1)]
    assert summary["images"] == 320 and summary["steps"] == 5 and summary["epochs"] == 2
    assert summary["epoch_images"] == 256


@pytest.mark.parametrize("budget", ["trainer.max_images=300", "trainer.time_budget_s=1", "trainer.max_steps=5"])
def test_the_run_ends_with_samples_a_checkpoint_and_evaluation_whatever_the_budget(budget, tmp_path, mnist_root):
    cfg = make_config([*SMALL, "trainer.epochs=100000", "trainer.sample_every=1000", "trainer.checkpoint_every=1000",
                       budget, "eval=fast", "eval.enabled=true", "eval.n_samples=200", "eval.nll_images=50",
                       "eval.iw_samples=2"])
    run(cfg, tmp_path)
    summary, history = rundir.read_summary(tmp_path), rundir.read_history(tmp_path)
    assert summary["stopped_by"] == budget.split(".")[1].split("=")[0]
    assert "fid" in summary["metrics"] and summary["objective"]["name"] == "fid"
    assert max(rundir.sample_grids(tmp_path)) == history[-1]["epoch"]
    assert rundir.read_checkpoint(tmp_path / rundir.CHECKPOINT)["step"] == summary["steps"]


def test_max_images_is_deterministic(tmp_path, mnist_root):
    for name in ("a", "b"):
        run(make_config([*SMALL, "trainer.epochs=10", "trainer.max_images=300"]), tmp_path / name)
    assert without_timing(rundir.read_history(tmp_path / "a")) == without_timing(rundir.read_history(tmp_path / "b"))


def test_time_budget_stops_training_once_training_time_reaches_it(tmp_path, mnist_root):
    run(make_config([*SMALL, "trainer.epochs=100000", "trainer.time_budget_s=1.5"]), tmp_path)
    summary, history = rundir.read_summary(tmp_path), rundir.read_history(tmp_path)
    assert summary["stopped_by"] == "time_budget_s"
    assert summary["train_time_s"] >= 1.5 and history[-1]["elapsed_s"] >= 1.5
    assert 0 < summary["train_cpu_s"] <= summary["train_time_s"] * summary["threads"] * 1.1 + 0.5
    assert summary["epochs"] < 100000 and summary["images"] == sum(row["images"] for row in history)


@pytest.mark.parametrize("extra, expected", [
    (["trainer.epochs=2"], "epochs"),
    (["trainer.epochs=2", "trainer.max_steps=3"], "max_steps"),
    (["trainer.epochs=2", "trainer.max_images=100000", "trainer.time_budget_s=3600"], "epochs"),
])
def test_summary_names_the_budget_that_ended_the_run(extra, expected, tmp_path, mnist_root):
    run(make_config([*SMALL, *extra]), tmp_path)
    assert rundir.read_summary(tmp_path)["stopped_by"] == expected


def test_whole_epochs_are_not_partial(tmp_path, mnist_root):
    run(make_config([*SMALL, "trainer.epochs=2"]), tmp_path)
    assert [row["partial"] for row in rundir.read_history(tmp_path)] == [0, 0]


def test_a_resumed_run_counts_the_images_and_time_of_its_earlier_segments(tmp_path, mnist_root):
    run(make_config([*SMALL, "trainer.epochs=1"]), tmp_path)  # 256 images, four steps
    cfg = make_config([*SMALL, "trainer.epochs=10", "trainer.max_images=400", "trainer.resume=true"])
    trainer = Trainer(cfg, tmp_path)
    trainer.load_checkpoint(rundir.read_checkpoint(tmp_path / rundir.CHECKPOINT, dict(cfg.model)))
    state = trainer.fit().state
    assert state.stopped_by == "max_images" and state.images == 448  # 256 + three batches of 64
    assert [row["images"] for row in state.history] == [256, 192]
