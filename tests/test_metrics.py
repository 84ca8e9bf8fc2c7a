"""The metric functions on synthetic features, checked against closed forms and brute force (no data needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.image.inception import InceptionScore

from gvc.evaluation import metrics
from tests.conftest import TinyVAE


def gaussian(n: int, mean: torch.Tensor, cov: torch.Tensor, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, len(mean), generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T + mean


def random_cov(d: int, seed: int) -> torch.Tensor:
    a = torch.randn(d, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


def frechet_closed_form(mu1, cov1, mu2, cov2) -> float:
    mu1, cov1, mu2, cov2 = (np.asarray(t, dtype=np.float64) for t in (mu1, cov1, mu2, cov2))
    covmean = scipy.linalg.sqrtm(cov1 @ cov2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1 + cov2 - 2 * covmean))


# ---- FID -------------------------------------------------------------------------------------------------


def test_fid_of_a_set_with_itself_is_zero():
    x = gaussian(2000, torch.zeros(16, dtype=torch.float64), random_cov(16, 0), seed=1)
    assert abs(metrics.frechet_distance(x, x)) < 1e-6


def test_fid_matches_the_frechet_formula_on_the_sample_statistics():
    d = 8
    mu1, mu2 = torch.zeros(d, dtype=torch.float64), torch.linspace(-1, 1, d, dtype=torch.float64)
    x, y = gaussian(3000, mu1, random_cov(d, 0), seed=1), gaussian(3000, mu2, random_cov(d, 1), seed=2)
    expected = frechet_closed_form(x.mean(0), np.cov(x.numpy().T), y.mean(0), np.cov(y.numpy().T))
    assert metrics.frechet_distance(x, y) == pytest.approx(expected, rel=1e-4)


def test_fid_approaches_the_population_distance_for_large_samples():
    d = 4
    cov1, cov2 = random_cov(d, 3), random_cov(d, 4)
    mu1, mu2 = torch.zeros(d, dtype=torch.float64), torch.full((d,), 0.5, dtype=torch.float64)
    x, y = gaussian(20000, mu1, cov1, seed=5), gaussian(20000, mu2, cov2, seed=6)
    assert metrics.frechet_distance(x, y) == pytest.approx(frechet_closed_form(mu1, cov1, mu2, cov2), rel=0.05)


# ---- KID -------------------------------------------------------------------------------------------------


def test_kid_is_near_zero_for_one_distribution_and_large_for_shifted_ones():
    mu, cov = torch.zeros(8, dtype=torch.float64), random_cov(8, 0)
    x, y = gaussian(1000, mu, cov, seed=1).float(), gaussian(1000, mu, cov, seed=2).float()
    same_mean, same_std = metrics.kernel_distance(x, y, subsets=20, subset_size=200, seed=0)
    far_mean, _ = metrics.kernel_distance(x, y + 3.0, subsets=20, subset_size=200, seed=0)
    assert abs(same_mean) < 3 * same_std + 1e-3
    assert far_mean > 100 * max(abs(same_mean), same_std)


def test_kid_is_seeded_and_leaves_the_global_random_state_alone():
    x, y = torch.randn(600, 8), torch.randn(600, 8) + 0.2
    state = torch.get_rng_state()
    first = metrics.kernel_distance(x, y, subsets=10, subset_size=100, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert metrics.kernel_distance(x, y, subsets=10, subset_size=100, seed=7) == first
    assert metrics.kernel_distance(x, y, subsets=10, subset_size=100, seed=8) != first


def test_kid_subset_size_adapts_to_small_sets():
    assert metrics.kid_subset_size(1000, 10000, 10000) == 1000
    assert metrics.kid_subset_size(1000, 60, 100) == 30
    mean, std = metrics.kernel_distance(torch.randn(60, 4), torch.randn(100, 4), subsets=5, subset_size=1000, seed=0)
    assert math.isfinite(mean) and std > 0  # distinct subsets, so a spread


# ---- precision, recall, density, coverage ------------------------------------------------------------------


def test_knn_radii_match_brute_force_and_chunking_does_not_change_results(monkeypatch):
    x, y = torch.randn(300, 5), torch.randn(250, 5) + 0.3
    brute = torch.cdist(x.double(), x.double()).sort(1).values[:, 3]  # column 0 is the point itself
    assert torch.allclose(metrics.knn_radii(x, 3).double(), brute, atol=1e-4)
    whole = (metrics.precision_recall(x, y, 3), metrics.density_coverage(x, y, 5),
             metrics.nearest_distances(y, x))
    monkeypatch.setattr(metrics, "DISTANCE_BLOCK", 1000)  # blocks of 3-4 rows
    chunked = (metrics.precision_recall(x, y, 3), metrics.density_coverage(x, y, 5),
               metrics.nearest_distances(y, x))
    assert whole[:2] == chunked[:2]
    assert torch.allclose(whole[2], chunked[2])
    assert torch.allclose(whole[2].double(), torch.cdist(y.double(), x.double()).min(1).values, atol=1e-4)


def test_identical_sets_have_full_precision_recall_and_coverage():
    x = torch.randn(1000, 16, generator=torch.Generator().manual_seed(0))
    assert metrics.precision_recall(x, x.clone(), 3) == (1.0, 1.0)
    density, coverage = metrics.density_coverage(x, x.clone(), 5)
    assert coverage == 1.0
    assert 0.8 < density < 1.3  # about 1 for matching distributions; not exactly 1 for a finite set


def test_far_apart_sets_score_zero():
    x = torch.randn(500, 16)
    far = torch.randn(500, 16) + 100.0
    assert metrics.precision_recall(x, far, 3) == (0.0, 0.0)
    assert metrics.density_coverage(x, far, 5) == (0.0, 0.0)


def test_dropping_a_mode_costs_recall_and_coverage_but_not_precision():
    g = torch.Generator().manual_seed(0)
    blobs = torch.tensor([[0.0] * 8, [20.0] * 8])
    real = torch.cat([torch.randn(500, 8, generator=g) + blobs[0], torch.randn(500, 8, generator=g) + blobs[1]])
    fake = torch.randn(1000, 8, generator=g) + blobs[0]  # every sample from the first mode
    precision, recall = metrics.precision_recall(real, fake, 3)
    density, coverage = metrics.density_coverage(real, fake, 5)
    assert precision > 0.8 and 0.4 < recall < 0.6  # 0.8-0.9 is what matching sets of this size get
    assert 0.4 < coverage < 0.6
    assert 0.7 < density < 1.3  # density judges where fakes lie, not how many modes they span


def test_nearest_distances_can_exclude_each_query_itself():
    reference = torch.randn(200, 6)
    own = torch.arange(0, 200, 2)
    # Distances come from one matrix product, |a|^2 + |b|^2 - 2ab: exact copies land within sqrt(float32 eps).
    assert torch.all(metrics.nearest_distances(reference[own], reference) < 5e-3)
    excluded = metrics.nearest_distances(reference[own], reference, exclude=own)
    brute = torch.cdist(reference[own], reference)
    brute[torch.arange(len(own)), own] = math.inf
    assert torch.allclose(excluded, brute.min(1).values, atol=1e-4)


def test_unit_rows_scales_to_length_one_and_keeps_zero_rows():
    u = metrics.unit_rows(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
    assert torch.allclose(u, torch.tensor([[0.6, 0.8], [0.0, 0.0]]))


# ---- classifier scores -------------------------------------------------------------------------------------


def test_confident_balanced_predictions_score_best():
    logits = 50.0 * F.one_hot(torch.arange(1000) % 10, 10).float()
    scores = metrics.classifier_scores(logits)
    assert scores["inception_score"] == pytest.approx(10.0, rel=1e-6)
    assert scores["classes_covered"] == 10.0
    assert scores["class_kl_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert scores["mean_confidence"] == pytest.approx(1.0)


def test_a_single_predicted_class_scores_worst():
    logits = 50.0 * F.one_hot(torch.full((500,), 3), 10).float()
    scores = metrics.classifier_scores(logits)
    assert scores["inception_score"] == pytest.approx(1.0)
    assert scores["classes_covered"] == 1.0
    assert scores["class_kl_uniform"] == pytest.approx(math.log(10))


def test_classes_below_the_minimum_share_are_not_covered():
    labels = torch.cat([torch.arange(990) % 9, torch.full((10,), 9)])  # class 9: 1% of samples
    logits = 50.0 * F.one_hot(labels, 10).float()
    assert metrics.classifier_scores(logits, min_share=0.01)["classes_covered"] == 10.0
    assert metrics.classifier_scores(logits, min_share=0.02)["classes_covered"] == 9.0


@pytest.mark.filterwarnings("ignore::UserWarning")  # its memory note, and the std of a single split
def test_inception_score_agrees_with_torchmetrics_on_one_split():
    logits = torch.randn(800, 10, generator=torch.Generator().manual_seed(0)) * 3
    reference = InceptionScore(feature=metrics.Identity(10), splits=1)
    reference.update(logits)
    expected, _ = reference.compute()
    assert metrics.classifier_scores(logits)["inception_score"] == pytest.approx(expected.item(), rel=1e-4)


# ---- VAE bounds ----------------------------------------------------------------------------------------------


class ConstantDecoderVAE(nn.Module):
    """q(z|x) = N(mu, exp(logvar)) for every x; the decoder ignores z, so log p(x) is known exactly."""

    family = "vae"
    latent_dim = 3

    def __init__(self, mu: float, logvar: float):
        super().__init__()
        self.mu, self.logvar = mu, logvar
        self.pixels = torch.linspace(0.05, 0.95, 784).view(1, 1, 28, 28)

    def encode(self, x):
        shape = (len(x), self.latent_dim)
        return torch.full(shape, self.mu), torch.full(shape, self.logvar)

    def decode(self, z):
        return self.pixels.expand(len(z), -1, -1, -1)


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)).round()


def test_vae_bounds_equal_the_exact_nll_when_the_posterior_is_the_prior():
    model, x = ConstantDecoderVAE(mu=0.0, logvar=0.0), images(20)
    exact = F.binary_cross_entropy(model.pixels.expand_as(x), x, reduction="sum").item() / len(x)
    nelbo, nll = metrics.vae_bounds(model, x, iw_samples=7, batch_size=50, generator=torch.Generator())
    assert nelbo == pytest.approx(exact, rel=1e-6)
    assert nll == pytest.approx(exact, rel=1e-6)


def test_vae_bounds_with_a_mismatched_posterior():
    # -ELBO exceeds log p(x) by exactly KL(q || prior); the IW bound closes that gap as k grows.
    model, x = ConstantDecoderVAE(mu=0.5, logvar=-0.5), images(20)
    exact = F.binary_cross_entropy(model.pixels.expand_as(x), x, reduction="sum").item() / len(x)
    kl = 0.5 * 3 * (0.5**2 + math.exp(-0.5) - 1 + 0.5)
    nelbo, nll = metrics.vae_bounds(model, x, iw_samples=4000, batch_size=8000,
                                    generator=torch.Generator().manual_seed(0))
    assert nelbo == pytest.approx(exact + kl, rel=1e-6)
    assert nll == pytest.approx(exact, abs=0.02)
    assert nelbo - nll > 0.9 * kl


def test_the_iw_bound_is_below_the_nelbo_and_tightens_with_more_samples():
    model, x = TinyVAE().eval(), images(64)
    nelbo, nll_1 = metrics.vae_bounds(model, x, 1, 256, torch.Generator().manual_seed(0))
    _, nll_50 = metrics.vae_bounds(model, x, 50, 256, torch.Generator().manual_seed(0))
    assert nll_50 <= nelbo
    assert nll_50 < nll_1
