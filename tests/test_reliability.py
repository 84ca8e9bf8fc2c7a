"""Resume after a crash, survive divergence, refuse unreadable checkpoints, never overwrite a run."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from gvc.training.vae import VAEStep
from gvc.trial import rundir
from gvc.trial.rundir import CheckpointError
from gvc.trial.task import run
from tests.conftest import without_timing, DATA_ROOT, ROOT, TINY, make_config, run_gvc

# Epochs of 8k images (about a second each on one thread): long enough that a kill lands inside one.
# No evaluation: the history is the point, and eval.along's checkpoints inside epoch 1 would come before the kill.
KILLABLE = ["model=linear_vae", "data.subset=8000", "data.test_subset=256", "trainer.epochs=3", "eval.enabled=false",
            "trainer.progress=false", "trainer.threads=1", f"data.root={DATA_ROOT}"]


@pytest.mark.slow  # a real multirun or a killed process: seconds to minutes
def test_killed_run_resumes_to_the_same_history(tmp_path, mnist_root):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    proc = subprocess.Popen([sys.executable, "-m", "gvc", *KILLABLE, f"hydra.run.dir={killed}"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (killed / rundir.CHECKPOINT).is_file():  # epoch 1 done and checkpointed: now inside epoch 2
        assert proc.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(rundir.read_history(killed)) < 3
    assert rundir.read_summary(killed)["status"] == "running"

    refused = run_gvc(*KILLABLE, f"hydra.run.dir={killed}")
    assert refused.returncode == 2 and "trainer.resume=true" in refused.stderr

    resumed = run_gvc(*KILLABLE, f"hydra.run.dir={killed}", "trainer.resume=true")
    assert resumed.returncode == 0, resumed.stderr
    assert run_gvc(*KILLABLE, f"hydra.run.dir={whole}").returncode == 0
    assert without_timing(rundir.read_history(killed)) == without_timing(rundir.read_history(whole))
    summary = rundir.read_summary(killed)
    assert summary["status"] == "completed" and summary["resumed_from"]["epoch"] >= 1


def test_completed_run_is_not_retrained(tmp_path, mnist_root):
    cfg = make_config(["model=linear_gan", *TINY])
    value = run(cfg, tmp_path)
    before = (tmp_path / rundir.CHECKPOINT).stat().st_mtime_ns
    assert run(make_config(["model=linear_gan", *TINY, "trainer.resume=true"]), tmp_path) == value
    assert (tmp_path / rundir.CHECKPOINT).stat().st_mtime_ns == before


def test_existing_run_is_never_overwritten(tmp_path, mnist_root):
    run(make_config(["model=linear_gan", *TINY]), tmp_path)
    config_before = (tmp_path / "summary.json").read_bytes()
    with pytest.raises(ValueError, match="refusing to overwrite"):
        run(make_config(["model=linear_gan", *TINY]), tmp_path)
    assert (tmp_path / "summary.json").read_bytes() == config_before


def test_forced_nan_stops_promptly_and_keeps_the_last_good_checkpoint(tmp_path, mnist_root, monkeypatch):
    calls = {"n": 0}
    real_step = VAEStep.__call__

    def step(self, x, index=0):  # the step receives its index (the objective's schedule reads it)
        calls["n"] += 1
        losses = real_step(self, x, index)
        if calls["n"] >= 6:  # epoch 1 has 4 steps (256 images, batch 64): NaN in epoch 2, step 6
            losses["loss"] = losses["loss"] * float("nan")
        return losses

    monkeypatch.setattr(VAEStep, "__call__", step)
    cfg = make_config(["model=linear_vae", *TINY, "trainer.max_steps=null", "trainer.epochs=5", "trainer.log_every=1"])
    with pytest.raises(RuntimeError, match="non-finite"):
        run(cfg, tmp_path)
    summary = rundir.read_summary(tmp_path)
    assert summary["status"] == "diverged" and summary["diverged_at"] == {"epoch": 2, "step": 6}
    assert calls["n"] == 6  # stopped at once, not at the end of the run
    assert rundir.read_checkpoint(tmp_path / rundir.CHECKPOINT)["epoch"] == 1


def test_checkpoint_holds_everything_and_loads_weights_only(tmp_path, mnist_root):
    run(make_config(["model=dcgan", *TINY, "trainer.max_steps=2"]), tmp_path)
    ckpt = torch.load(tmp_path / rundir.CHECKPOINT, weights_only=True)
    assert {"model", "optimizers", "rng", "shuffle_rng", "epoch", "step", "history", "fixed_z", "config"} <= set(ckpt)
    assert set(ckpt["optimizers"]) == {"generator", "discriminator"}
    assert "torch" in ckpt["rng"]  # the trial's own stream (gvc.training.streams), not the process's generators
    assert ckpt["fixed_z"].shape == (25, 100) and ckpt["step"] == 2
    assert not list((tmp_path / "checkpoints").glob(".*.tmp"))  # written atomically


def test_corrupted_checkpoint_is_refused_with_a_clear_message(tmp_path, mnist_root):
    run(make_config(["model=linear_vae", *TINY, "trainer.epochs=2", "trainer.max_steps=3"]), tmp_path)
    # Mark it unfinished so that resume would load the checkpoint, then corrupt the file.
    summary = rundir.read_summary(tmp_path)
    rundir.write_summary(tmp_path, {**summary, "status": "running", "pid": None})  # its process gone
    path = tmp_path / rundir.CHECKPOINT
    path.write_bytes(path.read_bytes()[:500])
    result = run_gvc("model=linear_vae", *TINY, "trainer.epochs=2", "trainer.max_steps=3", f"hydra.run.dir={tmp_path}",
                     "trainer.resume=true")  # the same config: a resume only continues its own run
    assert result.returncode == 2 and "Traceback" not in result.stderr  # gvc's one refusal format
    [line] = [l for l in result.stderr.splitlines() if l.startswith("gvc: error: ")]
    assert "cannot read checkpoint" in line and "delete it" in line
    assert (tmp_path / rundir.SUMMARY).is_file()  # the run the user made is kept


def test_checkpoint_of_another_model_is_refused(tmp_path, mnist_root):
    from gvc.config import architecture_keys

    run(make_config(["model=linear_vae", *TINY]), tmp_path)
    keys = architecture_keys()  # the model keys declared to shape the networks
    with pytest.raises(CheckpointError, match="linear_vae"):
        rundir.read_checkpoint(tmp_path / rundir.CHECKPOINT, {"name": "conv_vae", "latent_dim": 16, "widths": [1]}, keys)
    with pytest.raises(CheckpointError, match="latent_dim"):
        rundir.read_checkpoint(tmp_path / rundir.CHECKPOINT,
                               {"name": "linear_vae", "latent_dim": 8, "widths": [512, 128]}, keys)


def test_malicious_checkpoint_cannot_run_code(tmp_path):
    import pickle

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    path = tmp_path / "last.pt"
    path.write_bytes(pickle.dumps({"format": 1, "x": Exploit()}, protocol=2))
    with pytest.raises(CheckpointError):
        rundir.read_checkpoint(path)
    assert not (tmp_path / "pwned").exists()
