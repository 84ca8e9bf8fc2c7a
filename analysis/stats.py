"""Small exact statistics: metric directions, the expected best of n trials, and honest comparisons."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from gvc.facts import direction_of_key

MINIMIZE, MAXIMIZE = "minimize", "maximize"

# Which way is better for what the evaluation does not register (gvc/facts.py holds every metric's, ema_ and
# per-class keys included): the VAE losses and analysis' image proxies. A key found in neither (and not any run's
# objective) has no "best": its cell stays blank.
DIRECTIONS = {
    "test_loss": MINIMIZE, "test_bce": MINIMIZE, "loss": MINIMIZE, "bce": MINIMIZE,
    # image statistics computed by analysis.grids (proxies): less gray, fewer specks = closer to ink on paper
    "gray_fraction": MINIMIZE, "speckles": MINIMIZE,
}


def direction_of(metric: str, objective_directions: dict[str, str] | None = None) -> str | None:
    """A run's stated objective direction wins; then the metric registry's; then the table above; else None."""
    if objective_directions and metric in objective_directions:
        return objective_directions[metric]
    return direction_of_key(metric) or DIRECTIONS.get(metric)


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


# -- comparing two groups of seeds ---------------------------------------------------------------------------
ALPHA = 0.05  # two-sided significance level of every comparison the report makes
A_BETTER, B_BETTER = "a better", "b better"
NOT_SEPARABLE, TOO_FEW_SEEDS, NOT_MEASURED = "not separable", "too few seeds to tell", "not measured"
EXACT_LIMIT = 100_000  # arrangements enumerated exactly; beyond, a seeded Monte Carlo of MONTE_CARLO draws
MONTE_CARLO = 20_000


@dataclass(frozen=True)
class Comparison:
    """Two groups of runs (seeds) on one metric: is a better than b, and can these seeds tell?

    effect is mean_a - mean_b in the metric's units (ci: Welch's, or the paired t's, 95 % interval of it; NaN
    with fewer than two seeds a side). p is the two-sided p-value of an exact permutation test of the difference
    of means (paired: a sign-flip test of the per-seed differences); min_p is the smallest p these group sizes
    can give at any effect size. When min_p > ALPHA no effect, however large, can be told from chance with these
    seeds: the verdict is TOO_FEW_SEEDS, not a direction."""

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    effect: float
    ci: tuple[float, float]
    p: float
    min_p: float
    welch_p: float
    paired: bool
    verdict: str

    @property
    def seeds(self) -> str:
        """'2 vs 2 seeds', '5 paired seeds': the size of the evidence, stated beside every claim."""
        if self.paired:
            return f"{self.n_a} paired seed{'s' if self.n_a != 1 else ''}"
        return f"{self.n_a} vs {self.n_b} seed{'s' if max(self.n_a, self.n_b) != 1 else ''}"

    def text(self) -> str:
        """'p = 0.029, 4 vs 4 seeds' or 'too few seeds to tell: 2 vs 2 seeds, an exact test's smallest p is 0.33'."""
        if self.verdict == NOT_MEASURED:
            return NOT_MEASURED
        if self.verdict == TOO_FEW_SEEDS:
            return (f"{self.seeds}: the exact test's smallest possible p is {self.min_p:.2g} > {ALPHA:g}, whatever "
                    "the gap")
        return f"p = {self.p:.2g}, {self.seeds}"


