"""Evaluations along training (eval.along): points of the budget, evals.csv, best.pt, resume, off the clocks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from gvc import evaluate, sample
from gvc.config import ConfigError, validate
from gvc.training import loop
from gvc.training.along import TIMING, budget_unit, schedule
from gvc.trial import rundir
from gvc.trial.task import run
from tests.conftest import TINY, make_config, without_timing
from tests.test_lifecycle import CrashAt

# 10 steps an epoch (1,280 images at the Linear GAN's batch 128); the step budget (24) ends the run inside epoch 3,
# so the points are in steps: 3, 6, 12, each followed by a checkpoint; epoch ends checkpoint too (steps 10, 20).
ALONG = ["model=linear_gan", *TINY, "data.subset=1280", "trainer.epochs=3", "trainer.max_steps=24",
         "trainer.log_every=1", "trainer.threads=1", "eval=fast", "eval.enabled=true", "eval.n_samples=200",
         "eval.kid_subsets=4", "eval.along.enabled=true", "eval.along.n_samples=100", "eval.along.first=3"]


def without_clocks(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def test_points_are_log_spaced_whole_numbers_below_the_budget():
    assert schedule(50, 2.0, 1000, None, whole=True) == [50, 100, 200, 400, 800]
    assert schedule(3, 1.5, 20, None, whole=True) == [3, 5, 7, 11, 16]  # rounded up: 4.5 -> 5, 6.75 -> 7
    assert schedule(1.2, 1.1, 3, None, whole=True) == [2]  # 1.2, 1.32, ... 1.93 all round up to 2: one point
    assert schedule(2.0, 2.0, 300, 4, whole=False) == [2, 4, 8, 16]  # at most `points`
    assert schedule(500, 2.0, 300, None, whole=True) == []  # a budget below the first point: none


def test_the_points_are_in_the_unit_of_the_budget_that_ends_the_run():
    trainer = OmegaConf.create({"epochs": 100, "max_steps": None, "max_images": None, "time_budget_s": None,
                                "cpu_budget_s": None})
    assert budget_unit(trainer, 60000, 128) == ("images", 6_000_000)
    assert budget_unit(OmegaConf.merge(trainer, {"max_steps": 500}), 60000, 128) == ("steps", 500)
    assert budget_unit(OmegaConf.merge(trainer, {"max_images": 70000}), 60000, 128) == ("images", 70000)
    assert budget_unit(OmegaConf.merge(trainer, {"time_budget_s": 300}), 60000, 128) == ("train_s", 300)
    assert budget_unit(OmegaConf.merge(trainer, {"time_budget_s": 300, "cpu_budget_s": 200}), 60000, 128) == (
        "cpu_s", 200)


@pytest.fixture(scope="module")
def along_run(tmp_path_factory, mnist_root):
    """One evaluated run with points at steps 3, 6 and 12 (read, never changed, by the tests using it)."""
    path = tmp_path_factory.mktemp("along")
    run(make_config(ALONG), path)
    return path


@pytest.mark.slow  # an evaluated run: five evaluations
def test_each_point_is_a_row_of_evals_csv_and_the_best_weights_are_kept(along_run):
    tmp_path = along_run
    rows = rundir.read_evals(tmp_path)
    assert [(r["point"], r["step"], r["final"], r["n_samples"]) for r in rows] == [
        (3, 3, 0, 100), (6, 6, 0, 100), (12, 12, 0, 100), (24, 24, 1, 100), (24, 24, 1, 200)]
    assert all(r["images"] == 128 * r["step"] for r in rows)
    assert all({"fid", "precision", "floor_fid", "noise_fid", "eval_s", "cpu_s", "train_s"} <= set(r) for r in rows)
    summary = rundir.read_summary(tmp_path)
    along = summary["along"]
    assert along["unit"] == "steps" and along["points"] == [3, 6, 12] and along["evaluations"] == 5
    assert along["eval_s_along"] == pytest.approx(sum(r["eval_s"] for r in rows[:4]), abs=0.01)
    assert rows[-1]["fid"] == summary["metrics"]["fid"]  # the full-N row is the run's final evaluation
    cheap = rows[:4]
    best = min(cheap, key=lambda r: r["fid"])
    assert along["best"]["value"] == best["fid"] and along["best"]["step"] == best["step"]
    ckpt = rundir.read_checkpoint(tmp_path / rundir.BEST_CHECKPOINT)
    assert ckpt["step"] == best["step"] and ckpt["best"]["objective"] == "fid"


@pytest.mark.slow  # three short evaluated runs
@pytest.mark.parametrize("crash_at, resumed_from", [(11, 10), (8, 6)])
def test_a_run_resumed_between_two_points_writes_the_same_table_as_an_uninterrupted_one(
        tmp_path, mnist_root, monkeypatch, crash_at, resumed_from):
    run(make_config(ALONG), tmp_path / "whole")
    init = loop.Trainer.__init__

    def with_crash(self, cfg, run_dir, hooks=None, interrupts=None):
        init(self, cfg, run_dir, hooks=[*(hooks or []), CrashAt(crash_at)], interrupts=interrupts)

    monkeypatch.setattr(loop.Trainer, "__init__", with_crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(make_config(ALONG), tmp_path / "crashed")
    assert rundir.read_checkpoint(tmp_path / "crashed" / rundir.CHECKPOINT)["step"] == resumed_from
    monkeypatch.undo()
    run(make_config([*ALONG, "trainer.resume=true"]), tmp_path / "crashed")
    whole, crashed = (rundir.read_evals(tmp_path / d) for d in ("whole", "crashed"))
    assert without_clocks(crashed) == without_clocks(whole)  # no point repeated, none lost
    best = [rundir.read_checkpoint(tmp_path / d / rundir.BEST_CHECKPOINT)["model"] for d in ("whole", "crashed")]
    assert all(torch.equal(best[0][k], best[1][k]) for k in best[0])


@pytest.mark.slow  # two evaluated runs
def test_evaluating_along_training_changes_nothing_trained(tmp_path, mnist_root):
    run(make_config(ALONG), tmp_path / "along")
    run(make_config([*ALONG, "eval.along.enabled=false"]), tmp_path / "plain")
    histories = [without_timing(rundir.read_history(tmp_path / d)) for d in ("along", "plain")]
    assert histories[0] == histories[1]
    weights = [rundir.read_checkpoint(tmp_path / d / rundir.CHECKPOINT)["model"] for d in ("along", "plain")]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not (tmp_path / "plain" / rundir.EVALS).exists() and "along" not in rundir.read_summary(tmp_path / "plain")


def test_a_run_whose_budget_ends_before_the_first_point_writes_no_table(tmp_path, mnist_root):
    run(make_config([*ALONG, "eval.along.first=100"]), tmp_path)
    assert not (tmp_path / rundir.EVALS).exists() and not (tmp_path / rundir.BEST_CHECKPOINT).exists()
    assert rundir.read_summary(tmp_path)["along"] is None


@pytest.mark.slow  # a time budget of its own: 3 s of training
@pytest.mark.parametrize("budget, unit, clock", [("time_budget_s", "train_s", "train_time_s"),
                                                 ("cpu_budget_s", "cpu_s", "train_cpu_s")])
def test_evaluations_along_a_time_budget_are_off_its_clock(tmp_path, mnist_root, budget, unit, clock):
    run(make_config([*ALONG, "trainer.max_steps=null", "trainer.epochs=1000", f"trainer.{budget}=3",
                     "eval.along.first=0.25", "eval.along.n_samples=500"]), tmp_path)
    summary, rows = rundir.read_summary(tmp_path), rundir.read_evals(tmp_path)
    assert summary["stopped_by"] == budget and summary["along"]["unit"] == unit
    along = [r for r in rows if not r["final"]]
    points = [r["point"] for r in along]  # a slow first step (a loaded machine) may pass 0.25 s and 0.5 s at once
    assert set(points) <= {0.25, 0.5, 1.0, 2.0} and points == sorted(points) and points[-2:] == [1.0, 2.0]
    assert all(r[unit] >= r["point"] for r in along)  # reached when the clock passed it
    assert sum(r["eval_s"] for r in along) > 1.0  # four evaluations: seconds the budget did not pay for
    # Its CPU-s are at most its seconds times torch's threads: the evaluations' CPU time is not in them either.
    assert summary[clock] < 3.5 and summary["train_cpu_s"] < 3.5 * torch.get_num_threads()


@pytest.mark.parametrize("override, words", [
    ("eval.along.growth=1", ["eval.along.growth", "above 1"]),
    ("eval.along.n_samples=2", ["eval.along.n_samples"]),
    ("eval.along.first=0", ["eval.along.first", "positive"]),
    ("eval.along.points=0", ["eval.along.points"]),
])
def test_bad_along_settings_are_refused_naming_the_key(override, words):
    with pytest.raises(ConfigError) as refused:
        validate(make_config([*ALONG, override]))
    assert all(w in str(refused.value) for w in words)


@pytest.mark.slow  # shares along_run's evaluated run
def test_sample_and_evaluate_use_the_best_checkpoint_when_asked(along_run, tmp_path, capsys):
    best_step = rundir.read_summary(along_run)["along"]["best"]["step"]
    assert sample.main([str(along_run), "--checkpoint", "best", "--n", "4", "--npy", str(tmp_path / "b.npy")]) == 0
    assert sample.main([str(along_run), "--n", "4", "--npy", str(tmp_path / "l.npy")]) == 0
    if best_step != 24:  # the best weights are not the last ones: other images from the same latents
        assert not (np.load(tmp_path / "b.npy") == np.load(tmp_path / "l.npy")).all()
    assert evaluate.main([str(along_run), "eval=fast", "eval.n_samples=100", "eval.kid_subsets=4",
                          "--checkpoint", "best"]) == 0
    (record,) = rundir.read_evaluations(along_run)
    assert record["file"].endswith(f"_step{best_step}_best.json") and record["checkpoint"]["name"] == "best"
    summary = rundir.read_summary(along_run)  # the final numbers stay the last checkpoint's
    assert rundir.with_latest_evaluation(summary, {}, along_run)[0]["metrics"] == summary["metrics"]


def test_asking_for_a_best_checkpoint_a_run_does_not_have_is_refused(tmp_path, mnist_root, capsys):
    run(make_config(["model=linear_gan", *TINY, "trainer.max_steps=2"]), tmp_path)
    with pytest.raises(SystemExit) as exited:
        sample.main([str(tmp_path), "--checkpoint", "best"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("gvc: error:") and "best.pt" in err and "eval.along" in err


@pytest.mark.slow  # shares along_run's evaluated run
def test_analysis_reads_a_trained_runs_evaluations_along_training(along_run):
    from analysis import collect
    from analysis.curves import along_frame

    collection = collect([along_run])
    frame = along_frame(collection)
    assert list(frame["point"]) == [3, 6, 12, 24] and set(frame["n_samples"]) == {100}  # the full-N row left out
    row = collection.table.iloc[0]
    assert row["along_unit"] == "steps" and row["along_budget"] == 24
    assert row["best_objective"] == frame["fid"].min()


def test_a_run_continued_past_its_end_keeps_the_earlier_end_rows_as_ordinary_points():
    from gvc.training.along import AlongEvaluation

    along = AlongEvaluation(make_config(ALONG), epoch_images=1280, family="gan")
    along.load_state_dict({"next": 3, "best": None, "rows": [{"point": 12, "final": 0, "n_samples": 100},
                                                             {"point": 24, "final": 1, "n_samples": 100},
                                                             {"point": 24, "final": 1, "n_samples": 200}]})
    written = []

    class Table:
        def eval_point(self, rows, best):
            written.append((rows, best))

    along.begin(Table())
    (rows, best), = written
    assert [r["final"] for r in rows] == [0, 0, 0] and best is None and len(rows) == 3


def test_a_point_is_evaluated_with_alongs_own_cheap_settings_not_the_final_ones():
    from gvc.training.along import AlongEvaluation

    cfg = make_config([*ALONG, "eval.along.kid_subsets=3", "eval.along.iw_samples=2", "eval.along.nll_images=50"])
    settings = AlongEvaluation(cfg, 1280, "gan").eval_cfg
    assert (settings["n_samples"], settings["kid_subsets"], settings["iw_samples"], settings["nll_images"]) == (
        100, 3, 2, 50)
    assert (cfg.eval.n_samples, cfg.eval.kid_subsets) == (200, 4)  # the final evaluation keeps its own
