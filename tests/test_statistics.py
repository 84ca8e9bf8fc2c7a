"""The statistics behind the report's claims (issue 28): runs counted once, rows that say what they pool, tests
that fit the number of seeds, uncertainty from runs, the selection named, objectives compared, N stated.

Hand-made run directories only (tests/test_analysis.py's make_run): fast, and every number known."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from omegaconf import OmegaConf

from analysis.collect import collect
from analysis.tables import configuration_table, results_table
from gvc import rundir
from tests.test_analysis import make_run


def small_sweep(root, fids=((0, 12.0), (1, 14.0)), lrs=(2e-4, 4e-4)):
    """DCGAN at two learning rates x seeds: FID = base + 10 per lr step."""
    for j, lr in enumerate(lrs):
        for seed, fid in fids:
            make_run(root / f"{j}{seed}_dcgan", "dcgan", lr=lr, seed=seed,
                     metrics={"fid": fid + 10 * j, "floor_fid": 1.5, "noise_fid": 400.0})
    return root


def set_config(path, key, value):
    config = OmegaConf.load(path / rundir.HYDRA_CONFIG)
    OmegaConf.update(config, key, value, force_add=True)
    OmegaConf.save(config, path / rundir.HYDRA_CONFIG)


# -- 1. one run counts once ----------------------------------------------------------------------------------
def test_two_copies_of_one_sweep_give_the_numbers_of_one(tmp_path):
    sweep = small_sweep(tmp_path / "grid")
    shutil.copytree(sweep, tmp_path / "copy")
    one, two = collect([sweep]), collect([sweep, tmp_path / "copy"])
    pd.testing.assert_frame_equal(results_table(one).drop(columns="best_run"),
                                  results_table(two).drop(columns="best_run"))
    assert list(configuration_table(two)["seeds"]) == [2, 2]
    assert len(two.duplicates) == 4 and set(two.duplicates["same_metrics"]) == {"yes"}
    assert all(str(tmp_path / "copy") in d for d in two.duplicates["run_dir"])


def test_reruns_that_differ_only_in_execution_keys_are_one_run(tmp_path):
    for i, (key, value) in enumerate([("trainer.threads", 1), ("trainer.threads", 2), ("data.root", "/elsewhere")]):
        run = make_run(tmp_path / f"run{i}", "dcgan", seed=0, metrics={"fid": 12.0})
        set_config(run, key, value)
    make_run(tmp_path / "seed1", "dcgan", seed=1, metrics={"fid": 13.0})
    c = collect([tmp_path])
    assert sorted(c.table["seed"]) == [0, 1]
    assert len(c.duplicates) == 2 and set(c.duplicates["duplicate_of"]) == {"run0"}


def test_a_run_of_another_configuration_or_seed_is_no_duplicate(tmp_path):
    make_run(tmp_path / "a", "dcgan", seed=0, metrics={"fid": 12.0})
    make_run(tmp_path / "b", "dcgan", seed=0, lr=1e-3, metrics={"fid": 12.0})
    make_run(tmp_path / "c", "dcgan", seed=1, metrics={"fid": 12.0})
    assert collect([tmp_path]).duplicates.empty


# -- 2. every row is one configuration or one run, and says which --------------------------------------------
def test_results_rows_name_their_configuration_and_the_best_run_row_is_one_run(tmp_path):
    root = tmp_path / "sweep"
    make_run(root / "a0", "dcgan", lr=2e-4, seed=0, metrics={"fid": 10.0, "precision": 0.5})
    make_run(root / "a1", "dcgan", lr=2e-4, seed=1, metrics={"fid": 12.0, "precision": 0.6})
    make_run(root / "b0", "dcgan", lr=4e-4, seed=0, metrics={"fid": 20.0, "precision": 0.9})  # best precision
    results = results_table(collect([root])).set_index("metric")
    assert results.loc["fid", "configuration"] == "optimizer.lr=0.0002" and results.loc["fid", "configurations"] == 2
    assert results.loc["fid", "values"] == (10.0, 12.0) and results.loc["fid", "seeds"] == (0.0, 1.0)
    # one run: a0 (best FID, the objective) for every metric, never b0's precision in a0's row
    assert results.loc["precision", "best"] == 0.5 and set(results["best_run"]) == {"a0"}
    from analysis.tables import results_wide

    assert results_wide(results.reset_index(), "metric", "best").loc["dcgan", "run"] == "a0"


def test_the_results_caption_says_it_is_one_configurations_seeds(tmp_path):
    from analysis import build_report

    root = small_sweep(tmp_path / "grid")
    md = (build_report([root], tmp_path / "report") / "report.md").read_text()
    assert "seeds and trials together" not in md
    assert "dcgan: optimizer.lr=0.0002 (best of 2 configurations, 2 seeds)" in md
