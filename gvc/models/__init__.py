"""The model registry: adding a model is one file here (its Config dataclass and nn.Module) and one YAML in conf/model/.

Every module of this package that sets `MODEL = SomeClass` registers that class under `SomeClass.name`.
`build_model(section, image_shape)` builds any model from its config section (a dict, DictConfig or its
Config) and the data set's image shape, so no call site spells out a model's constructor arguments.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

from omegaconf import OmegaConf

from gvc.models.base import GAN, MNIST_SHAPE, VAE, ImageShape, ModelConfig

MODELS: dict[str, type[GAN] | type[VAE]] = {}


def discover() -> dict[str, type[GAN] | type[VAE]]:
    """Import every module of this package (its __path__ included) and register their MODEL classes."""
    for info in pkgutil.iter_modules(__path__):
        model = getattr(importlib.import_module(f"{__name__}.{info.name}"), "MODEL", None)
        if model is not None:
            MODELS[model.name] = model
    return MODELS


def model_class(name: str) -> type[GAN] | type[VAE]:
    if name not in MODELS:
        discover()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)} (with model=NAME)")
    return MODELS[name]


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


discover()

__all__ = ["GAN", "VAE", "MODELS", "ModelConfig", "build_model", "discover", "model_class", "model_config"]
