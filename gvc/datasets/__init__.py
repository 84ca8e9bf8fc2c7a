"""The data-set registry: every module in this package that defines `DATASET = DatasetSpec(...)` is a data set.

A module defining `DATASET = DataSource(...)` is a source of a user's own data sets (folder.py, array.py): each
set of files it reads becomes a DatasetSpec named by their hash (gvc/datasets/own.py), registered here when
resolved and found again from its decoded cache by later processes.

Adding a data set is one file here (its facts and how to obtain its files) and one YAML in conf/data/;
training, evaluation and analysis all load it through `gvc.data.load_split(name, ...)`. Importing this
package does not import torch, so config validation and the analysis can read shapes and names cheaply.
"""

from __future__ import annotations

import importlib
import pkgutil

from gvc.datasets import array, folder, own
from gvc.datasets.spec import DatasetSpec, DataSource

# The own-data sources are registered on import, not on first discover(): a fresh process (a joblib or SLURM
# worker) resolves data.name (${gvc_own_data:folder}) before anything there has discovered the package.
for _source in (folder.DATASET, array.DATASET):
    own.add_source(_source)

_REGISTRY: dict[str, DatasetSpec] = {}


def discover() -> dict[str, DatasetSpec]:
    """Import every module of this package (its __path__ included) once and collect their DATASETs."""
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "DATASET", None)
        if isinstance(spec, DatasetSpec):
            _REGISTRY[spec.name] = spec
        elif isinstance(spec, DataSource):
            own.add_source(spec)
    _REGISTRY.update(own.RESOLVED)  # own data sets resolved so far, by their hash names
    return _REGISTRY


def sources() -> dict[str, DataSource]:
    """The sources of own data sets by name (data=folder, data=array)."""
    if not own.SOURCES:
        discover()
    return own.SOURCES


def known() -> list[str]:
    """The names of all registered data sets, sorted."""
    return sorted(discover())


def get(name: str) -> DatasetSpec:
    """The spec of data set `name`; an unknown name raises KeyError listing the known ones."""
    registry = _REGISTRY if name in _REGISTRY else discover()
    if name not in registry:  # an own data set decoded by an earlier process, in the default cache
        found = own.lookup(name, own.default_roots())
        if found is not None:
            return found
    if name not in registry:
        raise KeyError(f"unknown data set {name!r}; known data sets: {', '.join(sorted(registry))} (choose with data=NAME)")
    return registry[name]


__all__ = ["DataSource", "DatasetSpec", "discover", "get", "known", "sources"]
