"""What the trainer, the evaluator and the analysis may assume about any model (the config every model shares is
gvc/models/config.py's, re-exported here).

A model file declares its own hyperparameters as a dataclass subclassing `ModelConfig` (its `Config`)
beside the model, and its constructor takes that config and the data set's image shape (C, H, W).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

# The shared configs live torch-free beside this module, so that the config schema (gvc/config.py) types
# `cfg.model` without importing torch; re-exported here, where the models import them from.
from gvc.models.config import MNIST_SHAPE, GANConfig, ImageShape, ModelConfig, PaperDefaults  # noqa: F401


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
