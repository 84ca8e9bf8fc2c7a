"""The decoder likelihoods: the continuous-Bernoulli normaliser and mean against numerical integration."""

import math

import torch

from gvc.likelihoods import (bernoulli_nll, continuous_bernoulli_log_norm, continuous_bernoulli_mean,
                             continuous_bernoulli_nll, gaussian_nll)

LAMBDAS = torch.tensor([1e-3, 0.05, 0.3, 0.4951, 0.5, 0.5049, 0.7, 0.95, 0.999], dtype=torch.float64)


def _integrate(f, n: int = 200_001) -> torch.Tensor:
    """Trapezoid rule over x in [0, 1] for each λ (rows)."""
    x = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    return torch.trapezoid(f(x), x, dim=-1)


def test_continuous_bernoulli_density_integrates_to_one():
    lam = LAMBDAS[:, None]
    log_c = continuous_bernoulli_log_norm(LAMBDAS).double()[:, None]
    density = lambda x: torch.exp(log_c + x * torch.log(lam) + (1 - x) * torch.log1p(-lam))  # noqa: E731
    assert torch.allclose(_integrate(density), torch.ones(len(LAMBDAS), dtype=torch.float64), atol=1e-5)


def test_continuous_bernoulli_normaliser_is_two_at_one_half_and_smooth_across_the_series_switch():
    assert continuous_bernoulli_log_norm(torch.tensor([0.5], dtype=torch.float64)).item() == math.log(2.0)
    lam = torch.tensor([0.5 - 0.00501, 0.5 - 0.00499], dtype=torch.float32)  # either side of |1 - 2λ| = 1e-2
    a, b = continuous_bernoulli_log_norm(lam).tolist()
    assert abs(a - b) < 1e-6
    lam = torch.tensor([0.5, 0.3], requires_grad=True)
    continuous_bernoulli_log_norm(lam).sum().backward()
    assert torch.isfinite(lam.grad).all() and abs(lam.grad[0].item()) < 1e-6  # log C is flat at its minimum


def test_continuous_bernoulli_mean_matches_the_integral_of_x_times_the_density():
    lam = LAMBDAS[:, None]
    log_c = continuous_bernoulli_log_norm(LAMBDAS).double()[:, None]
    mean = _integrate(lambda x: x * torch.exp(log_c + x * torch.log(lam) + (1 - x) * torch.log1p(-lam)))
    assert torch.allclose(continuous_bernoulli_mean(LAMBDAS).double(), mean, atol=1e-4)


def test_continuous_bernoulli_nll_is_the_bce_minus_the_log_normaliser():
    lam, x = torch.tensor([[0.2, 0.9]]), torch.tensor([[0.0, 0.5]])
    expected = bernoulli_nll(lam, x) - continuous_bernoulli_log_norm(lam).sum()
    assert torch.allclose(continuous_bernoulli_nll(lam, x), expected)


def test_gaussian_nll_with_unit_sigma_is_half_the_squared_error_plus_the_constant():
    mean, x = torch.zeros(1, 4), torch.tensor([[1.0, -1.0, 2.0, 0.0]])
    expected = 0.5 * (1 + 1 + 4) + 4 * 0.5 * math.log(2 * math.pi)
    assert math.isclose(gaussian_nll(mean, x, 0.0).item(), expected, rel_tol=1e-6)
