"""Sample-quality metrics on evaluator features and logits: pure functions of tensors, no data loading.

`real` and `fake` are (N, d) feature matrices (any d); every pairwise-distance computation is chunked so that
10k x 60k comparisons fit in a few tens of MB.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from gvc.likelihoods import LAMBDA_EPS, continuous_bernoulli_log_norm

# Elements of one block of the distance matrix (64 MB in float32).
DISTANCE_BLOCK = 1 << 24


class Identity(nn.Module):
    """A torchmetrics `feature=` module for inputs that already are features."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        return x


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """FID on features: ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^1/2), through torchmetrics.

    Computed on the CPU in float64 (torchmetrics' state dtype) so every machine gets the same number.
    """
    metric = FrechetInceptionDistance(feature=Identity(real.shape[1]))
    metric.update(real.detach().cpu().double(), real=True)
    metric.update(fake.detach().cpu().double(), real=False)
    return float(metric.compute())


def kid_subset_size(requested: int, n_real: int, n_fake: int) -> int:
    """Subsets of at most half the smaller set, so that KID's subsets differ and its std means something."""
    return max(2, min(requested, n_real // 2, n_fake // 2))


def kernel_distance(real: Tensor, fake: Tensor, subsets: int, subset_size: int, seed: int) -> tuple[float, float]:
    """KID (unbiased MMD^2, cubic polynomial kernel) mean and std over random subsets, through torchmetrics."""
    size = kid_subset_size(subset_size, len(real), len(fake))
    with warnings.catch_warnings():  # its "features are kept in memory" warning: they are, deliberately
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(feature=Identity(real.shape[1]), subsets=subsets, subset_size=size)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    # torchmetrics draws subsets with the global, unseeded CPU generator: fork it so results are repeatable
    # and the caller's random state is left untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def unit_rows(x: Tensor) -> Tensor:
    """Rows scaled to unit length (all-zero rows stay zero): nearest-neighbour metrics then compare directions."""
    return F.normalize(x, dim=1)


def _row_slices(n_rows: int, n_cols: int) -> list[slice]:
    """Row ranges whose (rows x n_cols) distance block stays within DISTANCE_BLOCK elements."""
    step = max(1, DISTANCE_BLOCK // max(1, n_cols))
    return [slice(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]


def _sq_distances(a: Tensor, b: Tensor, b_sq: Tensor) -> Tensor:
    """Squared Euclidean distances (len(a), len(b)) as one matrix product; clamped at 0 against round-off."""
    return torch.addmm(b_sq[None, :] + a.square().sum(1, keepdim=True), a, b.T, alpha=-2).clamp_min_(0)


def knn_radii(x: Tensor, k: int) -> Tensor:
    """Distance of each row of x to its k-th nearest other row (the row itself, at distance 0, is skipped)."""
    x_sq = x.square().sum(1)
    blocks = [_sq_distances(x[s], x, x_sq).kthvalue(k + 1, dim=1).values for s in _row_slices(len(x), len(x))]
    return torch.cat(blocks).sqrt()


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    The real (fake) manifold is the union of balls around each real (fake) sample reaching its k-th nearest
    neighbour. Precision: share of fake samples inside the real manifold. Recall: share of real samples inside
    the fake manifold.
    """
    real_r2, fake_r2 = knn_radii(real, k).square(), knn_radii(fake, k).square()
    fake_sq = fake.square().sum(1)
    fake_in_real = torch.zeros(len(fake), dtype=torch.bool, device=fake.device)
    real_in_fake = []
    for s in _row_slices(len(real), len(fake)):
        d2 = _sq_distances(real[s], fake, fake_sq)  # rows: real samples, columns: fake ones
        fake_in_real |= (d2 <= real_r2[s, None]).any(0)
        real_in_fake.append((d2 <= fake_r2[None, :]).any(1))
    return fake_in_real.float().mean().item(), torch.cat(real_in_fake).float().mean().item()


def density_coverage(real: Tensor, fake: Tensor, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), on balls around real samples only (robust to fake outliers).

    Density: how many real balls contain a fake sample, on average, over k (about 1 when the sets match; can
    exceed 1 when fakes crowd dense real regions). Coverage: share of real balls that hold at least one fake.
    """
    real_r2 = knn_radii(real, k).square()
    fake_sq = fake.square().sum(1)
    balls_holding = torch.zeros(len(fake), device=fake.device)
    covered = []
    for s in _row_slices(len(real), len(fake)):
        inside = _sq_distances(real[s], fake, fake_sq) <= real_r2[s, None]
        balls_holding += inside.sum(0)
        covered.append(inside.any(1))
    density = balls_holding.sum().item() / (k * len(fake))
    return density, torch.cat(covered).float().mean().item()


def prdc(real: Tensor, fake: Tensor, pr_k: int = 3, dc_k: int = 5) -> dict[str, float]:
    """precision_recall(real, fake, pr_k) and density_coverage(real, fake, dc_k) from one pass over the distances.

    The same numbers as the two functions (the same comparisons), at about half their cost: the real set's k-NN
    radii come from one sort of its distance rows, and each real-vs-fake distance block is computed once.
    """
    real_sq = real.square().sum(1)
    k_max = max(pr_k, dc_k)
    blocks = [_sq_distances(real[s], real, real_sq).topk(k_max + 1, dim=1, largest=False).values
              for s in _row_slices(len(real), len(real))]
    nearest = torch.cat(blocks)  # column 0 is each row's distance to itself
    real_pr2, real_dc2 = nearest[:, pr_k], nearest[:, dc_k]
    fake_pr2 = knn_radii(fake, pr_k).square()
    fake_sq = fake.square().sum(1)
    fake_in_real = torch.zeros(len(fake), dtype=torch.bool, device=fake.device)
    balls_holding = torch.zeros(len(fake), device=fake.device)
    real_in_fake, covered = [], []
    for s in _row_slices(len(real), len(fake)):
        d2 = _sq_distances(real[s], fake, fake_sq)  # rows: real samples, columns: fake ones
        fake_in_real |= (d2 <= real_pr2[s, None]).any(0)
        real_in_fake.append((d2 <= fake_pr2[None, :]).any(1))
        inside = d2 <= real_dc2[s, None]
        balls_holding += inside.sum(0)
        covered.append(inside.any(1))
    return {
        "precision": fake_in_real.float().mean().item(),
        "recall": torch.cat(real_in_fake).float().mean().item(),
        "density": balls_holding.sum().item() / (dc_k * len(fake)),
        "coverage": torch.cat(covered).float().mean().item(),
    }


def class_matched_indices(real_classes: Tensor, fake_classes: Tensor, seed: int) -> Tensor:
    """Indices into the fake set that resample it to the real set's class histogram (Kynkaenniemi et al. 2023).

    Each class the fakes contain gets as many draws as the real set has of it (without replacement where the
    fakes have enough, with replacement otherwise); a class no fake was assigned cannot be matched and is left out.
    """
    generator = torch.Generator().manual_seed(seed)
    real_classes, fake_classes = real_classes.cpu(), fake_classes.cpu()
    chosen = []
    for c in torch.unique(real_classes).tolist():
        pool = (fake_classes == c).nonzero().flatten()
        want = int((real_classes == c).sum())
        if len(pool) == 0:
            continue
        if len(pool) >= want:
            pick = torch.randperm(len(pool), generator=generator)[:want]
        else:
            pick = torch.randint(len(pool), (want,), generator=generator)
        chosen.append(pool[pick])
    return torch.cat(chosen) if chosen else torch.zeros(0, dtype=torch.long)


def class_fids(real: Tensor, fake: Tensor, real_classes: Tensor, fake_classes: Tensor, num_classes: int,
               seed: int) -> dict[str, float]:
    """fid_class_matched and fid_class_<c> (FID within each predicted class with at least 2 samples on both sides).

    A class the model (almost) never generates has no within-class FID: its absence shows in classes_covered.
    """
    out: dict[str, float] = {}
    matched = class_matched_indices(real_classes, fake_classes, seed).to(fake.device)
    if len(matched) >= 2:
        out["fid_class_matched"] = frechet_distance(real, fake[matched])
    for c in range(num_classes):
        r, f = real[real_classes == c], fake[fake_classes == c]
        if len(r) >= 2 and len(f) >= 2:
            out[f"fid_class_{c}"] = frechet_distance(r, f)
    return out


def nearest_distances(query: Tensor, reference: Tensor, exclude: Tensor | None = None) -> Tensor:
    """Distance from each query row to its nearest reference row.

    exclude[i], if given, is an index into `reference` that query i may not match (itself, when the queries
    are drawn from the reference set).
    """
    ref_sq = reference.square().sum(1)
    out = []
    for s in _row_slices(len(query), len(reference)):
        d2 = _sq_distances(query[s], reference, ref_sq)
        if exclude is not None:
            rows = torch.arange(len(d2), device=d2.device)
            d2[rows, exclude[s].to(d2.device)] = math.inf
        out.append(d2.min(1).values)
    return torch.cat(out).sqrt()


def classifier_scores(logits: Tensor, min_share: float = 0.01) -> dict[str, float]:
    """Scores from the evaluator's class predictions on generated images.

    inception_score: exp(E_x KL(p(y|x) || p(y))) over the whole set (one split), 1..10; high when each image
      is classified confidently and the classes are balanced.
    classes_covered: classes that receive at least `min_share` of the argmax predictions (of 10).
    class_kl_uniform: KL(predicted-class histogram || uniform) in nats, 0 (balanced) .. log 10 (one class).
    mean_confidence: mean top-class probability.
    """
    log_p = logits.double().log_softmax(1)
    p = log_p.exp()
    log_marginal = p.mean(0).log()
    inception_score = (p * (log_p - log_marginal)).sum(1).mean().exp()
    num_classes = logits.shape[1]
    share = torch.bincount(logits.argmax(1), minlength=num_classes).double() / len(logits)
    nonzero = share[share > 0]
    return {
        "inception_score": inception_score.item(),
        "classes_covered": float((share >= min_share).sum().item()),
        "class_kl_uniform": (nonzero * (nonzero * num_classes).log()).sum().item(),
        "mean_confidence": p.max(1).values.mean().item(),
    }


def decoder_log_likelihoods(model: nn.Module, out: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
    """(training-likelihood, normalised) log p(x|z), summed over the last (pixel) axis, from the decoder output.

    The training likelihood is the model's own (`model.likelihood`, attached by gvc/training/rebuild.py; none is
    the paper's Bernoulli BCE on grey pixels, not a normalised density on [0, 1]). The normalised scale reads the
    same output as the continuous Bernoulli's parameter λ, adding log C(λ) (gvc/likelihoods.py): a proper density
    of grey-level images, so it ranks VAEs whatever likelihood trained them. A decoder whose own likelihood is a
    normalised density (continuous Bernoulli, Gaussian) is scored on it on both scales.
    """
    likelihood = getattr(model, "likelihood", None)
    if likelihood is not None and likelihood.normalised:
        # Its nll sums over all it is given: map it over the leading (draw, image) axes.
        nll = likelihood.nll
        for _ in range(out.dim() - 1):
            nll = torch.func.vmap(nll)
        own = -nll(out, x)
        return own, own
    bce = -F.binary_cross_entropy(out, x, reduction="none").sum(-1)
    lam = out.clamp(LAMBDA_EPS, 1 - LAMBDA_EPS)
    cb = -F.binary_cross_entropy(lam, x, reduction="none") + continuous_bernoulli_log_norm(lam)
    return bce, cb.sum(-1)


@torch.no_grad()
def likelihood_bounds(model: nn.Module, images: Tensor, iw_samples: int, batch_size: int,
                      generator: torch.Generator) -> dict[str, float]:
    """test_nelbo, test_nll_iw (training likelihood) and test_cb_nelbo, test_cb_nll_iw (continuous Bernoulli, the
    normalised scale; see decoder_log_likelihoods), in nats per image, from the same k = iw_samples draws.

      -ELBO = mean_j -log p(x|z_j) + KL(q(z|x) || N(0, I))            (the training loss, averaged over k draws)
      NLL  <= -log (1/k) sum_j p(x|z_j) p(z_j) / q(z_j|x)            (Burda et al. 2016; tightens as k grows)
    `images` in [0, 1], (N, C, H, W), on the model's device; `generator` is a CPU generator for the draws.
    """
    per_step = max(1, batch_size // iw_samples)  # decode about batch_size latents per forward pass
    log_2pi = math.log(2 * math.pi)
    sums = dict.fromkeys(("test_nelbo", "test_nll_iw", "test_cb_nelbo", "test_cb_nll_iw"), 0.0)
    for x in images.split(per_step):
        mu, logvar = model.encode(x)
        eps = torch.randn((iw_samples, *mu.shape), generator=generator).to(mu.device, mu.dtype)
        z = mu + eps * (0.5 * logvar).exp()  # (k, B, latent)
        out = model.decode(z.flatten(0, 1)).float().view(iw_samples, len(x), -1)
        targets = x.float().flatten(1).expand(iw_samples, -1, -1)
        log_pz = -0.5 * (z.square() + log_2pi).sum(-1)
        log_qz = -0.5 * (eps.square() + logvar + log_2pi).sum(-1)
        kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(-1)  # (B,)
        for prefix, log_px_z in zip(("test_", "test_cb_"), decoder_log_likelihoods(model, out, targets)):
            sums[f"{prefix}nelbo"] += (kl - log_px_z.mean(0)).sum().item()
            log_w = log_px_z + log_pz - log_qz  # (k, B)
            sums[f"{prefix}nll_iw"] += -(torch.logsumexp(log_w, 0) - math.log(iw_samples)).sum().item()
    return {name: total / len(images) for name, total in sums.items()}


def vae_bounds(model: nn.Module, images: Tensor, iw_samples: int, batch_size: int,
               generator: torch.Generator) -> tuple[float, float]:
    """(-ELBO, importance-weighted NLL bound) in the training likelihood, nats per image (see likelihood_bounds)."""
    bounds = likelihood_bounds(model, images, iw_samples, batch_size, generator)
    return bounds["test_nelbo"], bounds["test_nll_iw"]
