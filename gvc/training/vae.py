"""One VAE step and the test-split ELBO: Bernoulli likelihood (BCE summed over pixels) + KL to N(0, I)."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from gvc.models import VAE


def negative_elbo(model: VAE | Callable, x: torch.Tensor, autocast) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed over the batch: (BCE, KL), in nats. The loss is computed in float32 outside autocast."""
    with autocast():
        recon, mu, logvar = model(x)
    recon, mu, logvar = recon.float(), mu.float(), logvar.float()
    # torch's BCE (logs clamped at -100, a NaN-free backward when the Sigmoid saturates), as the notebooks.
    # It raises on NaN probabilities; the loop reports that as divergence.
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce, kl


class VAEStep:
    loss_names = ("loss", "bce", "kl")

    def __init__(self, model: VAE, optimizers: dict[str, torch.optim.Optimizer], autocast, compile: bool = False):
        self.model, self.autocast, self.opt = model, autocast, optimizers["vae"]
        self.forward = torch.compile(model) if compile else model

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        bce, kl = negative_elbo(self.forward, x, self.autocast)
        loss = bce + kl  # summed over the batch, as pytorch/examples' VAE; reported per image below
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        b = x.shape[0]
        return {"loss": loss.detach() / b, "bce": bce.detach() / b, "kl": kl.detach() / b}


@torch.no_grad()
def test_negative_elbo(model: VAE, data: torch.Tensor, batch_size: int, autocast) -> dict[str, float]:
    """Per-image −ELBO (and its BCE and KL parts) on held-out data, in eval mode (no dropout)."""
    was_training = model.training
    model.eval()
    totals = torch.zeros(2, device=data.device)
    for i in range(0, len(data), batch_size):
        bce, kl = negative_elbo(model, data[i : i + batch_size], autocast)
        totals += torch.stack([bce, kl])
    model.train(was_training)
    bce, kl = (totals / len(data)).tolist()
    return {"test_loss": bce + kl, "test_bce": bce, "test_kl": kl}
