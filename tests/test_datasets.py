"""Runs across data sets: a Fashion-MNIST run measured by its own evaluator, and `+sweeps=datasets`."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from gvc.evaluation.classifier import evaluator_checksum
from gvc.trial import rundir
from tests.conftest import TINY, make_config, run_gvc


def test_a_fashion_run_is_measured_by_the_fashion_evaluator(tmp_path, fashion_root):
    from gvc.trial.task import run

    cfg = make_config(["model=linear_gan", "data=fashion_mnist", *TINY, "trainer.threads=1", "eval=fast",
                       "eval.enabled=true", "eval.n_samples=200"])
    run(cfg, tmp_path / "run")
    summary = rundir.read_summary(tmp_path / "run")
    assert summary["status"] == "completed" and summary["data"] == "fashion_mnist"
    assert summary["evaluator"]["data"] == "fashion_mnist"
    assert summary["evaluator"]["sha256"] == evaluator_checksum("fashion_mnist") != evaluator_checksum("mnist")
    assert summary["metrics"]["floor_fid"] > 0 and summary["metrics"]["fid"] > summary["metrics"]["floor_fid"]


@pytest.mark.slow
def test_datasets_sweep_runs_the_four_models_on_both_data_sets(tmp_path, mnist_root, fashion_root):
    out = tmp_path / "sweep"
    result = run_gvc("-m", "+sweeps=datasets", "trainer=smoke", "trainer.max_steps=1", "trainer.threads=1",
                     "trainer.progress=false", "data.subset=64", "data.test_subset=64", "eval.enabled=false",
                     f"hydra.sweep.dir={out}", timeout=900)
    assert result.returncode == 0, result.stderr
    with open(out / rundir.INDEX, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["completed"] * 8
    pairs = {(rundir.read_summary(out / r["run_dir"])["data"], rundir.read_summary(out / r["run_dir"])["model"])
             for r in rows}
    assert pairs == {(d, m) for d in ("mnist", "fashion_mnist")
                     for m in ("linear_gan", "dcgan", "linear_vae", "conv_vae")}


def on_data(run_dir, name: str):
    """A made-up run (tests/test_analysis.make_run) moved to data set `name`: its config and summary say so."""
    from omegaconf import OmegaConf

    config = OmegaConf.load(run_dir / rundir.HYDRA_CONFIG)
    config.data.name = name
    OmegaConf.save(config, run_dir / rundir.HYDRA_CONFIG)
    summary = rundir.read_summary(run_dir)
    summary.update(data=name, evaluator={"data": name, "sha256": name[0] * 64, "test_accuracy": 0.95})
    rundir.write_summary(run_dir, summary)
    return run_dir


def test_the_report_groups_by_data_set_and_sets_claims_side_by_side(tmp_path):
    from analysis.report import build_report
    from tests.test_analysis import make_run

    root = tmp_path / "runs"
    for data, fids in (("mnist", {"dcgan": 10.0, "conv_vae": 40.0}), ("fashion_mnist", {"dcgan": 80.0, "conv_vae": 30.0})):
        for model, fid in fids.items():
            for seed in range(4):  # four seeds a side: enough for the claims' test to reach a verdict
                metrics = {"fid": fid + seed, "precision": 0.5, "floor_fid": 1.0}
                on_data(make_run(root / f"{data}_{model}_{seed}", model, seed=seed, metrics=metrics), data)
    out = build_report([root], tmp_path / "report")
    overview = (out / "report.md").read_text()
    assert "never compared across data sets" in overview
    assert (out / "mnist" / "report.md").is_file() and (out / "fashion_mnist" / "report.md").is_file()
    # each data set's own report holds only its runs: FID 80 never appears beside MNIST's numbers
    mnist_runs = pd.read_csv(out / "mnist" / "tables" / "runs.csv")
    assert set(mnist_runs["run"].str.split("_").str[0]) == {"mnist"} and 80.0 not in set(mnist_runs["fid"])
    assert "Fashion-MNIST classifier" in (out / "fashion_mnist" / "report.md").read_text()
    claims = pd.read_csv(out / "tables" / "claims_by_dataset.csv").set_index("claim")
    assert list(claims.columns) == ["MNIST", "Fashion-MNIST"]
    convolution = claims.loc["Convolution helps."]  # only dcgan vs conv_vae pairs exist: FID decides "sharpest"
    sharpest = claims.loc["DCGAN produces the sharpest images."]
    assert sharpest["MNIST"] != sharpest["Fashion-MNIST"]  # DCGAN best on MNIST (10 vs 40), worst on Fashion
    assert len(convolution) == 2


def test_a_single_data_set_report_names_its_evaluator(tmp_path):
    from analysis.report import build_report
    from tests.test_analysis import make_run

    on_data(make_run(tmp_path / "runs" / "a", "dcgan", metrics={"fid": 3.0}), "fashion_mnist")
    out = build_report([tmp_path / "runs"], tmp_path / "report")
    text = (out / "report.md").read_text()
    assert "Data set: Fashion-MNIST" in text and "not comparable with numbers measured on another data set" in text
    assert not (out / "fashion_mnist").exists()


def test_resuming_a_run_on_another_data_set_is_refused(tmp_path, mnist_root, fashion_root):
    """MNIST and Fashion-MNIST share a shape, so the weights would load: the data set must be checked."""
    from gvc.config import ConfigError
    from gvc.trial.task import run

    run(make_config(["model=linear_gan", *TINY, "trainer.threads=1"]), tmp_path)
    summary = rundir.read_summary(tmp_path)
    rundir.write_summary(tmp_path, {**summary, "status": "running", "pid": None})  # as if killed after its checkpoint
    before = (tmp_path / rundir.HISTORY).read_bytes()
    with pytest.raises(ConfigError, match="data.name: 'mnist' recorded, 'fashion_mnist' now"):
        run(make_config(["model=linear_gan", "data=fashion_mnist", *TINY, "trainer.threads=1", "trainer.resume=true",
                         "trainer.max_steps=10"]), tmp_path)
    assert (tmp_path / rundir.HISTORY).read_bytes() == before
