"""Decoder likelihoods on grey-level pixels in [0, 1], as log-densities summed over pixels (nats per image).

The paper's VAEs use BCE on grey pixels: a Bernoulli "likelihood" of values that are not binary, which is not a
normalised density on [0, 1] (Loaiza-Ganem & Cunningham 2019). The continuous Bernoulli adds the log-normaliser
log C(λ) and is a proper density on [0, 1]^D, so bounds computed with it are comparable across decoders.
Training objectives (gvc/training/losses/) and the evaluation's likelihood scale both use these functions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG2 = math.log(2.0)
# |1 - 2λ| below this uses the Taylor series of log C (the closed form is 0/0 at λ = 1/2).
_TAYLOR_BELOW = 1e-2
# λ is kept this far from 0 and 1: log C(λ) diverges there (like the BCE's clamped logs, a finite stand-in).
LAMBDA_EPS = 1e-6


def _full(t: torch.Tensor) -> torch.Tensor:
    """float32 at least (losses are computed outside autocast); float64 stays float64."""
    return t if t.dtype == torch.float64 else t.float()


def continuous_bernoulli_log_norm(lam: torch.Tensor) -> torch.Tensor:
    """log C(λ), element-wise, where C(λ) = 2 artanh(1 − 2λ) / (1 − 2λ) (and C(1/2) = 2).

    Near λ = 1/2 the series log 2 + log(1 + x²/3 + x⁴/5) with x = 1 − 2λ (error below x⁶/7 ≈ 1e-12) keeps the
    value and its gradient finite.
    """
    lam = _full(lam).clamp(LAMBDA_EPS, 1.0 - LAMBDA_EPS)
    x = 1.0 - 2.0 * lam
    far = x.abs() >= _TAYLOR_BELOW
    x_far = torch.where(far, x, torch.full_like(x, 0.5))  # any safe value: this branch is discarded there
    closed = torch.log(2.0 * torch.atanh(x_far) / x_far)
    x2 = x * x
    series = LOG2 + torch.log1p(x2 / 3.0 + x2 * x2 / 5.0)
    return torch.where(far, closed, series)


def bernoulli_nll(mean: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Σ BCE(mean, x) over the batch: the paper's reconstruction term (torch clamps its logs at −100)."""
    return F.binary_cross_entropy(_full(mean), _full(x).to(_full(mean).dtype), reduction="sum")


def continuous_bernoulli_nll(lam: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Σ −log CB(x | λ) over the batch: the Bernoulli cross-entropy minus the log-normaliser."""
    lam = _full(lam).clamp(LAMBDA_EPS, 1.0 - LAMBDA_EPS)
    return bernoulli_nll(lam, x) - continuous_bernoulli_log_norm(lam).sum()


def continuous_bernoulli_mean(lam: torch.Tensor) -> torch.Tensor:
    """E[x] under CB(λ): λ/(2λ − 1) + 1/(2 artanh(1 − 2λ)), and 1/2 at λ = 1/2 (the image a CB decoder means)."""
    lam = _full(lam).clamp(LAMBDA_EPS, 1.0 - LAMBDA_EPS)
    x = 1.0 - 2.0 * lam
    far = x.abs() >= _TAYLOR_BELOW
    lam_far = torch.where(far, lam, torch.full_like(lam, 0.25))
    closed = lam_far / (2.0 * lam_far - 1.0) + 1.0 / (2.0 * torch.atanh(1.0 - 2.0 * lam_far))
    # Series about λ = 1/2: mean = 1/2 − x/6 + O(x³), with x = 1 − 2λ (mean rises with λ).
    series = 0.5 - x / 6.0
    return torch.where(far, closed, series)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, log_sigma: torch.Tensor | float) -> torch.Tensor:
    """Σ −log N(x | mean, σ²) over the batch, with σ fixed (a float) or learned (a tensor broadcast to x)."""
    mean = _full(mean)
    x = x.to(mean.dtype)
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    per_pixel = 0.5 * ((x - mean) / log_sigma.exp()) ** 2 + log_sigma + 0.5 * math.log(2 * math.pi)
    return per_pixel.expand_as(x).sum()
