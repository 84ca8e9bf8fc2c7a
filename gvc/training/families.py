"""The training side of each model family, looked up once by `model.family`: its step and its optimised parts.

Non-training facts of a family (loss names, default objective) are in gvc/facts.py. A new family is one
entry here, one in gvc/facts.py, and a step class beside gan.py / vae.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from gvc.facts import FAMILIES as FACTS
from gvc.facts import FamilyFacts
from gvc.training.gan import GANStep
from gvc.training.losses.decoders import attach
from gvc.training.vae import VAEStep


@dataclass(frozen=True)
class Family:
    step: type  # step(model, optimizers, autocast, compile=..., loss=LossConfig)(batch, step_index) -> losses
    parts: Callable[[nn.Module], dict[str, nn.Module]]  # one optimiser per part, keyed as in checkpoints
    facts: FamilyFacts
    # What the objective gives the model's outputs (a VAE's decoder likelihood), attached wherever a model is built
    # (gvc/training/rebuild.py), and how to restore what training learned of it from a checkpoint's step_state.
    equip: Callable[[nn.Module, Any, Any], None] = lambda model, loss, device: None  # (model, LossConfig, device)
    restore_outputs: Callable[[nn.Module, dict[str, Any]], None] = lambda model, step_state: None


FAMILIES: dict[str, Family] = {
    "gan": Family(GANStep, lambda m: {"generator": m.generator, "discriminator": m.discriminator}, FACTS["gan"]),
    "vae": Family(VAEStep, lambda m: {"vae": m}, FACTS["vae"], equip=attach,
                  restore_outputs=lambda m, step_state: m.likelihood.load_state_dict(step_state)),
}


def family(model: nn.Module) -> Family:
    """The family table entry of a model (by its `family` attribute)."""
    name = getattr(model, "family", None)
    if name not in FAMILIES:
        raise ValueError(f"{type(model).__name__}.family={name!r}; known families: {sorted(FAMILIES)}")
    return FAMILIES[name]
