"""The model registry: adding a model is one file here (its Config dataclass and nn.Module) and one YAML in conf/model/.

Every module of this package that sets `MODEL = SomeClass` registers that class under `SomeClass.name`.
`build_model(section, image_shape)` builds any model from its config section (a dict, DictConfig or its
Config) and the data set's image shape, so no call site spells out a model's constructor arguments.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from omegaconf import OmegaConf

from gvc.models.config import MNIST_SHAPE, ImageShape, ModelConfig

if TYPE_CHECKING:
    from gvc.models.base import GAN, VAE

# The models register on first use, not on import: importing the package (for gvc.models.config, which the
# config schema types `cfg.model` with) then needs no torch. `MODELS` and `GAN` / `VAE` are looked up on first use
# (PEP 562 `__getattr__` below); after that MODELS is a plain module attribute.
_REGISTERED: dict[str, type[GAN] | type[VAE]] = {}


def discover() -> dict[str, type[GAN] | type[VAE]]:
    """Import every module of this package (its __path__ included) and register their MODEL classes."""
    models = globals().setdefault("MODELS", _REGISTERED)  # the module's MODELS, which a test may have swapped
    for info in pkgutil.iter_modules(__path__):
        model = getattr(importlib.import_module(f"{__name__}.{info.name}"), "MODEL", None)
        if model is not None:
            models[model.name] = model
    return models


def __getattr__(name: str) -> Any:
    if name == "MODELS":
        return discover()
    if name in ("GAN", "VAE"):
        from gvc.models import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def model_class(name: str) -> type[GAN] | type[VAE]:
    models = globals().get("MODELS")
    if models is None or name not in models:
        models = discover()
    if name not in models:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(models)} (with model=NAME)")
    return models[name]


def model_config(section: Any) -> ModelConfig:
    """A model's typed Config from its config section; unknown or mistyped keys raise (omegaconf errors)."""
    if isinstance(section, ModelConfig):
        return section
    if not isinstance(section, Mapping):
        section = OmegaConf.to_container(section, resolve=True)
    schema = OmegaConf.structured(model_class(str(section["name"])).Config)
    return OmegaConf.to_object(OmegaConf.merge(schema, OmegaConf.create(dict(section))))


def build_model(section: Any, image_shape: ImageShape = MNIST_SHAPE) -> GAN | VAE:
    """Any registered model from its config section, sized for images of `image_shape` (C, H, W)."""
    cfg = model_config(section)
    return model_class(cfg.name)(cfg, tuple(image_shape))


__all__ = ["GAN", "VAE", "MODELS", "ModelConfig", "build_model", "discover", "model_class", "model_config"]
