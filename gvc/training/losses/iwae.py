"""The importance-weighted bound (Burda et al. 2016) as the training loss: −log (1/k) Σᵢ p(x, zᵢ) / q(zᵢ | x)
with k samples per image; k = 1 is the ELBO. Tighter than the ELBO for k > 1, at k decoder passes per image."""

from __future__ import annotations

from dataclasses import dataclass, field

from gvc.knobs import NO_PAPER_VALUE
from gvc.training.losses.base import VAELossConfig, VAELoss


@dataclass
class IWAEConfig(VAELossConfig):
    name: str = "iwae"
    k: int = field(default=5, metadata={"paper": NO_PAPER_VALUE,  # the paper trains no IWAE
                                        "help": "importance samples per image (1 = the ELBO)"})

    def check(self) -> list[tuple[str, bool, str]]:
        return super().check() + [("k", self.k >= 1, "a positive number of importance samples (1 = the ELBO)")]


LOSS = VAELoss(
    name="iwae", family="vae", Config=IWAEConfig,
    losses={"loss": "nats per image (the negative k-sample bound)", "kl": "nats per image"},
    summary="importance-weighted bound with loss.k samples (Burda et al. 2016); k = 1 is the ELBO",
    samples=lambda cfg: cfg.k,
)
