"""The data-set registry: every module in this package that defines `DATASET = DatasetSpec(...)` is a data set.

Adding a data set is one file here (its facts and how to obtain its files) and one YAML in conf/data/;
training, evaluation and analysis all load it through `gvc.data.load_split(name, ...)`. Importing this
package does not import torch, so config validation and the analysis can read shapes and names cheaply.
"""

from __future__ import annotations

import importlib
import pkgutil

from gvc.datasets.spec import DatasetSpec

_REGISTRY: dict[str, DatasetSpec] = {}


def discover() -> dict[str, DatasetSpec]:
    """Import every module of this package (its __path__ included) once and collect their DATASETs."""
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "DATASET", None)
        if isinstance(spec, DatasetSpec):
            _REGISTRY[spec.name] = spec
    return _REGISTRY


def known() -> list[str]:
    """The names of all registered data sets, sorted."""
    return sorted(discover())


def get(name: str) -> DatasetSpec:
    """The spec of data set `name`; an unknown name raises KeyError listing the known ones."""
    registry = _REGISTRY if name in _REGISTRY else discover()
    if name not in registry:
        raise KeyError(f"unknown data set {name!r}; known data sets: {', '.join(sorted(registry))} (choose with data=NAME)")
    return registry[name]


__all__ = ["DatasetSpec", "discover", "get", "known"]
