"""Small exact statistics: metric directions, the expected best of n trials, and honest comparisons."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from gvc.facts import DIRECTIONS as METRIC_DIRECTIONS

MINIMIZE, MAXIMIZE = "minimize", "maximize"

# Which way is better: the evaluation's own table, plus the VAE losses and analysis' image proxies. A metric not
# listed here (and not any run's objective) has no "best": its cell stays blank.
DIRECTIONS = {
    **METRIC_DIRECTIONS,
    "test_loss": MINIMIZE, "test_bce": MINIMIZE, "loss": MINIMIZE, "bce": MINIMIZE,
    # image statistics computed by analysis.grids (proxies): less gray, fewer specks = closer to ink on paper
    "gray_fraction": MINIMIZE, "speckles": MINIMIZE,
}


def direction_of(metric: str, objective_directions: dict[str, str] | None = None) -> str | None:
    """A run's stated objective direction wins; then the table above; else None (no defined 'best')."""
    if objective_directions and metric in objective_directions:
        return objective_directions[metric]
    return DIRECTIONS.get(metric)


def better(a: float, b: float, direction: str) -> bool:
    return a < b if direction == MINIMIZE else a > b


def finite(values: Iterable[float]) -> np.ndarray:
    array = np.asarray([float(v) for v in values], dtype=float)
    return array[np.isfinite(array)]


def expected_best_of_n(values: Iterable[float], direction: str = MINIMIZE) -> tuple[np.ndarray, np.ndarray]:
    """Expected best value (and its standard deviation) of n trials drawn without replacement, n = 1..N.

    Exact, from order statistics (Lucic et al. 2018's budget view without resampling): sort the N values
    best first, v_(1) .. v_(N); the best of a random n-subset is v_(i) with probability C(N-i, n-1) / C(N, n),
    since the subset must contain the i-th value and n-1 of the N-i worse ones. Ties need no special care:
    tied values at adjacent ranks contribute the same value.
    """
    v = finite(values)
    if direction not in (MINIMIZE, MAXIMIZE):
        raise ValueError(f"direction must be {MINIMIZE!r} or {MAXIMIZE!r}, got {direction!r}")
    v = np.sort(v) if direction == MINIMIZE else -np.sort(-v)
    n_total = len(v)
    means, stds = np.empty(n_total), np.empty(n_total)
    for n in range(1, n_total + 1):
        # p_1 = C(N-1, n-1) / C(N, n) = n / N and p_(i+1) / p_i = (N-i-n+1) / (N-i): a product of ratios in
        # [0, 1] instead of huge binomials, so it stays accurate (and fast) for thousands of trials.
        i = np.arange(1, n_total - n + 1)
        p = (n / n_total) * np.concatenate([[1.0], np.cumprod((n_total - i - n + 1) / (n_total - i))])
        head = v[: len(p)]
        mean = float(np.dot(p, head))
        means[n - 1] = mean
        stds[n - 1] = math.sqrt(max(float(np.dot(p, (head - mean) ** 2)), 0.0))
    return means, stds


def describe(values: Iterable[float]) -> dict[str, float]:
    """n, mean, sample std (ddof=1; NaN for one value), min, max over the finite values."""
    v = finite(values)
    return {
        "n": len(v),
        "mean": float(v.mean()) if len(v) else math.nan,
        "std": float(v.std(ddof=1)) if len(v) > 1 else math.nan,
        "min": float(v.min()) if len(v) else math.nan,
        "max": float(v.max()) if len(v) else math.nan,
    }


def separable(mean_a: float, se_a: float, mean_b: float, se_b: float) -> bool | None:
    """Is |a - b| larger than two standard errors of the difference? None when no spread is known."""
    if not (math.isfinite(se_a) and math.isfinite(se_b)):
        return None
    return abs(mean_a - mean_b) > 2.0 * math.sqrt(se_a**2 + se_b**2)
