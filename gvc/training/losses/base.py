"""What every training loss declares: its config, the family it trains, and the loss names it logs with their units."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from gvc.knobs import NO_PAPER_VALUE

AUTO = "auto"
# The paper's loss per model family: what `loss=auto` (the default) trains.
PAPER_LOSS = {"gan": "ns", "vae": "elbo"}


@dataclass
class LossConfig:
    """The `loss` group's shared key; a loss's knobs go in its subclass, beside its loss function."""

    name: str = AUTO

    def check(self) -> list[tuple[str, bool, str]]:
        """(key, ok, what is allowed) range checks; subclasses add theirs."""
        return []


@dataclass
class GANLossConfig(LossConfig):
    d_steps: int = field(default=1, metadata={"hyperparameter": True, "paper": 1,
                                              "help": "discriminator updates per generator update"})
    # The penalties' weight knobs (gvc/training/losses/penalties.py), so any penalty combines with any GAN loss.
    r1_gamma: float = field(default=0.0, metadata={"hyperparameter": True, "paper": 0.0,
                                                   "help": "R1 penalty weight (Mescheder et al. 2018); 0 = off"})
    gp_weight: float = field(default=0.0, metadata={"hyperparameter": True, "paper": 0.0,
                                                    "help": "WGAN-GP gradient-penalty weight lambda; 0 = off"})

    def check(self) -> list[tuple[str, bool, str]]:
        return super().check() + [
            ("d_steps", self.d_steps >= 1, "a positive integer (discriminator updates per generator update)"),
            ("r1_gamma", self.r1_gamma >= 0.0, "a non-negative penalty weight (0 = no R1 penalty)"),
            ("gp_weight", self.gp_weight >= 0.0, "a non-negative penalty weight (0 = no gradient penalty)"),
        ]


LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian")


@dataclass
class VAELossConfig(LossConfig):
    likelihood: str = field(default="bernoulli", metadata={
        "hyperparameter": True, "paper": "bernoulli", "help": "decoder likelihood: " + ", ".join(LIKELIHOODS)})
    # Gaussian only: a fixed sigma (pixels in [0, 1]); null = one sigma learned with the model.
    sigma: Optional[float] = field(default=None, metadata={"paper": NO_PAPER_VALUE})

    def check(self) -> list[tuple[str, bool, str]]:
        return super().check() + [
            ("likelihood", self.likelihood in LIKELIHOODS, f"one of {list(LIKELIHOODS)}"),
            ("sigma", self.sigma is None or self.sigma > 0, "null (learned) or a positive fixed sigma"),
        ]


@dataclass(frozen=True)
class Loss:
    name: str
    family: str  # "gan" or "vae": the family of models it can train
    Config: type[LossConfig]
    # history.csv columns it logs, with their units; `training_curves` are never quality metrics.
    losses: dict[str, str]
    summary: str  # one line for the README and the report


Tensor = "torch.Tensor"  # annotations only: this module imports no torch


@dataclass(frozen=True)
class GANLoss(Loss):
    """A GAN loss as pure functions of D's outputs (logits: the models have no final sigmoid): D(x) and D(G(z)) for
    D's update, D(x) and D(G(z)) for G's (a relativistic loss compares them). Penalties are their own axis."""

    d_loss: Callable = None  # (out_real, out_fake) -> D's loss (mean over the batch)
    # (out_real, out_gen) -> G's loss; out_real is D(x) of this step's D update, detached (G's gradient flows
    # through D(G(z)) only)
    g_loss: Callable = None
    diagnostics: Callable = None  # (out_real, out_fake) -> {name: value} for history.csv


# Loss names every GAN loss logs (the penalties add theirs).
GAN_LOSS_UNITS = {"loss_d": "objective value", "loss_g": "objective value"}


@dataclass(frozen=True)
class VAELoss(Loss):
    """A VAE loss: the ELBO's KL weight at a step, or k importance samples (the reconstruction term's
    name and unit come from the decoder likelihood, gvc/training/losses/decoders.py)."""

    kl_weight: Callable = lambda cfg, step: 1.0  # (config, step) -> weight of the KL term
    samples: Callable = lambda cfg: 0  # (config) -> k importance samples; 0 = the (weighted) ELBO
