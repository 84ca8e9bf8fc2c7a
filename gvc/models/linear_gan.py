"""Linear GAN (the paper's "GAN"): fully connected G and D, LeakyReLU(0.2), dropout in D only."""

from __future__ import annotations

from torch import nn

from gvc.models.base import GAN
from gvc.models.layers import Dropout


class LinearGAN(GAN):
    def __init__(self, latent_dim: int = 100, widths: list[int] = (512, 256, 128), dropout: float = 0.4,
                 negative_slope: float = 0.2):
        super().__init__()
        self.latent_dim = latent_dim
        w1, w2, w3 = widths  # discriminator order; the generator mirrors it: 128, 256, 512
        self.generator = nn.Sequential(
            nn.Linear(latent_dim, w3), nn.LeakyReLU(negative_slope),
            nn.Linear(w3, w2), nn.LeakyReLU(negative_slope),
            nn.Linear(w2, w1), nn.LeakyReLU(negative_slope),
            nn.Linear(w1, 784), nn.Tanh(),
        )
        self.discriminator = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, w1), nn.LeakyReLU(negative_slope), Dropout(dropout),
            nn.Linear(w1, w2), nn.LeakyReLU(negative_slope), Dropout(dropout),
            nn.Linear(w2, w3), nn.LeakyReLU(negative_slope), Dropout(dropout),
            nn.Linear(w3, 1),  # a logit: the loss is BCE-with-logits
        )