def _permutation_p(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sided p of |mean(a) - mean(b)| over the reassignments of the pooled values to groups of these sizes,
    and the smallest p possible (2 / C(n, k) for equal sizes, whose mirror arrangement ties; else 1 / C(n, k))."""
    pooled, k = np.concatenate([a, b]), len(a)
    count = math.comb(len(pooled), k)
    min_p = min(1.0, (2 if len(a) == len(b) else 1) / count)
    observed = abs(a.mean() - b.mean())
    tolerance = 1e-12 * max(1.0, float(np.abs(pooled).max()))
    total = pooled.sum()
    if count <= EXACT_LIMIT:
        groups = np.array(list(itertools.combinations(range(len(pooled)), k)), dtype=np.intp).reshape(count, k)
        sums = pooled[groups].sum(axis=1)
        diffs = np.abs(sums / k - (total - sums) / len(b))
        return float(np.mean(diffs >= observed - tolerance)), min_p
    rng = np.random.default_rng(0)  # seeded: the same runs give the same report
    groups = np.argsort(rng.random((MONTE_CARLO, len(pooled))), axis=1)[:, :k]  # random k-subsets
    sums = pooled[groups].sum(axis=1)
    hits = int(np.sum(np.abs(sums / k - (total - sums) / len(b)) >= observed - tolerance))
    return (hits + 1) / (MONTE_CARLO + 1), min_p


def _sign_flip_p(d: np.ndarray) -> tuple[float, float]:
    """Two-sided p of |mean(d)| over the 2^n sign flips of the per-seed differences, and the smallest p (2 / 2^n)."""
    n = len(d)
    min_p = min(1.0, 2.0 / 2**n)
    observed = abs(d.mean())
    tolerance = 1e-12 * max(1.0, float(np.abs(d).max()))
    if 2**n <= EXACT_LIMIT:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    else:
        signs = np.random.default_rng(0).choice((1.0, -1.0), size=(MONTE_CARLO, n))
    means = np.abs(signs @ d / n)
    hits = float(np.mean(means >= observed - tolerance))
    return (hits if 2**n <= EXACT_LIMIT else (hits * MONTE_CARLO + 1) / (MONTE_CARLO + 1)), min_p


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Welch's t: two-sided p and the 95 % interval of mean(a) - mean(b); NaN with fewer than two a side."""
    from scipy import stats as sps

    if len(a) < 2 or len(b) < 2:
        return math.nan, (math.nan, math.nan)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    effect = a.mean() - b.mean()
    if va + vb == 0:
        return (1.0 if effect == 0 else 0.0), (effect, effect)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    q = float(sps.t.ppf(1 - ALPHA / 2, df))
    return float(2 * sps.t.sf(abs(effect) / se, df)), (effect - q * se, effect + q * se)


def _paired_t(d: np.ndarray) -> tuple[float, tuple[float, float]]:
    from scipy import stats as sps

    if len(d) < 2:
        return math.nan, (math.nan, math.nan)
    se = d.std(ddof=1) / math.sqrt(len(d))
    if se == 0:
        return (1.0 if d.mean() == 0 else 0.0), (float(d.mean()), float(d.mean()))
    q = float(sps.t.ppf(1 - ALPHA / 2, len(d) - 1))
    return float(2 * sps.t.sf(abs(d.mean()) / se, len(d) - 1)), (d.mean() - q * se, d.mean() + q * se)


def pairing_can_tell(n_pairs: int, alpha: float = ALPHA) -> bool:
    """Whether a sign-flip test over n paired seeds can reach alpha at all (its smallest p is 2 / 2^n: six
    seeds); with fewer, the two-group test is the one that can tell (4 vs 4 reaches p = 0.029)."""
    return n_pairs > 0 and 2.0 / 2 ** n_pairs <= alpha


def compare_groups(a: Iterable[float], b: Iterable[float], direction: str, *, paired: bool = False,
                   alpha: float = ALPHA) -> Comparison:
    """Is group a (one value per seed) better than group b in `direction` (MINIMIZE / MAXIMIZE)?

    paired=True: a[i] and b[i] share a seed (the same data order and initialisation draws); the test is then on
    the per-seed differences. Non-finite values are dropped (in a pair, the pair). The verdict is A_BETTER /
    B_BETTER when the exact permutation p <= alpha, NOT_SEPARABLE when it is not, TOO_FEW_SEEDS when no effect
    size could reach alpha with these seeds (2 vs 2: min p = 1/3; 3 vs 3: 0.1; 4 vs 4: 0.029; paired: 2 / 2^n,
    six seeds or more), NOT_MEASURED when a side has no value. Welch's t (or the paired t) is reported beside it
    (welch_p, ci) for the size of the effect, not for the verdict: with a handful of seeds its normality cannot be
    checked, while the permutation test's level holds whatever the distribution."""
    if direction not in (MINIMIZE, MAXIMIZE):
        raise ValueError(f"direction must be {MINIMIZE!r} or {MAXIMIZE!r}, got {direction!r}")
    if paired:
        xa, xb = np.asarray(list(a), dtype=float), np.asarray(list(b), dtype=float)
        if xa.shape != xb.shape:
            raise ValueError(f"paired groups need one value per seed on both sides, got {len(xa)} and {len(xb)}")
        keep = np.isfinite(xa) & np.isfinite(xb)
        xa, xb = xa[keep], xb[keep]
    else:
        xa, xb = finite(a), finite(b)
    if not len(xa) or not len(xb):
        nan = math.nan
        return Comparison(len(xa), len(xb), nan, nan, nan, (nan, nan), nan, nan, nan, paired, NOT_MEASURED)
    if paired:
        p, min_p = _sign_flip_p(xa - xb)
        welch_p, ci = _paired_t(xa - xb)
    else:
        p, min_p = _permutation_p(xa, xb)
        welch_p, ci = _welch(xa, xb)
    mean_a, mean_b = float(xa.mean()), float(xb.mean())
    if min_p > alpha:
        verdict = TOO_FEW_SEEDS
    elif p <= alpha and mean_a != mean_b:
        verdict = A_BETTER if better(mean_a, mean_b, direction) else B_BETTER
    else:
        verdict = NOT_SEPARABLE
    return Comparison(len(xa), len(xb), mean_a, mean_b, mean_a - mean_b, (float(ci[0]), float(ci[1])), float(p),
                      float(min_p), float(welch_p), paired, verdict)
