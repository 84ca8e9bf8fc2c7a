"""The one rebuild of a model: its config (or checkpoint) -> the model with everything its objective gives its
outputs (a VAE's decoder likelihood, a learned Gaussian σ included).

Training and resume (gvc/training/loop.py), `gvc.sample` and `gvc.evaluate` (gvc/trial/trained.py) and the report's
image grids (analysis/grids.py, which imports this lazily) all build models here, so a trained model samples and
is measured the same everywhere.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from gvc.data import spec_of_config
from gvc.models import build_model
from gvc.training.families import family
from gvc.training.losses import loss_config


def build(config: Mapping[str, Any], device: torch.device | str = "cpu") -> nn.Module:
    """The model of a composed config (DictConfig or dict: `model`, `data`, `loss`), on `device`, sized for the
    data set's images (a user's own data set is found under the config's data.root), with its objective's outputs
    attached."""
    model = build_model(config["model"], spec_of_config(config).image_shape).to(device)
    family(model).equip(model, loss_config(config.get("loss"), model.family), device)
    return model


def restore(model: nn.Module, ckpt: Mapping[str, Any]) -> None:
    """Load a checkpoint's weights and what its objective learned for the outputs (`step_state`) into `model`."""
    model.load_state_dict(ckpt["model"])
    family(model).restore_outputs(model, ckpt.get("step_state") or {})


def from_checkpoint(ckpt: Mapping[str, Any], config: Mapping[str, Any] | None = None,
                    device: torch.device | str = "cpu") -> nn.Module:
    """The trained model of a checkpoint (gvc.trial.rundir.read_checkpoint's dict), built from its own config (or
    `config` for a checkpoint without one), in eval mode."""
    config = dict(ckpt.get("config") or config or {})
    config["model"] = {**(config.get("model") or {}), "name": ckpt.get("model_name") or config["model"]["name"]}
    model = build(config, device)
    restore(model, ckpt)
    return model.eval()
