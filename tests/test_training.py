"""A few real-MNIST steps of every model write the whole run directory; same seed, same history."""

import json

import pytest
from PIL import Image

from gvc.trial import rundir
from gvc.trial.task import run
from tests.conftest import without_timing, MODEL_NAMES, TINY, make_config, run_gvc

GAN_COLUMNS = ["loss_d", "loss_g", "d_real", "d_fake"]
VAE_COLUMNS = ["loss", "bce", "kl", "test_loss", "test_bce", "test_kl"]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_few_steps_write_the_whole_run_directory(name, tmp_path, mnist_root):
    cfg = make_config([f"model={name}", *TINY, "trainer.max_steps=4", "trainer.epochs=2", "data.subset=256"])
    # 256 images at the paper batch size: 2-4 batches per epoch, so max_steps=4 ends in epoch 1 or 2.
    value = run(cfg, tmp_path)
    summary = rundir.read_summary(tmp_path)
    history = rundir.read_history(tmp_path)
    assert summary["status"] == "completed"
    assert summary["model"] == name and summary["steps"] == 4
    assert summary["params"]["total"] > 0 and summary["device"] == "cpu" and summary["seed"] == 0
    assert summary["objective"]["value"] == value
    assert summary["images_per_s"] > 0 and "torch" in summary["versions"]
    columns = GAN_COLUMNS if summary["family"] == "gan" else VAE_COLUMNS
    assert set(["epoch", "step", "elapsed_s", "images", *columns]) <= set(history[-1])
    assert summary["final"] == {c: history[-1][c] for c in columns}
    grids = rundir.sample_grids(tmp_path)
    assert max(grids) == history[-1]["epoch"]
    assert Image.open(grids[max(grids)]).size == (5 * 28 + 6 * 2,) * 2  # a 5x5 grid with 2-pixel padding
    assert Image.open(tmp_path / rundir.LOSS_PLOT).format == "PNG"
    assert (tmp_path / rundir.CHECKPOINT).is_file()


def test_gan_losses_are_epoch_means_and_probabilities(tmp_path, mnist_root):
    run(make_config(["model=linear_gan", *TINY, "trainer.max_steps=null", "trainer.epochs=1"]), tmp_path)
    row = rundir.read_history(tmp_path)[0]
    assert row["images"] == 256 and row["step"] == 2  # 256 images, batch 128: two steps, both counted
    assert 0 < row["d_real"] < 1 and 0 < row["d_fake"] < 1
    assert row["loss_d"] > 0 and row["loss_g"] > 0


def test_vae_test_elbo_is_bce_plus_kl(tmp_path, mnist_root):
    run(make_config(["model=linear_vae", *TINY]), tmp_path)
    row = rundir.read_history(tmp_path)[0]
    assert row["test_loss"] == pytest.approx(row["test_bce"] + row["test_kl"], rel=1e-6)
    assert 100 < row["test_loss"] < 600  # nats per image: an untrained Bernoulli decoder is ~543


@pytest.mark.parametrize("name", ["linear_gan", pytest.param("conv_vae", marks=pytest.mark.slow)])  # conv: ~20 s
def test_same_seed_same_history(name, tmp_path, mnist_root):
    overrides = [f"model={name}", *TINY, "trainer.max_steps=4", "trainer.epochs=2", "data.subset=256"]
    run(make_config(overrides), tmp_path / "a")
    run(make_config(overrides), tmp_path / "b")
    run(make_config([*overrides, "trainer.seed=1"]), tmp_path / "c")
    a, b, c = (without_timing(rundir.read_history(tmp_path / x)) for x in "abc")
    assert a == b
    assert a != c


def test_command_line_run_writes_hydra_config(tmp_path, mnist_root):
    out = tmp_path / "run"
    result = run_gvc("model=linear_vae", *TINY, f"hydra.run.dir={out}")
    assert result.returncode == 0, result.stderr
    assert (out / rundir.HYDRA_CONFIG).is_file() and (out / rundir.HYDRA_OVERRIDES).is_file()
    summary = json.loads((out / rundir.SUMMARY).read_text())
    assert summary["status"] == "completed" and "model=linear_vae" in summary["overrides"]


def test_evaluated_run_writes_metrics_and_uses_fid_as_objective(tmp_path, mnist_root):
    cfg = make_config(["model=linear_gan", *TINY, "eval=fast", "eval.enabled=true", "eval.n_samples=200",
                       "eval.every_epochs=1", "trainer.epochs=2", "trainer.max_steps=null", "data.subset=128"])
    value = run(cfg, tmp_path)
    summary = rundir.read_summary(tmp_path)
    metrics = summary["metrics"]
    assert {"fid", "kid_mean", "precision", "recall", "density", "coverage", "floor_fid"} <= set(metrics)
    assert summary["objective"] == {"name": "fid", "direction": "minimize", "value": metrics["fid"]} and value == metrics["fid"]
    assert metrics["fid"] > metrics["floor_fid"]  # two steps of training are far from real digits
    history = rundir.read_history(tmp_path)
    assert [row["fid"] for row in history][-1] == pytest.approx(metrics["fid"])  # per-epoch curve, last = final
    assert len(history) == 2 and all(row["fid"] > 0 for row in history)


def test_named_metric_objective_and_direction(tmp_path, mnist_root):
    cfg = make_config(["model=linear_vae", *TINY, "eval=fast", "eval.enabled=true", "eval.n_samples=200",
                       "eval.nll_images=50", "eval.iw_samples=4", "trainer.objective=coverage"])
    value = run(cfg, tmp_path)
    summary = rundir.read_summary(tmp_path)
    assert summary["objective"]["direction"] == "maximize" and value == summary["metrics"]["coverage"]
    assert summary["metrics"]["test_nll_iw"] <= summary["metrics"]["test_nelbo"] + 1e-6


def test_vae_loss_gradient_stays_finite_when_the_sigmoid_saturates():
    import contextlib

    import torch

    from gvc.training.vae import negative_elbo

    logits = torch.tensor([[-200.0, 200.0, 0.0]], requires_grad=True)
    mu, logvar = torch.zeros(1, 2, requires_grad=True), torch.zeros(1, 2, requires_grad=True)
    forward = lambda x: (torch.sigmoid(logits), mu, logvar)  # probabilities of exactly 0 and 1 in float32
    bce, kl = negative_elbo(forward, torch.tensor([[0.3, 0.7, 0.5]]), contextlib.nullcontext)
    (bce + kl).backward()
    assert torch.isfinite(bce) and torch.isfinite(logits.grad).all()
