"""What the trainer, the evaluator and the analysis may assume about any model."""

from __future__ import annotations

import torch
from torch import nn


class GAN(nn.Module):
    """A generator and a discriminator (which returns one logit per image). Pixels live in [-1, 1]."""

    family = "gan"
    output_range = (-1.0, 1.0)
    generator: nn.Module
    discriminator: nn.Module
    latent_dim: int

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1], (N, 1, 28, 28)."""
        return (self.generator(z).view(-1, 1, 28, 28) + 1) / 2

    def parameter_counts(self) -> dict[str, int]:
        g, d = (sum(p.numel() for p in m.parameters()) for m in (self.generator, self.discriminator))
        return {"generator": g, "discriminator": d, "total": g + d}


class VAE(nn.Module):
    """An encoder returning 2 * latent_dim numbers (mean, log-variance) and a Bernoulli decoder. Pixels in [0, 1]."""

    family = "vae"
    output_range = (0.0, 1.0)
    encoder: nn.Module
    decoder: nn.Module
    latent_dim: int

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli means in [0, 1], (N, 1, 28, 28)."""
        return self.decoder(z).view(-1, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode(z)

    def parameter_counts(self) -> dict[str, int]:
        e, d = (sum(p.numel() for p in m.parameters()) for m in (self.encoder, self.decoder))
        return {"encoder": e, "decoder": d, "total": e + d}
