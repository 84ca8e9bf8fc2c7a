"""Convolutional VAE: the DCGAN discriminator's convolutions as encoder, its generator as decoder."""

from __future__ import annotations

from torch import nn

from gvc.models.base import VAE
from gvc.models.dcgan import conv_body, deconv_body


class ConvVAE(VAE):
    def __init__(self, latent_dim: int = 16, widths: list[int] = (32, 64, 128, 256), dropout: float = 0.25,
                 negative_slope: float = 0.2):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            conv_body(widths, dropout, negative_slope),
            nn.Linear(widths[3] * 7 * 7, 2 * latent_dim),  # mean, log-variance
        )
        self.decoder = deconv_body(latent_dim, widths, nn.Sigmoid())
