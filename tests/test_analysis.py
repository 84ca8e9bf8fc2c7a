"""analysis: tables, figures, image grids and the report, from small real runs and hand-made run directories.

Real runs: one Hydra multirun (linear GAN and linear VAE, two seeds, a few steps each) made once per session.
Hand-made runs: a DCGAN "sweep" with known FIDs (to check every number exactly), a failed run with no
history, runs without checkpoints, a run with nothing but its Hydra config, missing metrics.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from torchvision.utils import save_image

from analysis import build_report, collect, expected_best_of_n
from analysis.__main__ import main as cli_main
from analysis.collect import NoRunsError, default_inputs, find_run_dirs
from analysis.conclusions import paper_claims
from analysis.grids import IMAGE_STAT_COLUMNS, gray_and_speckle, grid_tiles, read_grid, shared_z, slerp
from analysis.report import MARKER, ReportError, choose_out
from analysis.tables import results_table, sensitivity_table
from gvc.models import build_model
from gvc.trial import rundir

pytestmark = pytest.mark.filterwarnings("error")  # the report must be warning-free (seaborn/matplotlib/pandas)

MODEL_CONFIGS = {
    "dcgan": {"name": "dcgan", "latent_dim": 100, "widths": [32, 64, 128, 256], "dropout": 0.25,
              "negative_slope": 0.2, "paper": {"lr": 2e-4, "batch_size": 128}},
    "conv_vae": {"name": "conv_vae", "latent_dim": 16, "widths": [32, 64, 128, 256], "dropout": 0.25,
                 "negative_slope": 0.2, "paper": {"lr": 1e-4, "batch_size": 128}},
}


# -- hand-made runs --------------------------------------------------------------------------------------------
def make_run(path: Path, model: str, *, lr: float = 2e-4, batch_size: int = 128, seed: int = 0,
             status: str | None = "completed", reason: str | None = None, metrics: dict | None = None,
             final: dict | None = None, objective: str = "fid", epochs: int = 4, history: bool = True,
             fid_history: dict[int, float] | None = None, samples: bool = True, checkpoint: bool = False,
             optimizer: dict | None = None, data: dict | None = None, trainer: dict | None = None,
             stopped_by: str | None = None, last_images: int | None = None) -> Path:
    """A run directory as gvc writes it (through gvc.trial.rundir), with made-up numbers. optimizer, data and trainer
    update those config sections; stopped_by (with the images count) is written to summary.json only when given
    (older gvc had neither); last_images makes the last epoch a partial one of that many images."""
    config = {"model": MODEL_CONFIGS[model],
              "optimizer": {"name": "adam", "lr": lr, "beta1": 0.5, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
                            **(optimizer or {})},
              "data": {"name": "mnist", "root": "~/.cache/gvc/data", "batch_size": batch_size, "subset": None,
                       "test_subset": None, "download": False, **(data or {})},
              "trainer": {"epochs": epochs, "max_steps": None, "seed": seed, "device": "cpu", **(trainer or {})}}
    (path / ".hydra").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create(config), path / rundir.HYDRA_CONFIG)
    OmegaConf.save(OmegaConf.create([f"optimizer.lr={lr}", f"data.batch_size={batch_size}", f"trainer.seed={seed}"]),
                   path / rundir.HYDRA_OVERRIDES)
    family = "gan" if model == "dcgan" else "vae"
    losses = ["loss_d", "loss_g", "d_real", "d_fake"] if family == "gan" else ["loss", "bce", "kl", "test_loss"]
    rows = []
    if history:
        for e in range(1, epochs + 1):
            row = {"epoch": e, "step": 10 * e, "elapsed_s": 2.0 * e, "images": 1280}
            if last_images is not None:
                row.update(images=last_images if e == epochs else 1280, partial=int(e == epochs))
            row.update({name: 1.0 + 0.1 * seed + 1.0 / e for name in losses})
            if fid_history and e in fid_history:
                row["fid"] = fid_history[e]
            rows.append(row)
        rundir.write_history(path, rows)
    if samples:
        (path / rundir.SAMPLES).mkdir()
        for e in range(1, epochs + 1):
            save_image(torch.rand(25, 1, 28, 28, generator=torch.Generator().manual_seed(e)),
                       rundir.sample_path(path, e), nrow=5, padding=2, pad_value=1.0)
    if checkpoint:
        net = build_model(config["model"])
        (path / "checkpoints").mkdir()
        torch.save({"format": 1, "model_name": model, "model": net.state_dict(),
                    "fixed_z": shared_z(config["model"]["latent_dim"], 25, seed), "config": config, "epoch": epochs,
                    "step": 10 * epochs, "history": rows}, path / rundir.CHECKPOINT)
    if status is not None:
        final = final if final is not None else ({k: v for k, v in rows[-1].items() if k in losses} if rows else {})
        metrics = metrics or {}
        value = {**final, **metrics}.get(objective, math.inf) if status == "completed" else math.inf
        summary = {"model": model, "family": family, "status": status, "reason": reason, "seed": seed,
                   "overrides": [], "params": {"generator": 10, "discriminator": 20, "total": 30}, "device": "cpu"}
        if status != "running":  # as gvc.trial.task: the rest is written when the run ends
            summary.update({
                "epochs": epochs if history else 0, "steps": 10 * epochs if history else 0, "final": final,
                "metrics": metrics, "objective": {"name": objective, "direction": "minimize", "value": value},
                "train_time_s": 2.0 * epochs, "wall_time_s": 2.5 * epochs, "images_per_s": 640.0,
            })
            if stopped_by is not None:
                summary.update(stopped_by=stopped_by, images=sum(row["images"] for row in rows))
        rundir.write_summary(path, summary)
    return path


# lr, batch size, seed, FID of completed DCGAN runs (one more run diverged); precision for some runs only
DCGAN_SWEEP = [(1e-4, 64, 0, 30.0), (1e-4, 128, 0, 25.0), (2e-4, 64, 0, 20.0), (2e-4, 128, 0, 12.0),
               (4e-4, 64, 0, 18.0), (2e-4, 128, 1, 14.0)]
DCGAN_PRECISION = {0: 0.61, 3: 0.82, 5: 0.78}
CONV_VAE = [(0, 40.0, 100.0, 0.50), (1, 42.0, 101.0, 0.60), (2, 47.0, 99.0, 0.55)]  # seed, fid, test_loss, precision


@pytest.fixture(scope="session")
def fake_sweep(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inputs") / "fake"
    for i, (lr, bs, seed, fid) in enumerate(DCGAN_SWEEP):
        metrics = {"fid": fid, "floor_fid": 1.5, "noise_fid": 400.0}
        if i in DCGAN_PRECISION:
            metrics["precision"] = DCGAN_PRECISION[i]
        make_run(root / f"{i}_dcgan", "dcgan", lr=lr, batch_size=bs, seed=seed, metrics=metrics,
                 fid_history={2: fid * 3, 4: fid}, checkpoint=(fid == 12.0))
    make_run(root / "6_dcgan", "dcgan", lr=4e-4, batch_size=128, status="diverged",
             reason="non-finite loss at epoch 1, step 3", history=False, samples=False)
    for i, (seed, fid, test_loss, precision) in enumerate(CONV_VAE):
        make_run(root / f"vae_{i}", "conv_vae", seed=seed, lr=1e-4, objective="test_loss", samples=(i == 0),
                 metrics={"fid": fid, "precision": precision, "floor_fid": 1.5},
                 final={"loss": 1.0, "bce": 1.0, "kl": 0.1, "test_loss": test_loss})
    make_run(root / "vae_running", "conv_vae", lr=1e-4, status="running", samples=False)
    make_run(root / "vae_no_summary", "conv_vae", lr=1e-4, status=None, history=False, samples=False)
    return root


@pytest.fixture(scope="session")
def real_multirun(tmp_path_factory) -> Path:
    """Four real few-step runs, one Hydra multirun: {linear_gan, linear_vae} x seed {0, 1}, quickly evaluated."""
    base = tmp_path_factory.mktemp("real")
    sweep = base / "multirun"
    cmd = [sys.executable, "-m", "gvc", "-m", "model=linear_gan,linear_vae", "trainer=smoke", "trainer.max_steps=3",
           "data.subset=256", "data.test_subset=128", "trainer.seed=0,1", "eval=fast", "eval.n_samples=200", "eval.nll_images=50", "eval.iw_samples=4",
           f"hydra.sweep.dir={sweep}"]
    done = subprocess.run(cmd, cwd=base, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(find_run_dirs(sweep)) == 4
    return sweep


@pytest.fixture(scope="session")
def real_report(real_multirun) -> Path:
    return build_report([real_multirun])


@pytest.fixture(scope="session")
def mixed_report(real_multirun, fake_sweep) -> Path:
    return build_report([real_multirun, fake_sweep])


# -- helpers ---------------------------------------------------------------------------------------------------
def assert_valid_pngs(paths: list[Path]) -> None:
    assert paths
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG", path
            image.verify()


def referenced_files(report: Path) -> list[str]:
    html = (report / "report.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    md = re.findall(r"\]\(([^)\s]+)\)", (report / "report.md").read_text())
    return [unquote(r) for r in refs + md if not r.startswith(("data:", "#"))]


# -- statistics ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("values", [[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0], [2.0], [5.0, 5.0, 5.0], [0.3, -1.2, 7.7, 2.5]])
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_expected_best_of_n_equals_enumeration(values, direction):
    mean, std = expected_best_of_n(values, direction)
    pick = min if direction == "minimize" else max
    for n in range(1, len(values) + 1):
        bests = [pick(c) for c in itertools.combinations(values, n)]
        assert mean[n - 1] == pytest.approx(np.mean(bests), rel=1e-12, abs=1e-12)
        assert std[n - 1] == pytest.approx(np.std(bests), rel=1e-9, abs=1e-9)
    assert mean[0] == pytest.approx(np.mean(values))  # one trial: the plain mean
    assert mean[-1] == pick(values)  # all trials: the best


def test_expected_best_of_n_ignores_non_finite_and_rejects_bad_direction():
    mean, _ = expected_best_of_n([1.0, math.inf, 3.0, math.nan])
    assert mean.tolist() == [2.0, 1.0]
    with pytest.raises(ValueError):
        expected_best_of_n([1.0], "up")


# -- collection and tables (hand-made runs: every number is known) -------------------------------------------
def test_collect_lists_every_run_with_status_reason_and_flat_config(fake_sweep):
    c = collect([fake_sweep])
    t = c.table.set_index("run")
    assert len(t) == len(DCGAN_SWEEP) + 1 + len(CONV_VAE) + 2
    assert t.loc["6_dcgan", "status"] == "diverged"
    assert "non-finite" in t.loc["6_dcgan", "reason"]
    assert t.loc["vae_running", "status"] == "running" and t.loc["vae_running", "reason"]
    assert t.loc["vae_running", "epochs"] == 4  # from its history: the summary has no count yet
    assert t.loc["vae_no_summary", "status"] == "unknown" and "summary.json" in t.loc["vae_no_summary", "reason"]
    assert t.loc["vae_no_summary", "model"] == "conv_vae"  # from its config alone
    assert t.loc["3_dcgan", "optimizer.lr"] == pytest.approx(2e-4)
    assert t.loc["3_dcgan", "data.batch_size"] == 128
    assert t.loc["3_dcgan", "model.widths"] == "[32, 64, 128, 256]"
    assert math.isnan(t.loc["1_dcgan", "precision"])  # missing metric: a blank, not a crash
    assert t.loc["3_dcgan", "checkpoint"].endswith("last.pt") and t.loc["2_dcgan", "checkpoint"] == ""
    assert set(c.metric_names) == {"fid", "precision"} and c.floor_names == ["floor_fid"]
    assert c.noise_names == ["noise_fid"]
    assert "fid" in c.history_metric_names


def test_results_table_numbers_equal_the_inputs(fake_sweep):
    res = results_table(collect([fake_sweep])).set_index(["model", "metric"])
    # Mean ± std over the seeds of the best configuration (lr 2e-4, batch 128: seeds 0 and 1), never across the
    # sweep's configurations; the best single run over the whole search.
    fids = [fid for lr, bs, _, fid in DCGAN_SWEEP if (lr, bs) == (2e-4, 128)]
    row = res.loc[("dcgan", "fid")]
    assert row["n"] == 2
    assert row["mean"] == pytest.approx(np.mean(fids))
    assert row["std"] == pytest.approx(np.std(fids, ddof=1))
    assert row["best"] == 12.0 and row["best_run"] == "3_dcgan"
    assert row["floor"] == 1.5 and row["noise"] == 400.0
    assert math.isnan(res.loc[("conv_vae", "fid"), "noise"])  # its runs did not measure noise: blank, not 0
    precision = res.loc[("dcgan", "precision")]
    assert precision["n"] == 2 and precision["best"] == 0.82  # runs 3 and 5 are the best configuration's
    assert precision["mean"] == pytest.approx(np.mean([DCGAN_PRECISION[3], DCGAN_PRECISION[5]]))
    vae = res.loc[("conv_vae", "test_loss")]
    assert vae["mean"] == pytest.approx(100.0) and vae["std"] == pytest.approx(1.0) and vae["best"] == 99.0
    # 'best' is one run's, the model's best by its objective (vae_2, test_loss 99), for every metric: never each
    # metric's own best (vae_1's precision 0.60), which would mix runs in one row
    assert res.loc[("conv_vae", "precision"), "best"] == 0.55 and res.loc[("conv_vae", "precision"), "best_run"] == "vae_2"


# -- the verdict: models between uniform noise and real data --------------------------------------------------
# Three DCGAN seeds, two conv VAE seeds (one evaluated without recall) and a diverged DCGAN; every number is known.
VERDICT_GAN = [{"fid": 300.0, "precision": 0.5, "recall": 0.4, "coverage": 0.30},
               {"fid": 320.0, "precision": 0.6, "recall": 0.2, "coverage": 0.20},
               {"fid": 340.0, "precision": 0.7, "recall": 0.3, "coverage": 0.25}]
VERDICT_VAE = [{"fid": 200.0, "precision": 0.8, "recall": 0.9, "coverage": 0.6, "test_nelbo": 110.0},
               {"fid": 260.0, "precision": 0.7, "coverage": 0.5, "test_nelbo": 106.0}]
REFERENCES = {"noise_fid": 1115.0, "noise_precision": 0.0, "noise_recall": 0.0, "noise_coverage": 0.0,
              "floor_fid": 2.8, "floor_precision": 0.9, "floor_recall": 0.95, "floor_coverage": 0.97}


@pytest.fixture(scope="module")
def verdict_runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("verdict")
    for seed, m in enumerate(VERDICT_GAN):
        make_run(root / f"gan_{seed}", "dcgan", seed=seed, metrics={**m, **REFERENCES}, samples=False,
                 stopped_by="max_images")
    make_run(root / "gan_diverged", "dcgan", seed=9, status="diverged", reason="non-finite loss", metrics={"fid": 1.0},
             samples=False)
    for seed, m in enumerate(VERDICT_VAE):
        make_run(root / f"vae_{seed}", "conv_vae", seed=seed, lr=1e-4, objective="test_loss", samples=False,
                 metrics={**m, **REFERENCES}, stopped_by="max_images")
    return root


def test_verdict_numbers_are_the_runs_mean_and_std(verdict_runs):
    from analysis.verdict import verdict_numbers

    numbers = verdict_numbers(collect([verdict_runs]).table).set_index(["row", "metric"])
    for model, runs in (("dcgan", VERDICT_GAN), ("conv_vae", VERDICT_VAE)):
        for key, label in (("fid", "FID"), ("precision", "precision"), ("recall", "recall"), ("coverage", "coverage")):
            values = [r[key] for r in runs if key in r]  # the diverged run is not a result
            row = numbers.loc[(model, label)]
            assert row["n"] == len(values)
            assert row["mean"] == pytest.approx(np.mean(values))
            assert row["std"] == pytest.approx(np.std(values, ddof=1)) if len(values) > 1 else math.isnan(row["std"])
    assert numbers.loc[("conv_vae", "test −ELBO (nats)"), "key"] == "test_nelbo"  # the evaluator's, not test_loss
    assert numbers.loc[("conv_vae", "test −ELBO (nats)"), "mean"] == pytest.approx(108.0)
    assert ("dcgan", "test −ELBO (nats)") not in numbers.index  # GANs have no ELBO
    for label, key in (("FID", "fid"), ("precision", "precision"), ("recall", "recall"), ("coverage", "coverage")):
        assert numbers.loc[("uniform noise", label), "mean"] == REFERENCES[f"noise_{key}"]
        assert numbers.loc[("real data (floor)", label), "mean"] == REFERENCES[f"floor_{key}"]


def test_verdict_table_frames_models_between_noise_and_real_data(verdict_runs):
    from analysis.verdict import no_better_than_noise, verdict_table

    table = collect([verdict_runs]).table
    v = verdict_table(table)
    assert list(v.index) == ["uniform noise", "dcgan", "conv_vae", "real data (floor)"]
    assert list(v.columns) == ["runs", "FID", "precision", "recall", "coverage", "test −ELBO (nats)"]
    assert v.loc["dcgan", "runs"] == "3" and v.loc["conv_vae", "runs"] == "2"
    assert v.loc["dcgan", "FID"] == "320 ± 20"
    assert v.loc["conv_vae", "FID"] == f"230 ± {np.std([200.0, 260.0], ddof=1):.2g}"
    assert v.loc["conv_vae", "recall"] == "0.9 (n=1)"  # one of two runs measured it: no spread, n shown
    assert v.loc["uniform noise", "FID"] == "1115" and v.loc["real data (floor)", "FID"] == "2.8"
    assert v.loc["dcgan", "test −ELBO (nats)"] == "n/a" and v.loc["uniform noise", "test −ELBO (nats)"] == "n/a"
    assert no_better_than_noise(table) == []
    worse = table.copy()
    worse.loc[worse["model"] == "dcgan", "fid"] = 2000.0
    assert no_better_than_noise(worse) == ["dcgan"]


def test_verdict_of_one_subset_of_runs_uses_only_those_runs(verdict_runs):
    """Built from the rows it is given: a per-data-set report passes each data set's rows."""
    from analysis.verdict import verdict_numbers

    table = collect([verdict_runs]).table
    only_gans = verdict_numbers(table[table["model"] == "dcgan"])
    assert set(only_gans["row"]) == {"uniform noise", "dcgan", "real data (floor)"}
    assert "test −ELBO (nats)" not in set(only_gans["metric"])


