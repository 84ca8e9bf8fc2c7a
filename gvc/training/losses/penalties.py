"""Gradient penalties on the discriminator, an axis of their own (compare_gan's penalty_lib): registered specs,
combinable with any GAN loss. A penalty is on when its weight knob (a key of every GAN loss's config,
gvc/training/losses/base.py) is above 0; the step adds `scale × weight × value` to D's loss and logs the value.

Both shipped penalties differentiate D's output with respect to its input with create_graph=True, so D's update
takes a second backward pass through D (a double backward), which torch.compile does not support.
Adding one is a Penalty in PENALTIES here and its weight knob on GANLossConfig.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable

import torch


@dataclass(frozen=True)
class Penalty:
    name: str  # its history.csv column
    fn: Callable  # (D, real, fake, autocast) -> the penalty's value (a scalar tensor)
    weight: str  # the loss config's key that holds its weight (0 = off)
    unit: str  # the unit of its logged value (summary.json `loss.units`)
    scale: float = 1.0  # D's loss adds scale * weight * value (R1's γ/2)
    double_backward: bool = True  # differentiates through D's input gradient

    def weight_of(self, loss: Any) -> float:
        return float(getattr(loss, self.weight, 0.0))


def _input_gradient(D: Callable, x: torch.Tensor, autocast) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    with autocast():
        out = D(x).float()
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.flatten(1).float()


def wgan_gp(D: Callable, real: torch.Tensor, fake: torch.Tensor, autocast=None) -> torch.Tensor:
    """E[(‖∇D(x̂)‖₂ − 1)²] at x̂ uniformly between real and fake images (Gulrajani et al. 2017, eq. 3)."""
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    between = eps * real.detach() + (1.0 - eps) * fake.detach()
    grad = _input_gradient(D, between, autocast or nullcontext)
    return (grad.norm(2, dim=1) - 1.0).pow(2).mean()


def r1(D: Callable, real: torch.Tensor, fake: torch.Tensor | None = None, autocast=None) -> torch.Tensor:
    """E[‖∇D(x)‖₂²] on real images (Mescheder et al. 2018); the loss adds γ/2 times it."""
    grad = _input_gradient(D, real, autocast or nullcontext)
    return grad.pow(2).sum(dim=1).mean()


# In the order D's loss adds them.
PENALTIES: dict[str, Penalty] = {p.name: p for p in (
    Penalty("gp", wgan_gp, "gp_weight", "squared gradient-norm excess"),
    Penalty("r1", r1, "r1_gamma", "squared gradient norm", scale=0.5),
)}


def active(loss: Any) -> list[Penalty]:
    """The penalties a GAN loss config turns on (weight > 0), in PENALTIES order."""
    return [p for p in PENALTIES.values() if p.weight_of(loss) > 0]


def needs_double_backward(loss: Any) -> bool:
    """Whether D's update under this loss config takes a double backward (refused under torch.compile)."""
    return any(p.double_backward for p in active(loss))
