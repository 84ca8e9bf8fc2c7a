"""The model registry: adding a model is one file here and one YAML in conf/model/."""

from __future__ import annotations

from gvc.models.base import GAN, VAE
from gvc.models.conv_vae import ConvVAE
from gvc.models.dcgan import DCGAN
from gvc.models.linear_gan import LinearGAN
from gvc.models.linear_vae import LinearVAE

MODELS: dict[str, type[GAN] | type[VAE]] = {
    "linear_gan": LinearGAN,
    "dcgan": DCGAN,
    "linear_vae": LinearVAE,
    "conv_vae": ConvVAE,
}


def build_model(name: str, latent_dim: int, widths: list[int], dropout: float, negative_slope: float) -> GAN | VAE:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](latent_dim=latent_dim, widths=list(widths), dropout=dropout, negative_slope=negative_slope)


__all__ = ["GAN", "VAE", "MODELS", "build_model"]
