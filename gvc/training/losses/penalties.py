"""Gradient penalties on the discriminator, an axis of their own (compare_gan's penalty_lib): WGAN-GP and R1.

Both differentiate D's output with respect to its input with create_graph=True, so D's update takes a second
backward pass through D (a double backward).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Callable

import torch


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


def r1(D: Callable, real: torch.Tensor, autocast=None) -> torch.Tensor:
    """E[‖∇D(x)‖₂²] on real images (Mescheder et al. 2018); the loss adds γ/2 times it."""
    grad = _input_gradient(D, real, autocast or nullcontext)
    return grad.pow(2).sum(dim=1).mean()
