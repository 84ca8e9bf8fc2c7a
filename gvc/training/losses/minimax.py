"""The saturating (minimax) GAN loss of Goodfellow et al. 2014, eq. 1: G minimises log(1 − D(G(z)))."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gvc.training.losses.base import GANLossConfig, GANLoss
from gvc.training.losses.ns import BCE_UNITS, d_loss, probabilities


def g_loss(logit_real: torch.Tensor, logit_gen: torch.Tensor) -> torch.Tensor:
    """log(1 − D(G(z))) = −BCE(logit, 0): its gradient vanishes while D rejects the fakes (why ns exists)."""
    return -F.binary_cross_entropy_with_logits(logit_gen, torch.zeros_like(logit_gen))


@dataclass
class MinimaxConfig(GANLossConfig):
    name: str = "minimax"


LOSS = GANLoss(
    name="minimax", family="gan", Config=MinimaxConfig, losses=BCE_UNITS,
    summary="saturating minimax BCE: G minimises log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1)",
    d_loss=d_loss, g_loss=g_loss, diagnostics=probabilities,
)
