"""`trainer.device` as a torch device: `auto` is CUDA, else MPS, else the CPU; a named one must exist here.

Its own module (torch only), so that the command line can refuse a device before Hydra runs, and re-evaluation
can choose one, without importing the training loop and everything it trains with.
"""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """The device `name` (auto | cpu | cuda | cuda:N | mps) means here; ValueError naming the fix if it is absent."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"trainer.device={name!r} but CUDA is not available here; use trainer.device=auto or cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"trainer.device={name!r} but MPS is not available here; use trainer.device=auto or cpu")
    return device
