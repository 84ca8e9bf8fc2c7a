"""The decoder likelihood a VAE objective trains with (`loss.likelihood`), built on gvc/likelihoods.py.

The decoder's output (through its Sigmoid, in [0, 1]) is the likelihood's parameter: the Bernoulli mean (the
paper's), the continuous Bernoulli's λ (its image is the mean E[x], not λ), or the Gaussian's mean (σ fixed by
`loss.sigma` or learned). The VAE carries it (`model.likelihood`, attached by `attach` wherever a model is
built: gvc/training/rebuild.py), so its test −ELBO, its evaluation and its samples are in its own likelihood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from gvc import likelihoods


@dataclass
class DecoderLikelihood:
    name: str
    rec_name: str  # the reconstruction term's history.csv column (bce for the paper's Bernoulli)
    nll: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (decoder output, x) -> Σ −log p(x | z), nats
    mean: Callable[[torch.Tensor], torch.Tensor] | None = None  # decoder output -> the image it means
    log_sigma: nn.Parameter | None = None  # a learned Gaussian σ (the objective's state; optimised with the VAE)
    normalised: bool = True  # a proper density of pixel values (the paper's Bernoulli on grey pixels is not)

    def image(self, out: torch.Tensor) -> torch.Tensor:
        return out if self.mean is None else self.mean(out).to(out.dtype)

    def state_dict(self) -> dict[str, Any]:
        """What training learned beyond the networks: a learned Gaussian σ (checkpoints' `step_state`)."""
        return {} if self.log_sigma is None else {"log_sigma": self.log_sigma.detach().cpu()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "log_sigma" in state and self.log_sigma is not None:
            with torch.no_grad():
                self.log_sigma.copy_(state["log_sigma"])


def rec_name(likelihood: str) -> str:
    """The reconstruction term's column: the paper's `bce` for the Bernoulli, `rec_nll` for the others."""
    return "bce" if likelihood == "bernoulli" else "rec_nll"


def make_likelihood(name: str, sigma: float | None, device: torch.device | str = "cpu") -> DecoderLikelihood:
    if name == "bernoulli":
        return DecoderLikelihood(name, rec_name(name), likelihoods.bernoulli_nll, normalised=False)
    if name == "continuous_bernoulli":
        return DecoderLikelihood(name, rec_name(name), likelihoods.continuous_bernoulli_nll,
                                 mean=likelihoods.continuous_bernoulli_mean)
    if name == "gaussian":
        if sigma is not None:
            log_sigma = math.log(sigma)
            return DecoderLikelihood(name, rec_name(name), lambda mean, x: likelihoods.gaussian_nll(mean, x, log_sigma))
        # One σ for all pixels, learned; starts at 0.1 (pixels in [0, 1]).
        param = nn.Parameter(torch.full((), math.log(0.1), device=device))
        return DecoderLikelihood(name, rec_name(name), lambda mean, x: likelihoods.gaussian_nll(mean, x, param),
                                 log_sigma=param)
    raise ValueError(f"unknown decoder likelihood {name!r}")


BERNOULLI = make_likelihood("bernoulli", None)


def attach(model: nn.Module, loss: Any, device: torch.device | str = "cpu") -> None:
    """Give a VAE the decoder likelihood its objective (`loss`, a VAELossConfig) trains: its outputs mean that."""
    model.likelihood = make_likelihood(loss.likelihood, loss.sigma, device)


def units(likelihood: DecoderLikelihood) -> str:
    """The unit of its bounds: nats per image of *this* likelihood (not comparable across likelihoods)."""
    return f"nats per image ({likelihood.name} likelihood)"