def test_departures_from_the_paper_come_from_the_configs(tmp_path):
    from analysis.protocol import departure_summary, departures_long, departures_table, epochs_trained_text

    # dcgan: the demo's recipe (beta1 0.5, batch 32, a time budget, bf16); conv_vae: paper settings, 3 epochs
    for seed in (0, 1):
        make_run(tmp_path / f"g{seed}", "dcgan", seed=seed, batch_size=32, metrics={"fid": 1.0}, epochs=2,
                 samples=False, stopped_by="time_budget_s", data={"subset": 10000}, last_images=320 * (seed + 1),
                 trainer={"epochs": 100, "time_budget_s": 600, "precision": "bf16"})
    vae = make_run(tmp_path / "v0", "conv_vae", lr=1e-4, batch_size=128, metrics={"fid": 1.0}, epochs=3,
                   samples=False, optimizer={"beta1": 0.9}, trainer={"precision": "auto"}, stopped_by="epochs")
    summary = rundir.read_summary(vae)  # precision=auto: the path training took is what counts
    rundir.write_summary(vae, {**summary, "numerics": {"precision": "fp32", "channels_last": False, "note": ""}})
    t = collect([tmp_path]).table
    long = departures_long(t).set_index(["model", "setting"])
    assert long.loc[("dcgan", "learning rate"), "departs"] is False  # 2e-4 is DCGAN's paper value
    assert long.loc[("dcgan", "batch size"), ["value", "paper", "departs"]].tolist() == ["32", "128", True]
    assert long.loc[("dcgan", "Adam betas"), ["value", "departs"]].tolist() == ["(0.5, 0.999)", True]
    assert long.loc[("dcgan", "training budget"), "value"] == "epochs=100, time_budget_s=600"
    # one full epoch of 1280 images, then a quarter (seed 0) or a half (seed 1) of one, cut short by the budget
    assert long.loc[("dcgan", "epochs trained"), ["value", "departs"]].tolist() == ["1.25–1.5 (1,600–1,920 images)",
                                                                                    True]
    assert long.loc[("dcgan", "training data"), "value"] == "first 10000 images"
    assert long.loc[("dcgan", "precision"), ["value", "departs"]].tolist() == ["bf16", True]
    for setting in ("learning rate", "batch size", "optimizer", "Adam betas", "weight decay", "training data",
                    "precision"):
        assert long.loc[("conv_vae", setting), "departs"] is False, setting
    assert long.loc[("conv_vae", "training budget"), ["value", "departs"]].tolist() == ["epochs=3", True]
    wide = departures_table(t)
    assert "optimizer" not in wide.index and "learning rate" not in wide.index  # nobody departs there
    assert wide.loc["batch size", "dcgan"] == "32 (paper: 128)"
    assert wide.loc["batch size", "conv_vae"] == "128 (as paper)"
    assert wide.loc["epochs trained", "dcgan"] == ("1.25–1.5 (1,600–1,920 images) (paper: 100); "
                                                   "stopped by time_budget_s (2)")
    assert wide.loc["epochs trained", "conv_vae"] == "3 (3,840 images) (paper: 100); stopped by epochs (1)"
    assert epochs_trained_text(t) == "1.25–3 epochs (1,600–3,840 images)"
    summary = departure_summary(t)
    assert "batch size (dcgan)" in summary and "training budget (all models)" in summary
    assert "Not recorded" not in summary


