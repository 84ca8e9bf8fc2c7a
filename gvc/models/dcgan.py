"""DCGAN as the notebooks built it: transposed-conv G without batchnorm, 4-conv D with Dropout2d.

The two bodies are also the convolutional VAE's encoder and decoder.
"""

from __future__ import annotations

from torch import nn

from gvc.models.base import GAN
from gvc.models.layers import Reshape


def conv_body(widths: list[int], dropout: float, negative_slope: float) -> nn.Sequential:
    """1x28x28 -> widths[3]x7x7, flattened. Conv(cin, cout, kernel 3, stride, padding 1)."""
    c1, c2, c3, c4 = widths  # 32, 64, 128, 256
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, 2, 1), nn.LeakyReLU(negative_slope), nn.Dropout2d(dropout),  # 14x14
        nn.Conv2d(c1, c2, 3, 1, 1), nn.LeakyReLU(negative_slope), nn.Dropout2d(dropout),
        nn.Conv2d(c2, c3, 3, 1, 1), nn.LeakyReLU(negative_slope), nn.Dropout2d(dropout),
        nn.Conv2d(c3, c4, 3, 2, 1), nn.LeakyReLU(negative_slope), nn.Dropout2d(dropout),  # 7x7
        nn.Flatten(),
    )


def deconv_body(latent_dim: int, widths: list[int], out_activation: nn.Module) -> nn.Sequential:
    """z -> Linear (no activation) -> widths[3]x7x7 -> 1x28x28. TConv(cin, cout, 3, stride, 1, output_padding)."""
    c1, c2, c3, c4 = widths  # encoder order; walked backwards: 256, 128, 64, 32
    return nn.Sequential(
        nn.Linear(latent_dim, c4 * 7 * 7), Reshape(c4, 7, 7),
        nn.ConvTranspose2d(c4, c3, 3, 2, 1, output_padding=1), nn.ReLU(),  # 14x14
        nn.ConvTranspose2d(c3, c2, 3, 1, 1), nn.ReLU(),
        nn.ConvTranspose2d(c2, c1, 3, 1, 1), nn.ReLU(),
        nn.ConvTranspose2d(c1, 1, 3, 2, 1, output_padding=1), out_activation,  # 28x28
    )


class DCGAN(GAN):
    def __init__(self, latent_dim: int = 100, widths: list[int] = (32, 64, 128, 256), dropout: float = 0.25,
                 negative_slope: float = 0.2):
        super().__init__()
        self.latent_dim = latent_dim
        self.generator = deconv_body(latent_dim, widths, nn.Tanh())
        self.discriminator = nn.Sequential(
            conv_body(widths, dropout, negative_slope),
            nn.Linear(widths[3] * 7 * 7, 1),  # a logit
        )
