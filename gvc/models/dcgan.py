"""DCGAN as the notebooks built it: transposed-conv G without batchnorm, 4-conv D with Dropout2d.

The two bodies are also the convolutional VAE's encoder and decoder. Both halve the image twice, so the
image's height and width must be divisible by 4 (28x28 -> 7x7).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from gvc.models.base import GAN, MNIST_SHAPE, GANConfig, ImageShape, ModelConfig
from gvc.knobs import ARCHITECTURE
from gvc.models.layers import Reshape


@dataclass
class ConvConfig(ModelConfig):
    """The knobs of both convolutional models (DCGAN, Conv VAE)."""

    widths: list[int] = field(default_factory=lambda: [32, 64, 128, 256], metadata=ARCHITECTURE)  # D / encoder channels
    dropout: float = 0.25  # Dropout2d after every D / encoder convolution
    negative_slope: float = 0.2

    def check(self) -> list[tuple[str, bool, str]]:
        return super().check() + [
            ("widths", len(self.widths) == 4 and all(w >= 1 for w in self.widths), "four positive channel counts"),
            ("dropout", 0.0 <= self.dropout < 1.0, "a probability in [0, 1)"),
            ("negative_slope", self.negative_slope >= 0.0, "a non-negative slope"),
        ]


def bottleneck(image_shape: ImageShape) -> tuple[int, int]:
    """The (height, width) after the two stride-2 convolutions: (7, 7) for 28x28 images."""
    _, height, width = image_shape
    if height % 4 or width % 4:
        raise ValueError(f"the convolutional models need image sides divisible by 4, got {height}x{width}")
    return height // 4, width // 4


def conv_body(widths: list[int], dropout: float, negative_slope: float,
              image_shape: ImageShape = MNIST_SHAPE) -> nn.Sequential:
    """CxHxW -> widths[3]x(H/4)x(W/4), flattened. Conv(cin, cout, kernel 3, stride, padding 1)."""
    c1, c2, c3, c4 = widths  # 32, 64, 128, 256
    return nn.Sequential(
        nn.Conv2d(image_shape[0], c1, 3, 2, 1), nn.LeakyReLU(negative_slope), nn.Dropout2d(dropout),  # 14x14
        nn.Conv2d(c1, c2, 3, 1, 1), nn.LeakyReLU(negative_slope), nn.Dropout2d(dropout),
        nn.Conv2d(c2, c3, 3, 1, 1), nn.LeakyReLU(negative_slope), nn.Dropout2d(dropout),
        nn.Conv2d(c3, c4, 3, 2, 1), nn.LeakyReLU(negative_slope), nn.Dropout2d(dropout),  # 7x7
        nn.Flatten(),
    )


def deconv_body(latent_dim: int, widths: list[int], out_activation: nn.Module,
                image_shape: ImageShape = MNIST_SHAPE) -> nn.Sequential:
    """z -> Linear (no activation) -> widths[3]x(H/4)x(W/4) -> CxHxW. TConv(cin, cout, 3, stride, 1, output_padding)."""
    c1, c2, c3, c4 = widths  # encoder order; walked backwards: 256, 128, 64, 32
    h, w = bottleneck(image_shape)
    return nn.Sequential(
        nn.Linear(latent_dim, c4 * h * w), Reshape(c4, h, w),
        nn.ConvTranspose2d(c4, c3, 3, 2, 1, output_padding=1), nn.ReLU(),  # 14x14
        nn.ConvTranspose2d(c3, c2, 3, 1, 1), nn.ReLU(),
        nn.ConvTranspose2d(c2, c1, 3, 1, 1), nn.ReLU(),
        nn.ConvTranspose2d(c1, image_shape[0], 3, 2, 1, output_padding=1), out_activation,  # 28x28
    )


@dataclass
class DCGANConfig(ConvConfig, GANConfig):
    """The convolutional knobs and the GAN's (ema_decay)."""


class DCGAN(GAN):
    name = "dcgan"
    Config = DCGANConfig

    def __init__(self, cfg: DCGANConfig, image_shape: ImageShape = MNIST_SHAPE):
        super().__init__()
        self.latent_dim, self.image_shape = cfg.latent_dim, tuple(image_shape)
        h, w = bottleneck(image_shape)
        self.generator = deconv_body(cfg.latent_dim, cfg.widths, nn.Tanh(), image_shape)
        self.discriminator = nn.Sequential(
            conv_body(cfg.widths, cfg.dropout, cfg.negative_slope, image_shape),
            nn.Linear(cfg.widths[3] * h * w, 1),  # a raw output (a logit for BCE losses, a critic's value for WGAN-GP)
        )
        self.init_ema(cfg.ema_decay)


MODEL = DCGAN
