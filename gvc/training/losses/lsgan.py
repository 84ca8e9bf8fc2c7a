"""The least-squares GAN loss (Mao et al. 2017, the 0-1 coding a = 0, b = c = 1) on D's raw output."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gvc.training.losses.base import GANLossConfig, GANLoss
from gvc.training.losses.hinge import RAW_UNITS, mean_outputs


def d_loss(out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
    """½ E[(D(x) − 1)²] + ½ E[D(G(z))²]."""
    return 0.5 * (out_real - 1.0).pow(2).mean() + 0.5 * out_fake.pow(2).mean()


def g_loss(out_real: torch.Tensor, out_gen: torch.Tensor) -> torch.Tensor:
    """½ E[(D(G(z)) − 1)²]."""
    return 0.5 * (out_gen - 1.0).pow(2).mean()


@dataclass
class LSGANConfig(GANLossConfig):
    name: str = "lsgan"


LOSS = GANLoss(
    name="lsgan", family="gan", Config=LSGANConfig, losses=RAW_UNITS,
    summary="least squares: D regresses real to 1 and fake to 0, G regresses its fakes to 1 (Mao et al. 2017)",
    d_loss=d_loss, g_loss=g_loss, diagnostics=mean_outputs,
)