def test_precision_departure_is_the_numeric_path_taken():
    from analysis.protocol import SETTINGS

    [precision] = [s for s in SETTINGS if s.name == "precision"]
    row = pd.Series({"trainer.precision": "auto", "precision_used": "bf16", "trainer.tf32": np.bool_(False)})
    assert precision.value(row) == "bf16"  # what auto chose, from summary.json
    gpu = pd.Series({"trainer.precision": "fp32", "precision_used": "", "trainer.tf32": np.bool_(True),
                     "device": "cuda:0"})
    assert precision.value(gpu) == "fp32 + TF32 matmuls" and not precision.agrees(precision.value(gpu), "fp32")
    assert precision.value(gpu.drop("device")) == "fp32"  # TF32 does nothing on a CPU
    assert precision.value(pd.Series({"data.batch_size": 64})) is None  # an older gvc: not recorded


def test_a_partial_first_epoch_of_unknown_size_is_fewer_than_one_epoch(tmp_path):
    from analysis.protocol import departures_long, epochs_trained_text

    # a time budget ended the first epoch on the full training set, whose size no run records
    make_run(tmp_path / "g", "dcgan", metrics={"fid": 1.0}, epochs=1, last_images=640, samples=False,
             stopped_by="time_budget_s", trainer={"time_budget_s": 300})
    table = collect([tmp_path]).table
    long = departures_long(table).set_index(["model", "setting"])
    assert long.loc[("dcgan", "epochs trained"), ["value", "departs"]].tolist() == ["<1 (640 images)", True]
    assert epochs_trained_text(table) == "<1 epoch (640 images)"  # what the report's conclusions say


