"""The hinge GAN loss (Lim & Ye 2017; Miyato et al. 2018): D's margins at ±1 on its raw output, G raises it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gvc.training.losses.base import GANLossConfig, GANLoss


def d_loss(out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1.0 - out_real).mean() + F.relu(1.0 + out_fake).mean()


def g_loss(out_real: torch.Tensor, out_gen: torch.Tensor) -> torch.Tensor:
    """−E[D(G(z))]."""
    return -out_gen.mean()


def mean_outputs(out_real: torch.Tensor, out_fake: torch.Tensor) -> dict[str, torch.Tensor]:
    """D's mean raw output on real and on fake images, and the share of both it classifies right (sign)."""
    accuracy = ((out_real > 0).float().mean() + (out_fake < 0).float().mean()) / 2
    return {"d_real": out_real.mean(), "d_fake": out_fake.mean(), "d_acc": accuracy}


RAW_UNITS = {"loss_d": "objective value", "loss_g": "objective value", "d_real": "critic output",
             "d_fake": "critic output", "d_acc": "share"}


@dataclass
class HingeConfig(GANLossConfig):
    name: str = "hinge"


LOSS = GANLoss(
    name="hinge", family="gan", Config=HingeConfig, losses=RAW_UNITS,
    summary="hinge: D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], G maximises E[D(G(z))]",
    d_loss=d_loss, g_loss=g_loss, diagnostics=mean_outputs,
)
