"""What the trainer, the evaluator and the analysis may assume about any model, and the config every model shares.

A model file declares its own hyperparameters as a dataclass subclassing `ModelConfig` (its `Config`)
beside the model, and its constructor takes that config and the data set's image shape (C, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import torch
from omegaconf import MISSING
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

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


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class GAN(nn.Module):
    """A generator and a discriminator (which returns one logit per image). Pixels live in [-1, 1]."""

    family = "gan"
    output_range = (-1.0, 1.0)
    Config = GANConfig
    generator: nn.Module
    discriminator: nn.Module
    latent_dim: int
    image_shape: ImageShape = MNIST_SHAPE

    def init_ema(self, decay: float | None) -> None:
        """Call at the end of __init__: the EMA copy (`self.ema`, in the state dict) starts as G and follows it
        after every G update."""
        self.ema: AveragedModel | None = None
        if decay is not None:
            self.ema = AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
            self.ema.requires_grad_(False)

    @torch.no_grad()
    def update_ema(self) -> None:
        if getattr(self, "ema", None) is not None:
            self.ema.update_parameters(self.generator)

    def ema_model(self) -> "GAN | None":
        """A GAN that samples from the EMA generator (for evaluation and grids), or None when EMA is off."""
        return None if getattr(self, "ema", None) is None else _EMAView(self)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1], (N, C, H, W)."""
        return (self.generator(z).view(-1, *self.image_shape) + 1) / 2

    def parameter_counts(self) -> dict[str, int]:
        g, d = _count(self.generator), _count(self.discriminator)
        return {"generator": g, "discriminator": d, "total": g + d}


class _EMAView(GAN):
    """The EMA generator seen as a GAN that only samples (it shares the averaged weights, nothing is copied)."""

    def __init__(self, gan: GAN):
        super().__init__()
        self.generator, self.latent_dim, self.image_shape = gan.ema.module, gan.latent_dim, gan.image_shape


class VAE(nn.Module):
    """An encoder returning 2 * latent_dim numbers (mean, log-variance) and a Bernoulli decoder. Pixels in [0, 1]."""

    family = "vae"
    output_range = (0.0, 1.0)
    Config = ModelConfig
    encoder: nn.Module
    decoder: nn.Module
    latent_dim: int
    image_shape: ImageShape = MNIST_SHAPE
    # The decoder likelihood its objective trains (gvc/training/losses/decoders.py); None = the paper's Bernoulli.
    likelihood = None

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli means in [0, 1], (N, C, H, W)."""
        return self.decoder(z).view(-1, *self.image_shape)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """The images the decoder means (its output for Bernoulli and Gaussian, E[x] for a continuous Bernoulli)."""
        out = self.decode(z)
        return out if self.likelihood is None else self.likelihood.image(out)

    def parameter_counts(self) -> dict[str, int]:
        e, d = _count(self.encoder), _count(self.decoder)
        return {"encoder": e, "decoder": d, "total": e + d}
