"""What the trainer, the evaluator and the analysis may assume about any model, and the config every model shares.

A model file declares its own hyperparameters as a dataclass subclassing `ModelConfig` (its `Config`)
beside the model, and its constructor takes that config and the data set's image shape (C, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from omegaconf import MISSING
from torch import nn

ImageShape = tuple[int, int, int]  # (channels, height, width)
MNIST_SHAPE: ImageShape = (1, 28, 28)


@dataclass
class PaperDefaults:
    """The paper's training settings for a model; the optimizer and data groups default to them."""

    lr: float = MISSING
    batch_size: int = MISSING


@dataclass
class ModelConfig:
    """The keys every model has; a model's own knobs go in its subclass, beside the model."""

    name: str = MISSING
    latent_dim: int = MISSING
    paper: PaperDefaults = field(default_factory=PaperDefaults)

    def check(self) -> list[tuple[str, bool, str]]:
        """(key, ok, what is allowed) range checks; subclasses add theirs to these."""
        return [("latent_dim", self.latent_dim >= 1, "a positive integer")]


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class GAN(nn.Module):
    """A generator and a discriminator (which returns one logit per image). Pixels live in [-1, 1]."""

    family = "gan"
    output_range = (-1.0, 1.0)
    Config = ModelConfig
    generator: nn.Module
    discriminator: nn.Module
    latent_dim: int
    image_shape: ImageShape = MNIST_SHAPE

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1], (N, C, H, W)."""
        return (self.generator(z).view(-1, *self.image_shape) + 1) / 2

    def parameter_counts(self) -> dict[str, int]:
        g, d = _count(self.generator), _count(self.discriminator)
        return {"generator": g, "discriminator": d, "total": g + d}


class VAE(nn.Module):
    """An encoder returning 2 * latent_dim numbers (mean, log-variance) and a Bernoulli decoder. Pixels in [0, 1]."""

    family = "vae"
    output_range = (0.0, 1.0)
    Config = ModelConfig
    encoder: nn.Module
    decoder: nn.Module
    latent_dim: int
    image_shape: ImageShape = MNIST_SHAPE

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
        return self.decode(z)

    def parameter_counts(self) -> dict[str, int]:
        e, d = _count(self.encoder), _count(self.decoder)
        return {"encoder": e, "decoder": d, "total": e + d}
