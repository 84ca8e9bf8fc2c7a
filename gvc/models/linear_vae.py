"""Linear VAE: MLP encoder to (mean, log-variance), MLP decoder with a Sigmoid (Bernoulli means)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from torch import nn

from gvc.knobs import ARCHITECTURE
from gvc.models.base import MNIST_SHAPE, VAE, ImageShape, ModelConfig
from gvc.models.layers import Dropout


@dataclass
class LinearVAEConfig(ModelConfig):
    widths: list[int] = field(default_factory=lambda: [512, 128], metadata=ARCHITECTURE)  # encoder order; the decoder mirrors it
    dropout: float = 0.0  # the paper has none; > 0 adds dropout after each encoder hidden layer
    negative_slope: float = 0.0  # unused (the notebooks use ReLU); kept so old runs' configs still load

    def check(self) -> list[tuple[str, bool, str]]:
        return super().check() + [
            ("widths", len(self.widths) == 2 and all(w >= 1 for w in self.widths), "two positive layer widths"),
            ("dropout", 0.0 <= self.dropout < 1.0, "a probability in [0, 1)"),
            ("negative_slope", self.negative_slope >= 0.0, "a non-negative slope"),
        ]


class LinearVAE(VAE):
    name = "linear_vae"
    Config = LinearVAEConfig

    def __init__(self, cfg: LinearVAEConfig, image_shape: ImageShape = MNIST_SHAPE):
        super().__init__()
        self.latent_dim, self.image_shape = cfg.latent_dim, tuple(image_shape)
        pixels = math.prod(image_shape)  # 784 for MNIST
        w1, w2 = cfg.widths  # encoder order; the decoder mirrors it: 128, 512
        self.encoder = nn.Sequential(
            nn.Flatten(),
            nn.Linear(pixels, w1), nn.ReLU(), Dropout(cfg.dropout),
            nn.Linear(w1, w2), nn.ReLU(), Dropout(cfg.dropout),
            nn.Linear(w2, 2 * cfg.latent_dim),  # mean, log-variance
        )
        self.decoder = nn.Sequential(
            nn.Linear(cfg.latent_dim, w2), nn.ReLU(),
            nn.Linear(w2, w1), nn.ReLU(),
            nn.Linear(w1, pixels), nn.Sigmoid(),
        )


MODEL = LinearVAE
