"""Figures carry information: a search's continuous parameters are binned or drawn on a (log) axis, evaluation
settings are never axes, and an expected-best-of-n curve needs at least three trials."""

from __future__ import annotations

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from analysis import collect
from analysis.collect import swept_parameters
from analysis.compute import expected_best_figure, expected_best_table
from analysis.figures import (BINS, MIN_TRIALS_FOR_EXPECTED_BEST, heatmaps, hyperparameter_axes, is_log_scaled, levels,
                              sensitivity)
from gvc.trial import rundir
from tests.test_analysis import make_run


def search(root, n: int, seed: int = 0):
    """n dcgan trials as an Optuna search leaves them: lr log-uniform, beta1 uniform, two evaluation sizes."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        lr = float(10 ** rng.uniform(-5, -2))
        run = make_run(root / f"{i}_dcgan", "dcgan", lr=lr, optimizer={"beta1": float(rng.uniform(0.3, 0.9))},
                       metrics={"fid": 50 + 10 * abs(np.log10(lr) + 3.5) + rng.normal()}, history=False, samples=False)
        config = OmegaConf.load(run / rundir.HYDRA_CONFIG)
        config.eval = {"n_samples": 1000 if i % 2 else 500}
        OmegaConf.save(config, run / rundir.HYDRA_CONFIG)
    return collect([root])


def test_a_search_is_binned_and_its_evaluation_settings_are_not_axes(tmp_path):
    runs = search(tmp_path / "search", 16)
    assert "eval.n_samples" in swept_parameters(runs, "dcgan")  # it varies, yet is never an axis
    axes = hyperparameter_axes(runs, "dcgan")
    assert "optimizer.lr" in axes and "optimizer.beta1" in axes and not any(a.startswith("eval.") for a in axes)
    lr = runs.table["optimizer.lr"]
    of, labels, keys = levels(lr)
    assert len(labels) <= BINS and set(of) == set(keys) and is_log_scaled(lr.to_numpy(dtype=float))
    assert all("e-" not in label and "e+" not in label for label in labels)  # plain numbers: 0.00001–0.0001
    [heatmap] = heatmaps(runs, tmp_path / "figures")
    assert "binned" in heatmap.caption and "eval" not in heatmap.title
    [panel] = sensitivity(runs, tmp_path / "figures")
    assert panel.path.is_file() and "log axis" in panel.caption


def test_seeds_are_repeats_never_a_figure_axis(tmp_path):
    for seed in (0, 1):
        for lr in (1e-4, 3e-4):
            make_run(tmp_path / "grid" / f"{lr}_{seed}", "dcgan", lr=lr, seed=seed, metrics={"fid": 100 + seed + 1e5 * lr},
                     history=False, samples=False)
    runs = collect([tmp_path / "grid"])
    assert "trainer.seed" in swept_parameters(runs, "dcgan")  # it varies: the runs are repeats of two configurations
    assert hyperparameter_axes(runs, "dcgan") == ["optimizer.lr"]
    [panel] = sensitivity(runs, tmp_path / "figures")
    assert "trainer.seed" not in panel.title + panel.caption


def test_a_grid_keeps_its_values_as_columns():
    values = pd.Series([1e-4, 2e-4, 4e-4, 2e-4])
    of, labels, keys = levels(values)
    assert labels == ["0.0001", "0.0002", "0.0004"] and of.tolist()[1] == of.tolist()[3]


def test_no_expected_best_of_n_from_fewer_than_three_trials_and_runs_without_cpu_seconds_still_count(tmp_path):
    assert expected_best_table(search(tmp_path / "two", MIN_TRIALS_FOR_EXPECTED_BEST - 1)).empty
    three = search(tmp_path / "three", MIN_TRIALS_FOR_EXPECTED_BEST)  # made without CPU-seconds, as an older gvc
    table = expected_best_table(three)
    assert table["n"].tolist() == [1, 2, 3] and table["expected_cpu_s"].isna().all()
    assert table["expected_best"].iloc[-1] == three.table["fid"].min()  # the best of all three trials
    [figure] = expected_best_figure(table, ["dcgan"], tmp_path / "b")
    assert figure.path.is_file() and "fewer than 3" in figure.caption


def test_an_objectives_sweep_draws_the_objective_against_a_free_parameter(tmp_path):
    """loss.name x lr, not loss.gp_weight x loss.d_steps: an objective's own knobs vary only with it."""
    own = {"ns": {}, "hinge": {}, "wgan_gp": {"gp_weight": 10.0, "d_steps": 5}}
    for loss, knobs in own.items():
        for lr in (1e-4, 2e-4):
            for seed in (0, 1):
                run = make_run(tmp_path / "sweep" / f"{loss}_{lr}_{seed}", "dcgan", lr=lr, seed=seed,
                               metrics={"fid": 100 + 50 * (loss == "ns") + 1e5 * lr + seed}, history=False,
                               samples=False)
                config = OmegaConf.load(run / rundir.HYDRA_CONFIG)
                config.loss = {"name": loss, **knobs}
                OmegaConf.save(config, run / rundir.HYDRA_CONFIG)
    runs = collect([tmp_path / "sweep"])
    assert {"loss.name", "loss.gp_weight", "loss.d_steps", "optimizer.lr"} <= set(hyperparameter_axes(runs, "dcgan"))
    [heatmap] = heatmaps(runs, tmp_path / "figures")
    assert heatmap.title == "dcgan: fid over loss.name × optimizer.lr", heatmap.title
    assert "loss.d_steps, loss.gp_weight go with the objective" in heatmap.caption
    assert "averaged over trainer.seed" in heatmap.caption and heatmap.path.is_file()
