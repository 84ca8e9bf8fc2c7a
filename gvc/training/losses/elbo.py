"""The paper's VAE objective, the negative ELBO (Kingma & Welling 2014), with β (Higgins et al. 2017) on the KL
term and an optional linear KL warm-up (Bowman et al. 2016): loss = rec + β·w(step)·KL, w rising 0 → 1 over
`loss.kl_warmup_steps` steps. β = 1 without warm-up is the true −ELBO."""

from __future__ import annotations

from dataclasses import dataclass, field

from gvc.training.losses.base import VAELossConfig, VAELoss


@dataclass
class ELBOConfig(VAELossConfig):
    name: str = "elbo"
    beta: float = field(default=1.0, metadata={"hyperparameter": True, "paper": 1.0, "help": "weight of the KL term"})
    kl_warmup_steps: int = field(default=0, metadata={
        "hyperparameter": True, "paper": 0, "help": "steps over which the KL weight rises linearly to beta; 0 = none"})

    def check(self) -> list[tuple[str, bool, str]]:
        return super().check() + [
            ("beta", self.beta >= 0.0, "a non-negative KL weight (1 = the true ELBO)"),
            ("kl_warmup_steps", self.kl_warmup_steps >= 0, "a non-negative number of steps (0 = no warm-up)"),
        ]


def kl_weight(cfg: ELBOConfig, step: int) -> float:
    """β times the warm-up's share at this (0-based) step."""
    if cfg.kl_warmup_steps <= 0:
        return cfg.beta
    return cfg.beta * min(1.0, (step + 1) / cfg.kl_warmup_steps)


LOSS = VAELoss(
    name="elbo", family="vae", Config=ELBOConfig,
    losses={"loss": "nats per image (the trained objective: rec + beta KL)", "kl": "nats per image"},
    summary="negative ELBO (the paper's), beta on the KL term, optional linear KL warm-up",
    kl_weight=kl_weight,
)