def test_runs_from_an_older_gvc_build_a_report(tmp_path):
    """No noise_<metric>, no stopped_by, no trainer.precision, Adam betas as one list: 'not measured' or
    'not recorded', never an error or a guess."""
    run = make_run(tmp_path / "runs" / "old", "dcgan", metrics={"fid": 30.0, "floor_fid": 2.8}, samples=True)
    cfg = OmegaConf.load(run / rundir.HYDRA_CONFIG)
    del cfg.optimizer["beta1"], cfg.optimizer["beta2"]
    cfg.optimizer.betas = [0.9, 0.999]
    OmegaConf.save(cfg, run / rundir.HYDRA_CONFIG)
    report = build_report([tmp_path / "runs"])
    md = (report / "report.md").read_text()
    verdict = pd.read_csv(report / "tables" / "verdict.csv", index_col=0, keep_default_na=False)
    assert verdict.loc["uniform noise", "FID"] == "not measured" and verdict.loc["real data (floor)", "FID"] == "2.8"
    assert "Uniform noise was not measured by these runs" in md
    assert "| old | dcgan | completed |" in md and "| not recorded |" in md  # which budget ended it: unknown
    long = pd.read_csv(report / "tables" / "departures_long.csv").set_index("setting")
    assert long.loc["precision", "value"] == "not recorded" and long.loc["Adam betas", "departs"] == False  # noqa: E712
    assert "Not recorded by some runs' configs: precision." in md


