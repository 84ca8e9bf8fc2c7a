"""WGAN-GP (Gulrajani et al. 2017): a critic with unbounded output and a gradient penalty towards norm 1.

The models' discriminators already output a raw number (no sigmoid), which is what a critic must be. The paper
used no batch norm in the critic (the penalty is per image); gvc's discriminators have none. Its loss is not a
quality measure: `wasserstein` (E[D(x)] − E[D(G(z))]) is the critic's estimate, a training curve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from gvc.knobs import NO_PAPER_VALUE
from gvc.training.losses.base import GANLossConfig, GANLoss


def d_loss(out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
    """E[D(G(z))] − E[D(x)] (the penalty is added by the step)."""
    return out_fake.mean() - out_real.mean()


def g_loss(out_real: torch.Tensor, out_gen: torch.Tensor) -> torch.Tensor:
    """−E[D(G(z))]."""
    return -out_gen.mean()


def wasserstein_estimate(out_real: torch.Tensor, out_fake: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"wasserstein": out_real.mean() - out_fake.mean()}


@dataclass
class WGANGPConfig(GANLossConfig):
    name: str = "wgan_gp"
    gp_weight: float = field(default=10.0, metadata={"paper": NO_PAPER_VALUE,  # the paper trains no WGAN
                                                     "help": "lambda, the gradient-penalty weight"})


LOSS = GANLoss(
    name="wgan_gp", family="gan", Config=WGANGPConfig,
    losses={"loss_d": "critic units", "loss_g": "critic units", "wasserstein": "critic units"},  # + the penalty's gp
    summary="WGAN-GP: a Wasserstein critic with a gradient penalty (weight loss.gp_weight, 10 as Gulrajani et al.)",
    d_loss=d_loss, g_loss=g_loss, diagnostics=wasserstein_estimate,
)
