"""The config every model shares (ModelConfig, GAN's GANConfig, the paper's training settings): torch-free.

A model's own knobs go in its Config subclass beside the model (gvc/models/NAME.py); these base classes are here,
apart from the nn.Modules of base.py, because the config schema (gvc/config.py) types `cfg.model` with them and
must import without torch (analysis and `python -m gvc list` stay light).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import MISSING

from gvc.knobs import ARCHITECTURE, knob_meta

ImageShape = tuple[int, int, int]  # (channels, height, width)
MNIST_SHAPE: ImageShape = (1, 28, 28)


@dataclass
class PaperDefaults:
    """The paper's training settings for a model; the optimizer and data groups default to them."""

    # References the optimizer and data groups read, not knobs of their own.
    lr: float = field(default=MISSING, metadata=knob_meta(hyperparameter=False, result=False))
    batch_size: int = field(default=MISSING, metadata=knob_meta(hyperparameter=False, result=False))


@dataclass
class ModelConfig:
    """The keys every model has; a model's own knobs go in its subclass, beside the model."""

    name: str = MISSING
    latent_dim: int = field(default=MISSING, metadata=ARCHITECTURE)
    paper: PaperDefaults = field(default_factory=PaperDefaults)

    def check(self) -> list[tuple[str, bool, str]]:
        """(key, ok, what is allowed) range checks; subclasses add theirs to these."""
        return [("latent_dim", self.latent_dim >= 1, "a positive integer")]


@dataclass
class GANConfig(ModelConfig):
    """The keys every GAN has: an exponential moving average of G's weights (Yazıcı et al. 2019), evaluated
    beside the raw generator. null = off (the paper has none)."""

    ema_decay: Optional[float] = field(default=None, metadata=knob_meta(
        paper=None, help="EMA of the generator's weights, evaluated beside it (ema_* metrics); null = off"))

    def check(self) -> list[tuple[str, bool, str]]:
        return super().check() + [("ema_decay", self.ema_decay is None or 0.0 <= self.ema_decay < 1.0,
                                   "null (off) or a decay in [0, 1), e.g. 0.999")]