def test_a_run_trained_in_process_reports_its_settings_from_its_summary(tmp_path, mnist_root):
    """`gvc.trial.task.run` writes no .hydra/: the departures come from summary.json's recorded config, not 'not recorded'."""
    from analysis.protocol import departures_long
    from gvc.trial.task import run
    from tests.conftest import TINY, make_config

    run_dir = tmp_path / "in_process"
    with warnings.catch_warnings():  # training's own imports (SQLAlchemy via optuna) are not the report's
        warnings.simplefilter("ignore")
        run(make_config(["model=linear_vae", *TINY, "optimizer.lr=3e-4", "trainer.threads=1"]), run_dir)
    assert not (run_dir / rundir.HYDRA_CONFIG).exists()
    table = collect([run_dir]).table
    assert table.loc[0, "optimizer.lr"] == 3e-4
    long = departures_long(table).set_index("setting")
    assert long.loc["learning rate", ["value", "departs"]].tolist() == ["0.0003", True]
    assert "not recorded" not in set(long["value"])


def test_report_leads_with_samples_and_verdict_and_tables_scroll(verdict_runs, tmp_path):
    import html as html_lib

    make_run(tmp_path / "pictured" / "g", "dcgan", seed=7, metrics={"fid": 310.0, **REFERENCES})  # saved sample grids
    report = build_report([verdict_runs, tmp_path / "pictured"], tmp_path / "report")
    page = (report / "report.html").read_text()
    body = page[page.index("<body>"):]
    order = [body.index(marker) for marker in ('<h1 ', "These runs depart from the paper", 'id="at-a-glance"',
                                                '<figure id="samples-final"', "<table>",
                                                'id="how-these-runs-depart-from-the-paper"', 'id="runs"',
                                                'id="results"')]
    assert order == sorted(order)
    first_table = body[body.index("<table>"):body.index("</table>")]
    assert first_table.index("uniform noise") < first_table.index("dcgan") < first_table.index("real data (floor)")
    assert 'class="ref"' in first_table
    # every table sits in a box that scrolls sideways
    assert ".scroll { overflow-x: auto; }" in page
    assert body.count("<table>") == body.count('<div class="scroll"><table>') > 3
    md = (report / "report.md").read_text()
    lead = [md.index(marker) for marker in ("## At a glance", "![Final samples", "| uniform noise |", "## Runs")]
    assert lead == sorted(lead)
    assert md.count("![Final samples") == 1 and page.count('id="samples-final"') == 1  # shown once
    assert html_lib.escape("dcgan: ") in page  # the samples' sources name the runs per model


@pytest.mark.slow
def test_report_fits_the_page_in_a_real_browser(verdict_runs, tmp_path):
    """Headless Chromium lays the report out: the page itself never scrolls sideways (wide tables scroll in
    their own box). Skipped where Chromium is not installed (`apt-get install chromium`)."""
    import shutil
    import tempfile

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install --no-install-recommends chromium)")
    report = build_report([verdict_runs], tmp_path / "report")
    probe = tmp_path / "probe.html"  # the report plus a script that writes the layout's widths into the DOM
    script = ("<script>document.body.setAttribute('data-widths', [document.documentElement.scrollWidth, "
              "window.innerWidth, Math.max(...[...document.querySelectorAll('.scroll')].map(e => e.scrollWidth))]"
              ".join(','));</script></body>")
    probe.write_text((report / "report.html").read_text().replace("</body>", script))
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--no-first-run",
                               f"--user-data-dir={profile}", "--window-size=800,1200", "--dump-dom", probe.as_uri()],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    page, window, widest_table = (int(v) for v in re.search(r'data-widths="([\d,]+)"', done.stdout).group(1).split(","))
    assert widest_table > window  # the departures table is wider than an 800-pixel window ...
    assert page <= window  # ... yet the page does not scroll sideways: the table's box does


def test_sensitivity_table_per_swept_parameter(fake_sweep):
    s = sensitivity_table(collect([fake_sweep]))
    dcgan = s[s["model"] == "dcgan"]
    assert set(dcgan["parameter"]) == {"optimizer.lr", "data.batch_size"}  # seeds are repeats, not a knob
    lr = dcgan[dcgan["parameter"] == "optimizer.lr"].set_index("value")
    assert list(lr.index) == ["0.0001", "0.0002", "0.0004"]  # numeric order
    assert lr.loc["0.0002", "mean"] == pytest.approx(np.mean([20.0, 12.0, 14.0]))
    assert lr.loc["0.0002", "best"] == 12.0
    assert lr.loc["0.0004", "runs"] == 2 and lr.loc["0.0004", "completed"] == 1
    vae = s[s["model"] == "conv_vae"]
    assert vae.empty  # lr is the same in every conv_vae run, and only the seed varies


def test_unresolvable_interpolation_keeps_the_rest_of_the_config(tmp_path):
    run = make_run(tmp_path / "r", "dcgan", metrics={"fid": 3.0})
    cfg = OmegaConf.load(run / rundir.HYDRA_CONFIG)
    cfg.data.root = "${gvc_unknown_resolver:}/data"
    cfg.optimizer.lr = "${model.paper.lr}"
    OmegaConf.save(cfg, run / rundir.HYDRA_CONFIG)
    row = collect([run]).table.iloc[0]
    assert row["optimizer.lr"] == pytest.approx(2e-4)
    assert row["data.root"] == "${gvc_unknown_resolver:}/data"


def test_runs_evaluated_with_different_settings_are_flagged(tmp_path):
    from analysis.report import evaluation_setting_notes

    for name, n in (("a", 1000), ("b", 10000)):
        run = make_run(tmp_path / name, "dcgan", metrics={"fid": 3.0})
        cfg = OmegaConf.load(run / rundir.HYDRA_CONFIG)
        cfg.eval = {"n_samples": n, "pr_k": 3}
        OmegaConf.save(cfg, run / rundir.HYDRA_CONFIG)
    [note] = evaluation_setting_notes(collect([tmp_path]))
    assert "eval.n_samples: 1000, 10000" in note


