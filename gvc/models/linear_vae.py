"""Linear VAE: MLP encoder to (mean, log-variance), MLP decoder with a Sigmoid (Bernoulli means)."""

from __future__ import annotations

from torch import nn

from gvc.models.base import VAE
from gvc.models.layers import Dropout


class LinearVAE(VAE):
    def __init__(self, latent_dim: int = 16, widths: list[int] = (512, 128), dropout: float = 0.0,
                 negative_slope: float = 0.0):
        super().__init__()
        del negative_slope  # the notebooks use ReLU here; the key exists for a uniform model schema
        self.latent_dim = latent_dim
        w1, w2 = widths  # encoder order; the decoder mirrors it: 128, 512
        self.encoder = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, w1), nn.ReLU(), Dropout(dropout),
            nn.Linear(w1, w2), nn.ReLU(), Dropout(dropout),
            nn.Linear(w2, 2 * latent_dim),  # mean, log-variance
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, w2), nn.ReLU(),
            nn.Linear(w2, w1), nn.ReLU(),
            nn.Linear(w1, 784), nn.Sigmoid(),
        )
