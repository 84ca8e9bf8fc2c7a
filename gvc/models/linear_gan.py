"""Linear GAN (the paper's "GAN"): fully connected G and D, LeakyReLU(0.2), dropout in D only."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from torch import nn

from gvc.models.base import GAN, MNIST_SHAPE, GANConfig, ImageShape
from gvc.knobs import ARCHITECTURE
from gvc.models.layers import Dropout


@dataclass
class LinearGANConfig(GANConfig):
    widths: list[int] = field(default_factory=lambda: [512, 256, 128], metadata=ARCHITECTURE)  # discriminator order; G mirrors it
    dropout: float = 0.4  # discriminator only
    negative_slope: float = 0.2

    def check(self) -> list[tuple[str, bool, str]]:
        return super().check() + [
            ("widths", len(self.widths) == 3 and all(w >= 1 for w in self.widths), "three positive layer widths"),
            ("dropout", 0.0 <= self.dropout < 1.0, "a probability in [0, 1)"),
            ("negative_slope", self.negative_slope >= 0.0, "a non-negative slope"),
        ]


class LinearGAN(GAN):
    name = "linear_gan"
    Config = LinearGANConfig

    def __init__(self, cfg: LinearGANConfig, image_shape: ImageShape = MNIST_SHAPE):
        super().__init__()
        self.latent_dim, self.image_shape = cfg.latent_dim, tuple(image_shape)
        pixels = math.prod(image_shape)  # 784 for MNIST
        w1, w2, w3 = cfg.widths  # discriminator order; the generator mirrors it: 128, 256, 512
        slope = cfg.negative_slope
        self.generator = nn.Sequential(
            nn.Linear(cfg.latent_dim, w3), nn.LeakyReLU(slope),
            nn.Linear(w3, w2), nn.LeakyReLU(slope),
            nn.Linear(w2, w1), nn.LeakyReLU(slope),
            nn.Linear(w1, pixels), nn.Tanh(),
        )
        self.discriminator = nn.Sequential(
            nn.Flatten(),
            nn.Linear(pixels, w1), nn.LeakyReLU(slope), Dropout(cfg.dropout),
            nn.Linear(w1, w2), nn.LeakyReLU(slope), Dropout(cfg.dropout),
            nn.Linear(w2, w3), nn.LeakyReLU(slope), Dropout(cfg.dropout),
            nn.Linear(w3, 1),  # a raw output (a logit for BCE losses, a critic's value for WGAN-GP)
        )
        self.init_ema(cfg.ema_decay)


MODEL = LinearGAN
