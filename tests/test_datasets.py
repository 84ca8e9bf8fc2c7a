"""Runs across data sets: a Fashion-MNIST run measured by its own evaluator, and `+sweeps=datasets`."""

from __future__ import annotations

import csv

import pytest

from gvc import rundir
from gvc.evaluation.classifier import evaluator_checksum
from tests.conftest import TINY, make_config, run_gvc


def test_a_fashion_run_is_measured_by_the_fashion_evaluator(tmp_path, fashion_root):
    from gvc.task import run

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
