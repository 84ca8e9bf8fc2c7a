"""The loss registry: adding a training loss is one file here and one YAML in conf/loss/.

Every module of this package that sets `LOSS = Loss(...)` (GANLoss, VAELoss) registers it under its name. A loss
is a config dataclass (its knobs and their range checks), the model family it trains, the loss names it logs
with their units, and pure loss functions of logits / reconstructions; the family's step (gvc/training/gan.py,
vae.py) does the updates. `loss=auto` is the paper's loss of the model's family. ("Objective", in gvc, is the
number a sweep optimises: trainer.objective, gvc/summary.py.)
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from omegaconf import OmegaConf

from gvc.training.losses.base import AUTO, PAPER_LOSS, LossConfig, Loss  # noqa: F401 (re-exported)

LOSSES: dict[str, Loss] = {}


def discover() -> dict[str, Loss]:
    """Import every module of this package and register their LOSS."""
    for info in pkgutil.iter_modules(__path__):
        loss = getattr(importlib.import_module(f"{__name__}.{info.name}"), "LOSS", None)
        if loss is not None:
            LOSSES[loss.name] = loss
    return LOSSES


def known(family: str | None = None) -> list[str]:
    """The registered loss names (of one family), sorted."""
    discover()
    return sorted(n for n, o in LOSSES.items() if family is None or o.family == family)


def loss_name(section: Any, family: str) -> str:
    """The loss a config section names: `auto` resolves to the paper's loss of the family."""
    name = str(section.get("name", AUTO)) if section is not None else AUTO
    return PAPER_LOSS[family] if name == AUTO else name


def get(name: str) -> Loss:
    discover()
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {['auto', *known()]} (with loss=NAME)")
    return LOSSES[name]


def loss_config(section: Any, family: str) -> LossConfig:
    """The typed Config of the loss a `loss` section names (its defaults where the section is `auto`).

    Unknown or mistyped keys raise omegaconf errors; ranges are the Config's `check()`.
    """
    name = loss_name(section, family)
    loss = get(name)
    values = {} if section is None else OmegaConf.to_container(OmegaConf.create(section), resolve=True) \
        if not isinstance(section, dict) else dict(section)
    if values.get("name", AUTO) == AUTO:
        extra = sorted(set(values) - {"name"})
        if extra:
            raise ValueError(f"loss=auto has no knobs ({', '.join('loss.' + k for k in extra)} given); name the "
                             f"objective to set them, e.g. loss={name}")
        values = {}
    values["name"] = name
    schema = OmegaConf.structured(loss.Config)
    return OmegaConf.to_object(OmegaConf.merge(schema, OmegaConf.create(values)))


discover()

__all__ = ["AUTO", "LOSSES", "LossConfig", "Loss", "discover", "get", "known", "loss_config", "loss_name"]
