"""Hooks may end a run: a hook added through the config's `hooks` group (one Python file, one YAML) stops a run
cleanly, recorded as `stopped` with its reason and a checkpoint; the shipped early-stopping hook obeys the same
seam; a hook that cannot be built is refused before training."""

from __future__ import annotations

import shutil
import sys
import textwrap

import pytest
import torch
from hydra import compose, initialize_config_dir

from gvc.config import ConfigError, register_configs, validate
from gvc.training.hooks import Hook
from gvc.trial import rundir
from gvc.trial.task import run
from tests.conftest import CONF, DATA_ROOT, TINY, make_config

# What a user writes: a hook anywhere on the import path ...
HOOK_FILE = '''
from gvc.training.hooks import Hook


class StopAfter(Hook):
    def __init__(self, epochs: int):
        self.epochs = epochs

    def epoch_end(self, row, last):
        if row["epoch"] >= self.epochs:
            self.request_stop(f"enough after {self.epochs} epochs")
'''
# ... and its YAML in conf/hooks/.
HOOK_YAML = """
stop_after:
  _target_: my_stop_hook.StopAfter
  epochs: 2
"""
EPOCHS = ["trainer.max_steps=null", "trainer.epochs=10", "data.subset=64", "data.test_subset=32", "trainer.threads=1"]


@pytest.fixture
def with_user_hook(tmp_path, monkeypatch):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "my_stop_hook.py").write_text(HOOK_FILE)
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    monkeypatch.delitem(sys.modules, "my_stop_hook", raising=False)
    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    (conf / "hooks" / "stop_after.yaml").write_text(textwrap.dedent(HOOK_YAML))
    register_configs()

    def make(overrides: list[str]):
        with initialize_config_dir(version_base="1.3", config_dir=str(conf)):
            return compose(config_name="config", overrides=[f"data.root={DATA_ROOT}", *overrides])

    return make


def test_a_hook_added_through_the_config_stops_a_run_with_its_status_and_reason(with_user_hook, tmp_path):
    cfg = with_user_hook(["model=linear_gan", *TINY, *EPOCHS, "hooks=stop_after"])
    validate(cfg)
    run(cfg, tmp_path / "run")
    summary = rundir.read_summary(tmp_path / "run")
    assert summary["status"] == "stopped" and summary["status"] in rundir.STATUSES
    assert "stop_after: enough after 2 epochs" in summary["reason"] and summary["epochs"] == 2
    ckpt = torch.load(tmp_path / "run" / rundir.CHECKPOINT, weights_only=True)
    assert ckpt["epoch"] == 2 and ckpt["step"] == summary["steps"]  # the checkpoint of the step it stopped at
    assert [row["epoch"] for row in rundir.read_history(tmp_path / "run")] == [1, 2]


def test_early_stopping_ends_a_vae_whose_test_loss_stops_improving(tmp_path):
    # min_delta beyond any change: epoch 2 does not improve on epoch 1, and patience 1 stops there.
    cfg = make_config(["model=linear_vae", *TINY, *EPOCHS, "hooks=early_stopping",
                       "hooks.early_stopping.patience=1", "hooks.early_stopping.min_delta=1e9"])
    run(cfg, tmp_path / "run")
    summary = rundir.read_summary(tmp_path / "run")
    assert summary["status"] == "stopped" and summary["epochs"] == 2
    assert "early_stopping: test_loss has not improved" in summary["reason"]
    assert (tmp_path / "run" / rundir.CHECKPOINT).is_file()


@pytest.mark.parametrize("override, problem", [
    ("hooks.early_stopping.mode=up", "mode='up' is not allowed"),
    ("+hooks.early_stopping.patiense=3", "unexpected keyword argument 'patiense'"),
    ("hooks.early_stopping._target_=gvc.trial.rundir.Path", "is not a subclass of gvc.training.hooks.Hook"),
    ("hooks.early_stopping._target_=gvc.no_such_module.Hook", "cannot import"),
])
def test_a_hook_that_cannot_be_built_is_refused_before_training(override, problem):
    with pytest.raises(ConfigError, match="hooks.early_stopping") as refused:
        validate(make_config(["model=linear_vae", *TINY, "hooks=early_stopping", override]))
    assert problem in str(refused.value)


def test_losses_png_never_puts_losses_of_different_objectives_on_one_axis():
    from gvc.training.hooks import loss_panels

    gan = loss_panels(("loss_d", "loss_g", "d_real", "d_fake"), ["epoch", "loss_d", "loss_g", "d_real", "d_fake"])
    assert gan == [("loss_d",), ("loss_g",), ("d_real",), ("d_fake",)]  # D's and G's losses apart
    vae = loss_panels(("loss", "bce", "kl"), ["loss", "bce", "kl", "test_loss", "test_bce", "test_kl"])
    # a term beside its held-out twin; the trained objective (β-weighted) apart from the true test −ELBO
    assert vae == [("loss",), ("bce", "test_bce"), ("kl", "test_kl"), ("test_loss",)]


class StopAtStep(Hook):
    """Asks to stop from a log point inside an epoch."""

    name = "stop_at_step"

    def __init__(self, step: int):
        self.step = step

    def log(self, step, epoch, losses):
        if step >= self.step:
            self.request_stop(f"step {step} reached")


def test_a_hook_can_stop_a_run_inside_an_epoch_at_a_log_point(tmp_path, monkeypatch):
    import gvc.trial.lifecycle

    real = gvc.trial.lifecycle.make_hooks
    monkeypatch.setattr(gvc.trial.lifecycle, "make_hooks", lambda section: [*real(section), StopAtStep(3)])
    run(make_config(["model=linear_vae", *TINY, *EPOCHS, "trainer.log_every=1", "data.subset=1024"]), tmp_path / "run")
    summary = rundir.read_summary(tmp_path / "run")
    assert summary["status"] == "stopped" and summary["steps"] == 3 and "stop_at_step: step 3 reached" in summary["reason"]
    [row] = rundir.read_history(tmp_path / "run")
    assert row["partial"] == 1 and row["step"] == 3  # the epoch it cut short, as a budget would
    assert torch.load(tmp_path / "run" / rundir.CHECKPOINT, weights_only=True)["step"] == 3
