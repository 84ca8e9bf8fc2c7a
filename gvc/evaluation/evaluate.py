"""evaluate(model, cfg, device, data_root, dataset) -> flat dict of quality metrics, beside the real-data floor.

The generated set is compared with the data set's test images, in the feature space of that data set's own
evaluator. Two references frame every number: the floor is the same comparison for the data set's *training*
images (the best a perfect generator could expect at this N), and the noise level the same comparison for
uniform-noise images (what a model that learned nothing scores). Both depend only on the evaluator and the
settings, so each is computed once and cached as JSON next to the data. Metric directions live in gvc/facts.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from gvc.data import load_split, spec_of, to_model_range
from gvc.evaluation import metrics
from gvc.evaluation.classifier import evaluator_checksum, load_evaluator
from gvc.facts import DIRECTIONS, FAMILIES  # noqa: F401 (DIRECTIONS re-exported for older imports)
from gvc.evaluation.config import EvalConfig, as_eval_config
from gvc.evaluation.embeddings import Embedding, cache_dir, embed, train_embedding

# Fixes which real images form the reference sets, independently of eval.seed, so that runs evaluated with
# different seeds are still compared with the same test images.
REFERENCE_SEED = 20240917
NOISE_SEED = 7  # the uniform-noise reference images
# Bump when the floor's definition changes, so stale cached floors are not reused.
FLOOR_VERSION = 2
# Generated pixels may overshoot [0, 1] by float round-off only.
RANGE_TOLERANCE = 1e-4


class SampleError(ValueError):
    """The model produced images outside [0, 1], of the wrong shape, or not finite."""


def evaluate(model: nn.Module, cfg: Any, device: torch.device | str, data_root: str | os.PathLike,
             dataset: str = "mnist") -> dict[str, float]:
    """Score `model` (GAN or VAE, see gvc.models.base) with N = cfg.n_samples samples against `dataset`'s test images.

    Returns the metrics named in DIRECTIONS (VAE-only ones for VAEs), the real floor as floor_<name> and the
    uniform-noise level as noise_<name>.
    The model is put in eval mode while sampling and restored afterwards; it is not moved to `device`.
    """
    cfg = as_eval_config(cfg)
    device = torch.device(device)
    spec = spec_of(dataset)
    evaluator, checksum = load_evaluator(device, spec.name), evaluator_checksum(spec.name)

    test = load_split(spec, data_root, train=False)
    reference = reference_indices(len(test.images), min(cfg.n_samples, len(test.images)))
    real_images = to_model_range(test.images[reference], (0.0, 1.0))
    real = embed(evaluator, real_images, cfg.batch_size, device)  # once per call, shared by every metric
    train = train_embedding(evaluator, checksum, data_root, cfg.batch_size, device, spec.name)
    floor = real_floor(cfg, real, train, checksum, data_root)
    noise = noise_level(cfg, evaluator, real, train, checksum, data_root, device, floor["nn_train_dist_test"],
                        spec.image_shape)

    with eval_mode(model):
        fake_images = generate(model, cfg.n_samples, cfg.batch_size, cfg.seed, device, spec.image_shape)
        fake = embed(evaluator, fake_images, cfg.batch_size, device)
        results = compare(fake, real, train, cfg, nn_train_dist_test=floor["nn_train_dist_test"])
        if FAMILIES[getattr(model, "family", "gan")].likelihood:
            n_nll = len(real_images) if cfg.nll_images is None else min(cfg.nll_images, len(real_images))
            draws = torch.Generator().manual_seed(cfg.seed + 1)  # not the latents' stream
            nelbo, nll = metrics.vae_bounds(model, real_images[:n_nll].to(device), cfg.iw_samples,
                                            cfg.batch_size, draws)
            results.update(test_nelbo=nelbo, test_nll_iw=nll)
    results.update({f"floor_{name}": value for name, value in floor.items()})
    results.update({f"noise_{name}": value for name, value in noise.items()})
    return results


def compare(fake: Embedding, real: Embedding, train: Embedding, cfg: EvalConfig, nn_train_dist_test: float,
            exclude: Tensor | None = None) -> dict[str, float]:
    """All sample metrics of `fake` against `real`. exclude: fake i's own index in `train`, if it is from there.

    FID and KID use the raw features. The nearest-neighbour metrics (P/R/D/C, memorisation) use unit-length
    features: the raw norm mostly encodes classifier confidence, and the few low-confidence real digits near
    the origin have k-NN balls wide enough to swallow noise and blur, which would score as "precise".
    """
    real_u, fake_u = metrics.unit_rows(real.features), metrics.unit_rows(fake.features)
    precision, recall = metrics.precision_recall(real_u, fake_u, cfg.pr_k)
    density, coverage = metrics.density_coverage(real_u, fake_u, cfg.dc_k)
    kid_mean, kid_std = metrics.kernel_distance(real.features, fake.features, cfg.kid_subsets,
                                                cfg.kid_subset_size, cfg.seed)
    # Medians, not means: a few garbage samples far from everything must not hide a block of near-copies.
    nn_gen = metrics.nearest_distances(fake_u, metrics.unit_rows(train.features), exclude).median().item()
    return {
        "fid": metrics.frechet_distance(real.features, fake.features),
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
        **metrics.classifier_scores(fake.logits, cfg.class_min_share),
        "nn_train_dist_gen": nn_gen,
        "nn_train_dist_test": nn_train_dist_test,
        "memorisation_ratio": nn_gen / nn_train_dist_test,
    }


def reference_settings(cfg: EvalConfig, n_real: int, checksum: str) -> dict[str, Any]:
    """Everything a cached reference (floor, noise level) depends on: change any of it and it is recomputed."""
    return {
        "evaluator_sha256": checksum,
        "n_samples": cfg.n_samples,
        "n_real": n_real,
        "kid_subsets": cfg.kid_subsets,
        "kid_subset_size": cfg.kid_subset_size,
        "pr_k": cfg.pr_k,
        "dc_k": cfg.dc_k,
        "class_min_share": cfg.class_min_share,
        "seed": cfg.seed,
        "reference_seed": REFERENCE_SEED,
        "floor_version": FLOOR_VERSION,
    }


def cached_reference(kind: str, settings: dict[str, Any], data_root: str | os.PathLike,
                     compute: Callable[[], dict[str, float]]) -> dict[str, float]:
    """compute() once per (kind, settings), kept as JSON in the cache; an unreadable or stale file is recomputed."""
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir(data_root) / f"{kind}-{key}.json"
    if path.is_file():
        try:
            stored = json.loads(path.read_text())
            if stored.get("settings") == settings:
                return {name: float(value) for name, value in stored["metrics"].items()}
        except (ValueError, KeyError, TypeError):
            pass  # unreadable: recompute and overwrite
    values = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"settings": settings, "metrics": values}, indent=2) + "\n")
    os.replace(tmp, path)
    return values


def real_floor(cfg: EvalConfig, real: Embedding, train: Embedding, checksum: str,
               data_root: str | os.PathLike) -> dict[str, float]:
    """The metrics of N training images (instead of samples) against the same test images; cached as JSON.

    A training image's nearest training image is taken among the *other* training images, so the floor's
    memorisation_ratio is that of fresh real data (about 1), not 0.
    """
    def compute() -> dict[str, float]:
        nn_test = metrics.nearest_distances(metrics.unit_rows(real.features), metrics.unit_rows(train.features))
        chosen = reference_indices(len(train), min(cfg.n_samples, len(train))).to(train.features.device)
        return compare(train.subset(chosen), real, train, cfg, nn_train_dist_test=nn_test.median().item(),
                       exclude=chosen)

    return cached_reference("floor", reference_settings(cfg, len(real), checksum), data_root, compute)


def noise_level(cfg: EvalConfig, evaluator: nn.Module, real: Embedding, train: Embedding, checksum: str,
                data_root: str | os.PathLike, device: torch.device, nn_train_dist_test: float,
                image_shape: tuple[int, int, int] = (1, 28, 28)) -> dict[str, float]:
    """The metrics of N uniform-noise images (of the data set's shape) against the same test images: what learning
    nothing scores. Cached."""
    def compute() -> dict[str, float]:
        noise = torch.rand(cfg.n_samples, *image_shape, generator=torch.Generator().manual_seed(NOISE_SEED))
        return compare(embed(evaluator, noise, cfg.batch_size, device), real, train, cfg, nn_train_dist_test)

    settings = {**reference_settings(cfg, len(real), checksum), "noise": "uniform[0,1]", "noise_seed": NOISE_SEED}
    return cached_reference("noise", settings, data_root, compute)


def reference_indices(population: int, n: int) -> Tensor:
    """A fixed random subset of n indices (all of them, in order, when n == population)."""
    if n >= population:
        return torch.arange(population)
    return torch.randperm(population, generator=torch.Generator().manual_seed(REFERENCE_SEED))[:n].sort().values


@torch.no_grad()
def generate(model: nn.Module, n: int, batch_size: int, seed: int, device: torch.device,
             image_shape: tuple[int, int, int] = (1, 28, 28)) -> Tensor:
    """n images from standard-normal latents drawn on the CPU with `seed` (the same latents on every device)."""
    z = torch.randn(n, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    images = torch.cat([model.generate(batch.to(device)).float() for batch in z.split(batch_size)])
    if images.shape != (n, *image_shape):
        raise SampleError(f"model.generate returned {tuple(images.shape)} for {n} latents; "
                          f"expected {(n, *image_shape)} (the data set's image shape)")
    if not torch.isfinite(images).all():
        raise SampleError("model.generate returned NaN or infinite pixels (has training diverged?)")
    low, high = images.min().item(), images.max().item()
    if low < -RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        raise SampleError(f"model.generate must return pixels in [0, 1]; got [{low:.3f}, {high:.3f}]")
    return images.clamp_(0, 1)


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout) while scoring; every submodule's own mode is restored afterwards."""
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield
    finally:
        for module, training in modes.items():
            module.train(training)
