"""The objective registry: adding a training objective is one file here and one YAML in conf/loss/.

Every module of this package that sets `OBJECTIVE = Objective(...)` registers it under its name. An objective
is a config dataclass (its knobs and their range checks), the model family it trains, the loss names it logs
with their units, and pure loss functions of logits / reconstructions; the family's step (gvc/training/gan.py,
vae.py) does the updates. `loss=auto` is the paper's objective of the model's family.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from omegaconf import OmegaConf

from gvc.training.losses.base import AUTO, PAPER_OBJECTIVE, LossConfig, Objective  # noqa: F401 (re-exported)

OBJECTIVES: dict[str, Objective] = {}


def discover() -> dict[str, Objective]:
    """Import every module of this package and register their OBJECTIVE."""
    for info in pkgutil.iter_modules(__path__):
        objective = getattr(importlib.import_module(f"{__name__}.{info.name}"), "OBJECTIVE", None)
        if objective is not None:
            OBJECTIVES[objective.name] = objective
    return OBJECTIVES


def known(family: str | None = None) -> list[str]:
    """The registered objective names (of one family), sorted."""
    discover()
    return sorted(n for n, o in OBJECTIVES.items() if family is None or o.family == family)


def objective_name(section: Any, family: str) -> str:
    """The objective a config section names: `auto` resolves to the paper's objective of the family."""
    name = str(section.get("name", AUTO)) if section is not None else AUTO
    return PAPER_OBJECTIVE[family] if name == AUTO else name


def get(name: str) -> Objective:
    discover()
    if name not in OBJECTIVES:
        raise ValueError(f"unknown loss {name!r}; choose one of {['auto', *known()]} (with loss=NAME)")
    return OBJECTIVES[name]


def loss_config(section: Any, family: str) -> LossConfig:
    """The typed Config of the objective a `loss` section names (its defaults where the section is `auto`).

    Unknown or mistyped keys raise omegaconf errors; ranges are the Config's `check()`.
    """
    name = objective_name(section, family)
    objective = get(name)
    values = {} if section is None else OmegaConf.to_container(OmegaConf.create(section), resolve=True) \
        if not isinstance(section, dict) else dict(section)
    if values.get("name", AUTO) == AUTO:
        extra = sorted(set(values) - {"name"})
        if extra:
            raise ValueError(f"loss=auto has no knobs ({', '.join('loss.' + k for k in extra)} given); name the "
                             f"objective to set them, e.g. loss={name}")
        values = {}
    values["name"] = name
    schema = OmegaConf.structured(objective.Config)
    return OmegaConf.to_object(OmegaConf.merge(schema, OmegaConf.create(values)))


discover()

__all__ = ["AUTO", "OBJECTIVES", "LossConfig", "Objective", "discover", "get", "known", "loss_config", "objective_name"]
