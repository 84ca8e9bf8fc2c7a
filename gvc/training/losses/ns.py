"""The paper's GAN loss: BCE for D, the non-saturating BCE for G (Goodfellow et al. 2014, section 3)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gvc.training.losses.base import GANLossConfig, GANLoss


def d_loss(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    """−log D(x) − log(1 − D(G(z))), batch means, in nats."""
    return (F.binary_cross_entropy_with_logits(logit_real, torch.ones_like(logit_real))
            + F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake)))


def g_loss(logit_real: torch.Tensor, logit_gen: torch.Tensor) -> torch.Tensor:
    """−log D(G(z)): strong gradients while D rejects the fakes."""
    return F.binary_cross_entropy_with_logits(logit_gen, torch.ones_like(logit_gen))


def probabilities(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> dict[str, torch.Tensor]:
    """D's mean probability that real is real (d_real) and that fake is real (d_fake)."""
    return {"d_real": torch.sigmoid(logit_real).mean(), "d_fake": torch.sigmoid(logit_fake).mean()}


BCE_UNITS = {"loss_d": "nats", "loss_g": "nats", "d_real": "probability", "d_fake": "probability"}


@dataclass
class NSConfig(GANLossConfig):
    name: str = "ns"


LOSS = GANLoss(
    name="ns", family="gan", Config=NSConfig, losses=BCE_UNITS,
    summary="non-saturating BCE (the paper's): D maximises log D(x) + log(1 - D(G(z))), G maximises log D(G(z))",
    d_loss=d_loss, g_loss=g_loss, diagnostics=probabilities,
)
