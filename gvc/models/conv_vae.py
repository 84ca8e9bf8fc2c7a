"""Convolutional VAE: the DCGAN discriminator's convolutions as encoder, its generator as decoder."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from gvc.models.base import MNIST_SHAPE, VAE, ImageShape
from gvc.models.dcgan import ConvConfig, bottleneck, conv_body, deconv_body


@dataclass
class ConvVAEConfig(ConvConfig):
    pass


class ConvVAE(VAE):
    name = "conv_vae"
    Config = ConvVAEConfig

    def __init__(self, cfg: ConvVAEConfig, image_shape: ImageShape = MNIST_SHAPE):
        super().__init__()
        self.latent_dim, self.image_shape = cfg.latent_dim, tuple(image_shape)
        h, w = bottleneck(image_shape)
        self.encoder = nn.Sequential(
            conv_body(cfg.widths, cfg.dropout, cfg.negative_slope, image_shape),
            nn.Linear(cfg.widths[3] * h * w, 2 * cfg.latent_dim),  # mean, log-variance
        )
        self.decoder = deconv_body(cfg.latent_dim, cfg.widths, nn.Sigmoid(), image_shape)


MODEL = ConvVAE
