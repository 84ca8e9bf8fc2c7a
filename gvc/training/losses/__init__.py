"""The loss registry: adding a training loss is one file here and one YAML in conf/loss/.

Every module of this package that sets `LOSS = Loss(...)` (GANLoss, VAELoss) registers it under its name. A loss
is a config dataclass (its knobs and their range checks), the model family it trains, the loss names it logs
with their units, and pure loss functions of logits / reconstructions; the family's step (gvc/training/gan.py,
vae.py) does the updates. `loss=auto` is the paper's loss of the model's family. ("Objective", in gvc, is the
number a sweep optimises: trainer.objective, gvc/trial/summary.py.)
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from omegaconf import OmegaConf

from gvc.training.losses.base import AUTO, PAPER_LOSS, LossConfig, Loss  # noqa: F401 (re-exported)

# The losses register on first use, not on import: importing the package (for base.py's LossConfig, which the
# config schema types `cfg.loss` with) then needs no torch. `LOSSES` is looked up on first use (PEP 562
# `__getattr__` below); after that it is a plain module attribute.
_REGISTERED: dict[str, Loss] = {}


def discover() -> dict[str, Loss]:
    """Import every module of this package and register their LOSS."""
    registered = globals().setdefault("LOSSES", _REGISTERED)  # the module's LOSSES, which a test may have swapped
    for info in pkgutil.iter_modules(__path__):
        loss = getattr(importlib.import_module(f"{__name__}.{info.name}"), "LOSS", None)
        if loss is not None:
            registered[loss.name] = loss
    return registered


def __getattr__(name: str) -> Any:
    if name == "LOSSES":
        return discover()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def known(family: str | None = None) -> list[str]:
    """The registered loss names (of one family), sorted."""
    return sorted(n for n, o in discover().items() if family is None or o.family == family)


def loss_name(section: Any, family: str) -> str:
    """The loss a config section names: `auto` resolves to the paper's loss of the family."""
    name = str(section.get("name", AUTO)) if section is not None else AUTO
    return PAPER_LOSS[family] if name == AUTO else name


def get(name: str) -> Loss:
    registered = discover()
    if name not in registered:
        raise ValueError(f"unknown loss {name!r}; choose one of {['auto', *known()]} (with loss=NAME)")
    return registered[name]


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


__all__ = ["AUTO", "LOSSES", "LossConfig", "Loss", "discover", "get", "known", "loss_config", "loss_name"]