# -- the report from real runs -----------------------------------------------------------------------------------
@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_report_from_a_real_multirun(real_multirun, real_report):
    assert real_report == real_multirun / "report"
    for name in ("report.md", "report.html", "tables/runs.csv", "tables/results.csv", "tables/results.md",
                 "tables/sensitivity.csv", MARKER):
        assert (real_report / name).is_file(), name
    figures = {p.name for p in (real_report / "figures").glob("*.png")}
    assert {"training_curves.png", "objective_by_model.png", "quality_vs_time.png"} <= figures
    assert not any(name.startswith("sensitivity_") for name in figures)  # only seeds vary: repeats, no knob to draw
    assert "expected_best_vs_compute.png" not in figures  # two trials per model: no curve to read
    images = {p.name for p in (real_report / "images").glob("*.png")}
    assert {"samples_final.png", "samples_over_epochs_linear_gan.png", "samples_over_epochs_linear_vae.png",
            "reconstructions.png", "interpolations.png"} <= images
    assert_valid_pngs(list(real_report.rglob("*.png")))
    runs = pd.read_csv(real_report / "tables" / "runs.csv")
    assert sorted(runs["model"]) == ["linear_gan", "linear_gan", "linear_vae", "linear_vae"]
    assert set(runs["status"]) == {"completed"}
    # the table's final losses and metrics are the runs' own numbers
    summaries = {}
    for _, r in runs.iterrows():
        summary = summaries[r["run"]] = json.loads((Path(r["run_dir"]) / rundir.SUMMARY).read_text())
        for name, value in {**summary["final"], **summary["metrics"]}.items():
            assert r[name] == pytest.approx(float(value), nan_ok=True)
    # per model: mean, sample std, best and floor of the evaluated FID, from the summaries
    results = pd.read_csv(real_report / "tables" / "results.csv").set_index(["model", "metric"])
    for model in ("linear_gan", "linear_vae"):
        fids = [s["metrics"]["fid"] for s in summaries.values() if s["model"] == model]
        floors = [s["metrics"]["floor_fid"] for s in summaries.values() if s["model"] == model]
        row = results.loc[(model, "fid")]
        assert row["n"] == 2 and row["best"] == pytest.approx(min(fids))
        assert row["mean"] == pytest.approx(np.mean(fids)) and row["std"] == pytest.approx(np.std(fids, ddof=1))
        assert row["floor"] == pytest.approx(np.mean(floors))
    assert "real data (floor)" in (real_report / "tables" / "results_metrics.md").read_text()
    # the verdict: each model's FID between noise and floor, as the summaries say (noise where gvc measured it)
    verdict = pd.read_csv(real_report / "tables" / "verdict_numbers.csv").set_index(["row", "metric"])
    every = list(summaries.values())
    for model in ("linear_gan", "linear_vae"):
        assert verdict.loc[(model, "FID"), "mean"] == pytest.approx(
            np.mean([s["metrics"]["fid"] for s in every if s["model"] == model]))
    assert verdict.loc[("real data (floor)", "FID"), "mean"] == pytest.approx(
        np.mean([s["metrics"]["floor_fid"] for s in every]))
    noise = [s["metrics"]["noise_fid"] for s in every if "noise_fid" in s["metrics"]]
    assert verdict.loc[("uniform noise", "FID"), "n"] == len(noise)
    if noise:
        assert verdict.loc[("uniform noise", "FID"), "mean"] == pytest.approx(np.mean(noise))
    # how these runs depart from the paper: read from their configs (trainer=smoke, max_steps=3, a 256-image slice)
    departures = pd.read_csv(real_report / "tables" / "departures_long.csv").set_index(["model", "setting"])
    assert departures.loc[("linear_gan", "training data"), "value"] == "first 256 images"
    assert departures.loc[("linear_vae", "training budget"), "value"].startswith("epochs=1, max_steps=3")
    assert departures.loc[("linear_gan", "learning rate"), "departs"] == False  # noqa: E712 - the paper's lr


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_real_report_html_references_only_existing_files(real_report):
    refs = referenced_files(real_report)
    assert "tables/runs.csv" in refs
    for ref in refs:
        assert (real_report / ref).is_file(), ref
    html = (real_report / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(list(real_report.glob("*/*.png")))


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_shared_z_is_the_training_fixed_z_of_seed_runs(real_multirun):
    for run in find_run_dirs(real_multirun):
        ckpt = torch.load(run / rundir.CHECKPOINT, weights_only=True, map_location="cpu")
        seed = ckpt["config"]["trainer"]["seed"]
        assert torch.equal(ckpt["fixed_z"], shared_z(ckpt["fixed_z"].shape[1], 25, seed))


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_regenerated_samples_match_the_saved_grid(real_multirun):
    from analysis.grids import Models, generate
    from analysis.collect import read_run

    run = read_run(find_run_dirs(real_multirun)[0], "r")
    net = Models().get(run)
    epoch, grid = max(run.sample_grids.items())
    saved = grid_tiles(read_grid(grid), (28, 28))
    regenerated = generate(net, shared_z(net.latent_dim, 25, int(run.summary["seed"])))
    assert np.abs(saved - regenerated).max() <= 1 / 255 + 1e-6  # PNG quantisation only


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_cli_rebuild_from_the_same_inputs_refreshes_in_place(real_multirun, real_report, capsys):
    (real_report / "stale.txt").write_text("from an older build")
    assert cli_main([str(real_multirun), "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(real_report / "report.html")
    assert not (real_report / "stale.txt").exists() and (real_report / "report.html").is_file()


# -- the report from mixed and partial inputs --------------------------------------------------------------------
@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_mixed_report_combines_sweeps_and_lists_failures(real_multirun, fake_sweep, mixed_report):
    assert mixed_report == real_multirun.parent.parent / "report"  # the inputs' common parent
    runs = pd.read_csv(mixed_report / "tables" / "runs.csv")
    assert set(runs["model"]) == {"linear_gan", "linear_vae", "dcgan", "conv_vae"}
    problems = pd.read_csv(mixed_report / "tables" / "problems.csv")
    assert set(problems["status"]) == {"diverged", "running", "unknown"}
    md = (mixed_report / "report.md").read_text()
    assert "non-finite loss at epoch 1, step 3" in md
    assert (mixed_report / "figures" / "heatmap_dcgan.png").is_file()
    assert (mixed_report / "figures" / "metrics_vs_epoch.png").is_file()
    assert_valid_pngs(list(mixed_report.rglob("*.png")))
    for ref in referenced_files(mixed_report):
        assert (mixed_report / ref).is_file(), ref
    results = pd.read_csv(mixed_report / "tables" / "results.csv").set_index(["model", "metric"])
    best_config = [f for lr, bs, _, f in DCGAN_SWEEP if (lr, bs) == (2e-4, 128)]  # its seeds, not the sweep's
    assert results.loc[("dcgan", "fid"), "std"] == pytest.approx(np.std(best_config, ddof=1))
    curve = pd.read_csv(mixed_report / "tables" / "expected_best_vs_compute.csv")
    dcgan = curve[curve["model"] == "dcgan"].sort_values("n")
    fids = [f for *_, f in DCGAN_SWEEP]
    brute = [np.mean([min(c) for c in itertools.combinations(fids, n)]) for n in range(1, 7)]
    assert dcgan["expected_best"].to_numpy() == pytest.approx(brute)


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_mixed_report_states_each_paper_claim(mixed_report):
    md = (mixed_report / "report.md").read_text()
    for claim in ("DCGAN produces the sharpest images.", "The linear models are noisy.", "Convolution helps.",
                  "VAEs are blurrier than GANs."):
        assert f"### {claim}" in md
    conclusions = pd.read_csv(mixed_report / "tables" / "conclusions.csv")
    conv = conclusions[conclusions["claim"] == "Convolution helps."].set_index("metric")
    # the real linear VAE has an importance-weighted NLL, the hand-made conv VAE none: not measured, not guessed
    nll = conv.loc["test NLL, importance-weighted (nats)"]
    assert (nll["comparison"], nll["outcome"]) == ("conv_vae vs linear_vae", "not measured")
    assert "conv_vae: not measured for it" in nll["values"]
    # both have FIDs: an outcome, with both numbers shown (smoke-trained models at the noise level: not assessable)
    fid = conv.loc["FID (lower is better)"]
    outcomes = {o.split(" (")[0] for o in fid["outcome"]}
    assert outcomes <= {"supports", "contradicts", "not separable", "not assessable", "too few seeds to tell",
                        "not comparable: evaluated at different N"} and len(fid) == 2


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_final_samples_fall_back_to_saved_grids(mixed_report):
    md = (mixed_report / "report.md").read_text()
    # conv_vae's best run (vae_2) has neither checkpoint nor samples: the best one with samples stands in
    assert re.search(r"conv_vae: \S*vae_0, saved grid of epoch 4 \(no checkpoint\)", md)
    assert re.search(r"dcgan: \S*3_dcgan, epoch 4, z: seed 0, d=100", md)


def test_a_corrupt_checkpoint_falls_back_to_the_saved_grid(tmp_path):
    from analysis.grids import Models, final_samples, representatives

    run = make_run(tmp_path / "r", "dcgan", metrics={"fid": 3.0}, epochs=2)
    (run / "checkpoints").mkdir()
    (run / rundir.CHECKPOINT).write_bytes(b"not a checkpoint")
    c = collect([run])
    notes: list[str] = []
    [artifact] = final_samples(c, representatives(c), Models(), tmp_path / "out", 0, notes)
    assert "saved grid of epoch 2 (checkpoint unreadable" in artifact.caption
    assert_valid_pngs([artifact.path])


def test_claims_follow_the_numbers():
    from tests.test_assessable import seed_values

    def results(rows):
        return pd.DataFrame([{"model": m, "metric": k, "kind": "metric", "direction": "", "n": n, "mean": mean,
                              "std": std, "values": seed_values(mean, 0.0 if math.isnan(std) else std, n),
                              "best": mean, "best_run": "", "floor": math.nan}
                             for m, k, n, mean, std in rows],
                            columns=["model", "metric", "kind", "direction", "n", "mean", "std", "values", "best",
                                     "best_run", "floor"])

    empty = pd.DataFrame(columns=IMAGE_STAT_COLUMNS)
    clear = results([("dcgan", "fid", 4, 10.0, 1.0), ("linear_gan", "fid", 4, 50.0, 1.0),
                     ("conv_vae", "fid", 4, 30.0, 1.0), ("linear_vae", "fid", 4, 60.0, 1.0)])
    claims = {c.claim: c for c in paper_claims(clear, empty, {})}
    assert claims["Convolution helps."].verdict == "supported — on 4 vs 4 seeds"  # every claim states its seeds
    assert claims["DCGAN produces the sharpest images."].verdict == "supported — on 4 vs 4 seeds"
    assert claims["VAEs are blurrier than GANs."].verdict.startswith("supported")  # by FID: every GAN below its VAE
    assert claims["The linear models are noisy."].verdict == "not measured"
    noisy = results([("dcgan", "fid", 4, 50.0, 5.0), ("linear_gan", "fid", 4, 51.0, 5.0)])
    assert paper_claims(noisy, empty, {})[2].verdict.startswith("not separable")
    reversed_ = results([("dcgan", "fid", 1, 50.0, math.nan), ("linear_gan", "fid", 1, 10.0, math.nan)])
    verdict = paper_claims(reversed_, empty, {})[2].verdict
    assert verdict.startswith("too few seeds to tell")  # one run a side: no direction is evidence
    # image proxies only: a verdict, but one that says what it rests on; real data is a reference, not a model
    # one row per run: four seeds per model (their spread is the proxies' uncertainty), one real-data row
    stats = pd.DataFrame([{"model": m, "run": f"{m}_{k}", "seed": k, "source": "", "n": 100,
                           "gray_fraction": g + 0.01 * k, "gray_fraction_se": 0.01, "gray_fraction_n": 100,
                           "speckles": sp + 0.1 * k, "speckles_se": 0.1, "speckles_n": 100}
                          for m, g, sp in (("dcgan", 0.2, 0.5), ("linear_gan", 0.5, 4.0), ("real data", 0.3, 0.0))
                          for k in range(1 if m == "real data" else 4)],
                         columns=IMAGE_STAT_COLUMNS)
    claims = {c.claim: c for c in paper_claims(results([]), stats, {})}
    sharpest = claims["DCGAN produces the sharpest images."]
    assert sharpest.verdict == "supported — by the image proxies alone (no evaluated metric) — on 4 vs 4 seeds"
    assert [e.comparison for e in sharpest.evidence] == ["dcgan < linear_gan"]
    assert "real data 0.3" in sharpest.evidence[0].values
    assert claims["The linear models are noisy."].verdict.startswith("supported")


def test_image_statistics_proxies():
    crisp = np.zeros((1, 28, 28))
    crisp[0, 10:18, 12:16] = 1.0
    blurry = crisp * 0.5
    speckled = crisp.copy()
    speckled[0, 2, 2] = speckled[0, 25, 25] = 1.0
    gray, speckle = gray_and_speckle(np.concatenate([crisp, blurry, speckled]))
    assert gray.tolist() == [0.0, 1.0, 0.0]
    assert speckle.tolist() == [0.0, 0.0, 2.0]
    gray, _ = gray_and_speckle(np.zeros((1, 28, 28)))
    assert math.isnan(gray[0])  # no ink: no blur to measure


def test_slerp_keeps_the_ends_and_the_norm_of_equal_norm_ends():
    z0, z1 = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    path = slerp(z0, z1, torch.linspace(0, 1, 5))
    assert torch.allclose(path[0], z0) and torch.allclose(path[-1], z1, atol=1e-6)
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 3.0))


# -- inputs, output directory and the command line --------------------------------------------------------------
def test_no_runs_is_a_clear_error_and_nonzero_exit(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main([str(empty)]) == 2
    assert "no run directories" in capsys.readouterr().err
    assert cli_main([str(tmp_path / "missing")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    with pytest.raises(NoRunsError):
        default_inputs(tmp_path)


def test_default_inputs_latest_multirun_else_newest_per_model(tmp_path):
    for stamp in ("2026-01-01/10-00-00", "2026-01-02/09-00-00"):
        make_run(tmp_path / "multirun" / stamp / "0_dcgan", "dcgan", history=False, samples=False)
    assert default_inputs(tmp_path) == [tmp_path / "multirun" / "2026-01-02" / "09-00-00"]
    other = tmp_path / "other"
    for model, stamp in (("dcgan", "2026-01-01_10"), ("dcgan", "2026-01-03_10"), ("conv_vae", "2026-01-02_10")):
        make_run(other / "outputs" / model / stamp, model, history=False, samples=False)
    assert default_inputs(other) == [other / "outputs" / "conv_vae" / "2026-01-02_10",
                                     other / "outputs" / "dcgan" / "2026-01-03_10"]


def test_existing_output_is_never_silently_overwritten(tmp_path):
    inputs = [tmp_path / "runs"]
    out = tmp_path / "report"
    assert choose_out(out, inputs, force=False) == out  # absent: used
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    fresh = choose_out(out, inputs, force=False)
    assert fresh != out and fresh.name.startswith("report-")  # someone's files: a fresh directory beside
    with pytest.raises(ReportError):
        choose_out(out, inputs, force=True)  # and --force never deletes what is not a gvc report
    (out / "notes.txt").unlink()
    (out / MARKER).write_text(json.dumps({"inputs": [str(tmp_path / "elsewhere")]}))
    (out / "report.md").write_text("old")
    assert choose_out(out, inputs, force=False) != out  # a different report: kept
    assert choose_out(out, inputs, force=True) == out  # unless forced
    (out / MARKER).write_text(json.dumps({"inputs": [str(p) for p in inputs]}))
    assert choose_out(out, inputs, force=False) == out  # the same report: refreshed


def test_a_partial_first_epoch_is_its_share_of_the_recorded_epoch_size(tmp_path):
    from analysis.collect import epochs_trained

    run_dir = make_run(tmp_path / "g", "dcgan", metrics={"fid": 1.0}, epochs=1, last_images=640, samples=False,
                       stopped_by="time_budget_s", trainer={"time_budget_s": 300})
    rundir.write_summary(run_dir, {**rundir.read_summary(run_dir), "epoch_images": 2560})
    assert epochs_trained(collect([tmp_path]).runs[0]) == 0.25


def test_a_bare_analysis_skips_folders_of_refused_runs(tmp_path):
    from analysis.__main__ import finished_inputs

    outputs = tmp_path / "outputs" / "dcgan"
    make_run(outputs / "2026-01-01_10", "dcgan", history=False, samples=False)
    (outputs / "2026-01-01_11" / ".hydra").mkdir(parents=True)  # a refused run's folder from an older gvc
    (outputs / "2026-01-01_11" / ".hydra" / "config.yaml").write_text("model: {name: dcgan}\n")
    assert finished_inputs(tmp_path) == [outputs / "2026-01-01_10"]
    (tmp_path / "multirun" / "2026-01-02" / "10-00-00" / "0_dcgan" / ".hydra").mkdir(parents=True)
    (tmp_path / "multirun" / "2026-01-02" / "10-00-00" / "0_dcgan" / ".hydra" / "config.yaml").write_text("{}\n")
    assert finished_inputs(tmp_path) == [outputs / "2026-01-01_10"]


def test_a_bare_analysis_reports_the_newest_sweep_at_any_depth_by_its_recorded_time(tmp_path, caplog):
    from analysis.__main__ import finished_inputs

    def sweep(folder, started):
        for n, model in enumerate(("dcgan", "conv_vae")):
            run_dir = make_run(folder / f"{n}_{model}", model, history=False, samples=False)
            rundir.write_summary(run_dir, {**rundir.read_summary(run_dir), "started_at": started})
        (folder / "multirun.yaml").write_text("{}\n")

    sweep(tmp_path / "multirun" / "2026-01-05" / "10-00-00", "2026-01-05T10:00:00")  # a Hydra-dated sweep
    sweep(tmp_path / "multirun" / "demo_2026-01-06_09-00-00", "2026-01-06T09:00:00")  # make demo's, one level deep
    sweep(tmp_path / "multirun" / "zzz", "2026-01-04T09:00:00")  # older, though its name sorts last
    with caplog.at_level(logging.INFO, logger="analysis"):
        assert finished_inputs(tmp_path) == [tmp_path / "multirun" / "demo_2026-01-06_09-00-00"]
    assert "newest sweep" in caplog.text and "demo_2026-01-06_09-00-00 (2 runs" in caplog.text


def test_a_report_is_never_written_inside_a_run_directory(tmp_path):
    from analysis.report import default_out

    run_dir = make_run(tmp_path / "outputs" / "dcgan" / "RUN", "dcgan", history=False, samples=False)
    assert default_out([run_dir]) == tmp_path / "outputs" / "dcgan" / "report_RUN"
    assert default_out([tmp_path / "outputs"]) == tmp_path / "outputs" / "report"
