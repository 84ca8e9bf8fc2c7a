"""A trained run's model, rebuilt from its checkpoint: what `gvc.sample` and `gvc.evaluate` start from.

The checkpoint holds the composed config it was trained with, so the model is rebuilt by the one rebuild
(gvc/training/rebuild.py: the data set's image shape, the objective's decoder likelihood and its learned σ). `ema=True` samples from the exponential moving average of the
generator that GANs trained with `model.ema_decay` keep in their state dict (`GAN.ema_model()`).
`checkpoint="best"` uses checkpoints/best.pt, the weights of the best evaluation along training (eval.along).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gvc.errors import ConfigError
from gvc.trial import rundir
from gvc.trial.rundir import CheckpointError

@dataclass
class TrainedRun:
    run_dir: Path
    model: torch.nn.Module  # in eval mode, on the CPU
    config: dict[str, Any]  # the composed config the run was trained with (resolved)
    summary: dict[str, Any]  # summary.json ({} when the run wrote none)
    epoch: int
    step: int
    ema: bool
    checkpoint: str = "last"  # which of rundir.CHECKPOINTS: last.pt or best.pt

    @property
    def image_shape(self) -> tuple[int, int, int]:
        from gvc.data import spec_of_config

        return spec_of_config(self.config).image_shape

    @property
    def data(self) -> str:
        return str((self.config.get("data") or {}).get("name", "mnist"))


def require_run_dir(path: Path) -> Path:
    """`path` as a run directory with a checkpoint, or a ConfigError saying what it is instead."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise ConfigError(f"{path} does not exist or is not a directory; pass a run directory (outputs/MODEL/TIME "
                          "or multirun/DATE/TIME/N_MODEL)")
    if not rundir.is_run_dir(path):
        runs = rundir.find_run_dirs(path)
        hint = f"; it holds {len(runs)} run(s), e.g. {runs[0]}" if runs else ""
        raise ConfigError(f"{path} is not a gvc run directory (it has no {rundir.SUMMARY} or {rundir.HYDRA_CONFIG})"
                          f"{hint}. Pass one run's directory")
    if not (path / rundir.CHECKPOINT).is_file():
        raise ConfigError(f"{path} has no checkpoint ({rundir.CHECKPOINT}): the run stopped before its first one, "
                          "so there is no model to use. Train it (or resume it with trainer.resume=true) first")
    return path


def load_trained(path: Path, ema: bool = False, checkpoint: str = "last") -> TrainedRun:
    """The model of the run at `path` from its last checkpoint, or its best one along training with
    checkpoint="best" (its EMA weights with ema=True)."""
    from gvc.training.rebuild import from_checkpoint

    run_dir = require_run_dir(path)
    if checkpoint not in rundir.CHECKPOINTS:
        raise ConfigError(f"--checkpoint {checkpoint} is not allowed: one of {sorted(rundir.CHECKPOINTS)}")
    if not (run_dir / rundir.CHECKPOINTS[checkpoint]).is_file():
        raise ConfigError(f"{run_dir} has no {rundir.CHECKPOINTS[checkpoint]}: the run kept no best weights (it was "
                          "trained without eval.along, or its budget ended before the first point). Leave out "
                          "--checkpoint best to use the last checkpoint")
    ckpt = rundir.read_checkpoint(run_dir / rundir.CHECKPOINTS[checkpoint])  # weights_only, format-checked
    config = ckpt.get("config") or {}
    model = from_checkpoint(ckpt)
    if ema:
        averaged = getattr(model, "ema_model", lambda: None)()
        if averaged is None:
            raise CheckpointError(f"{run_dir / rundir.CHECKPOINT} holds no EMA weights: the run was trained without an "
                                  "exponential moving average of its generator (model.ema_decay, GANs only). Leave out "
                                  "--ema to use the trained weights")
        model = averaged
    return TrainedRun(run_dir=run_dir, model=model.eval(), config=config, summary=rundir.read_summary(run_dir) or {},
                      epoch=int(ckpt.get("epoch", 0)), step=int(ckpt.get("step", 0)), ema=ema, checkpoint=checkpoint)
