"""Small building blocks shared by the four architectures."""

from __future__ import annotations

import torch
from torch import nn


class Dropout(nn.Module):
    """Element-wise inverted dropout, the same distribution as `nn.Dropout`.

    Why not `nn.Dropout`: on CPU torch draws its Bernoulli mask on a single thread (~20% of the linear GAN's
    step); a mask from `rand_like(x) >= p` is drawn in parallel and is measurably faster.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Reshape(nn.Module):
    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
