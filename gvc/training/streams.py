"""A trial's own random stream: torch's default generators, swapped in around the trial's work.

Step code draws with torch's default generator (`torch.randn`, nn.Dropout, the VAE's reparameterisation), so
a new loss needs nothing special to be reproducible. Each trial holds its own state of that generator (the
CPU one, and the CUDA one when it trains on CUDA) and swaps it in around every piece of its own work (a
training step, the test -ELBO, model construction) and out again afterwards (about 2 µs a swap), so two
trials in one process, interleaved step by step, draw exactly what each draws alone. The stream starts
where `torch.manual_seed(trainer.seed)` would put it, so a trial trains as a seeded process always did.
Data order and the fixed latents have generators of their own (gvc.training.loop). MPS streams are not
swapped: trials sharing a process on MPS perturb each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch


class TrialRandom:
    """The trial's states of torch's default CPU (and CUDA) generators, checkpointed with the trial."""

    def __init__(self, seed: int, device: torch.device):
        self.seed = seed
        self.device = device if device.type == "cuda" else None
        self.cpu = torch.Generator().manual_seed(seed).get_state()
        self.cuda: torch.Tensor | None = None  # seeded on first use, on the trial's device

    @contextmanager
    def owned(self) -> Iterator[None]:
        """Run the body on this trial's stream; the stream that was active before is restored afterwards."""
        outer_cpu = torch.get_rng_state()
        outer_cuda = torch.cuda.get_rng_state(self.device) if self.device is not None else None
        torch.set_rng_state(self.cpu)
        if self.device is not None:
            if self.cuda is None:
                with torch.cuda.device(self.device):
                    torch.cuda.manual_seed(self.seed)
            else:
                torch.cuda.set_rng_state(self.cuda, self.device)
        try:
            yield
        finally:
            self.cpu = torch.get_rng_state()
            torch.set_rng_state(outer_cpu)
            if self.device is not None:
                self.cuda = torch.cuda.get_rng_state(self.device)
                torch.cuda.set_rng_state(outer_cuda, self.device)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"torch": self.cpu.clone()}
        if self.cuda is not None:
            state["cuda"] = self.cuda.clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a checkpoint's streams (older checkpoints hold the process's global ones: the same keys)."""
        self.cpu = state["torch"].clone()
        cuda = state.get("cuda")
        if self.device is not None and cuda is not None:
            # Older checkpoints saved every device's state as a list; the trial's device comes first there.
            self.cuda = (cuda[self.device.index or 0] if isinstance(cuda, (list, tuple)) else cuda).clone()
