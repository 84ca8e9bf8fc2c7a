"""evaluate(model, cfg, device, data_root, dataset) -> flat dict of quality metrics, beside the real-data floor.

The generated set is compared with the data set's test images, in the feature space of that data set's own
evaluator. Two references frame every number: the floor is the same comparison for the data set's *training*
images (the best a perfect generator could expect at this N), and the noise level the same comparison for
uniform-noise images (what a model that learned nothing scores). Both depend only on the evaluator and the
settings, so each is computed once and cached as JSON next to the data. Which metrics there are, and which way
each is better, lives in gvc/facts.py; the function computing each, in gvc/evaluation/computations.py.
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

from gvc.data import BINARIZE, load_split, spec_of, to_model_range
from gvc.evaluation import metrics
from gvc.evaluation.computations import Bounded, Sets, compute
from gvc.evaluation.autoencoder import autoencoder_checksum, encode, load_encoder
from gvc.evaluation.classifier import EvaluatorError, evaluator_checksum, load_evaluator
from gvc.facts import DIRECTIONS  # noqa: F401 (re-exported)
from gvc.facts import AE_PREFIX, AUTOENCODER, CLASSIFIER, FAMILIES, FEATURES, LOGITS, MODEL, SECOND_SPACE, registry_key
from gvc.evaluation.config import EvalConfig, as_eval_config, evaluation_problem, has_classifier, own_files_dir
from gvc.evaluation.embeddings import Embedding, cache_dir, embed, train_embedding
from gvc.evaluation.train_autoencoder import build_own

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
             dataset: str = "mnist", binarize: str = "none") -> dict[str, float]:
    """Score `model` (GAN or VAE, see gvc.models.base) with N = cfg.n_samples samples against `dataset`'s test images.

    Returns the metrics registered in gvc/facts.py METRICS that apply (the classifier's where the data set has a
    classifier, the autoencoder's `ae_*` with eval.second_space, VAE-only ones for VAEs), the real floor as
    floor_<name> and the uniform-noise level as noise_<name>. binarize="dynamic": the model was trained on
    binarised images, so its likelihood bounds are computed on test images binarised once with a fixed seed.
    The model is put in eval mode while sampling and restored afterwards; it is not moved to `device`.
    """
    cfg = as_eval_config(cfg)
    device = torch.device(device)
    spec = spec_of(dataset)
    problem = evaluation_problem(spec.name, spec.title, cfg.second_space)
    if problem:  # before any data is loaded
        raise EvaluatorError(problem)
    if binarize not in BINARIZE:
        raise ValueError(f"binarize={binarize!r} is not allowed: one of {list(BINARIZE)}")

    real_images = reference_images(spec.name, data_root, cfg.n_samples)
    with eval_mode(model):
        fake_images = generate(model, cfg.n_samples, cfg.batch_size, cfg.seed, device, spec.image_shape)
        results = score_images(fake_images, real_images, cfg, spec.name, data_root, device)
        family = getattr(model, "family", "gan")
        if FAMILIES[family].likelihood:
            n_nll = len(real_images) if cfg.nll_images is None else min(cfg.nll_images, len(real_images))
            images = real_images[:n_nll]
            if binarize == "dynamic":  # fixed draws: every model sees the same binary test images
                images = torch.bernoulli(images, generator=torch.Generator().manual_seed(REFERENCE_SEED))
            draws = torch.Generator().manual_seed(cfg.seed + 1)  # not the latents' stream
            bounds = compute(MODEL, Bounded(model, images.to(device), cfg, draws), family)
            if binarize == "dynamic":  # a density on [0, 1] says nothing about binary images: only Bernoulli's counts
                bounds = {k: v for k, v in bounds.items() if not k.startswith("test_cb_")}
            results.update(bounds)
    return results


def reference_images(dataset: str, data_root: str | os.PathLike, n: int) -> Tensor:
    """The fixed min(n, test size) test images every sample set is compared with, float in [0, 1]."""
    test = load_split(dataset, data_root, train=False)
    return to_model_range(test.images[reference_indices(len(test.images), min(n, len(test.images)))], (0.0, 1.0))


def score_images(fake_images: Tensor, real_images: Tensor, cfg: EvalConfig, dataset: str,
                 data_root: str | os.PathLike, device: torch.device, exclude: Tensor | None = None) -> dict[str, float]:
    """Every sample metric of images in [0, 1] against the reference images, in each feature space the data set has.

    exclude: image i's own index among the training images, when the images are training images (the floor,
    calibration), so that memorisation looks for the nearest *other* training image.
    """
    results: dict[str, float] = {}
    if has_classifier(dataset):
        results.update(classifier_space(fake_images, real_images, cfg, dataset, data_root, device, exclude))
    if cfg.second_space:
        results.update(second_space(fake_images, real_images, cfg, dataset, data_root, device, exclude))
    return results


def classifier_space(fake_images: Tensor, real_images: Tensor, cfg: EvalConfig, dataset: str,
                     data_root: str | os.PathLike, device: torch.device,
                     exclude: Tensor | None = None) -> dict[str, float]:
    """The metrics in the data set's classifier space, with its floor_ and noise_ references."""
    evaluator, checksum = load_evaluator(device, dataset), evaluator_checksum(dataset)
    real = embed(evaluator, real_images, cfg.batch_size, device)  # once per call, shared by every metric
    train = train_embedding(evaluator, checksum, data_root, cfg.batch_size, device, dataset)
    floor = real_floor(cfg, real, train, checksum, data_root)
    noise = noise_level(cfg, evaluator, real, train, checksum, data_root, device, floor["nn_train_dist_test"],
                        tuple(real_images.shape[1:]))
    fake = embed(evaluator, fake_images, cfg.batch_size, device)
    results = compare(fake, real, train, cfg, nn_train_dist_test=floor["nn_train_dist_test"], exclude=exclude)
    results.update({f"floor_{name}": value for name, value in floor.items()})
    results.update({f"noise_{name}": value for name, value in noise.items()})
    return results


def space_metrics(fake: Tensor, real: Tensor, cfg: EvalConfig, train: Tensor | None = None,
                  exclude: Tensor | None = None) -> dict[str, float]:
    """The autoencoder space's metrics (FID, KID, precision, recall, density, coverage, memorisation: every metric
    gvc/facts.py registers there) of fake against real codes, named without their ae_ prefix (as the cached
    references store them). exclude: fake i's own index among the training codes, when it is one of them."""
    scores = compute(AUTOENCODER, Sets(fake, real, train, cfg, exclude, prefix=AE_PREFIX))
    return {name.removeprefix(AE_PREFIX): value for name, value in scores.items()}


def train_codes(encoder: nn.Module, checksum: str, dataset: str, data_root: str | os.PathLike, batch_size: int,
                device: torch.device) -> Tensor:
    """Codes of every training image, cached per encoder checksum beside the data (memorisation's reference)."""
    path = cache_dir(data_root) / f"ae-train-codes-{checksum[:16]}.pt"
    n_train = spec_of(dataset).n_images(train=True)
    if path.is_file():
        try:
            codes = torch.load(path, map_location="cpu", weights_only=True)
            if codes.shape[0] == n_train and torch.isfinite(codes).all():
                return codes.to(device)
        except Exception:  # noqa: BLE001 - truncated or foreign: recompute
            pass
    images = to_model_range(load_split(dataset, data_root, train=True).images, (0.0, 1.0))
    codes = encode(encoder, images, batch_size, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(codes.cpu(), tmp)
    os.replace(tmp, path)
    return codes


def second_space(fake_images: Tensor, real_images: Tensor, cfg: EvalConfig, dataset: str,
                 data_root: str | os.PathLike, device: torch.device,
                 exclude: Tensor | None = None) -> dict[str, float]:
    """ae_<metric> in the label-free autoencoder space, with floor_ae_ and noise_ae_ references (cached).
    exclude: as for score_images (the images are training images)."""
    if own_files_dir(dataset) is not None:  # a user's own images: their space is trained on them at first use
        build_own(dataset)
    encoder, checksum = load_encoder(device, dataset), autoencoder_checksum(dataset)
    real = encode(encoder, real_images, cfg.batch_size, device)
    train = train_codes(encoder, checksum, dataset, data_root, cfg.batch_size, device)

    def floor() -> dict[str, float]:
        chosen = reference_indices(len(train), min(cfg.n_samples, len(train))).to(train.device)
        return space_metrics(train[chosen], real, cfg, train, exclude=chosen)

    def noise() -> dict[str, float]:
        images = torch.rand(cfg.n_samples, *real_images.shape[1:], generator=torch.Generator().manual_seed(NOISE_SEED))
        return space_metrics(encode(encoder, images, cfg.batch_size, device), real, cfg, train)

    settings = {"autoencoder_sha256": checksum, "n_samples": cfg.n_samples, "n_real": len(real), "pr_k": cfg.pr_k,
                "dc_k": cfg.dc_k, "kid_subsets": cfg.kid_subsets, "kid_subset_size": cfg.kid_subset_size,
                "seed": cfg.seed, "reference_seed": REFERENCE_SEED,
                "metrics": registry_key(frozenset({SECOND_SPACE}))}
    references = {
        "floor_": cached_reference("ae-floor", settings, data_root, floor),
        "noise_": cached_reference("ae-noise", {**settings, "noise": "uniform[0,1]", "noise_seed": NOISE_SEED},
                                   data_root, noise),
        "": space_metrics(encode(encoder, fake_images, cfg.batch_size, device), real, cfg, train,
                          None if exclude is None else exclude.to(train.device)),
    }
    return {f"{prefix}{AE_PREFIX}{name}": value for prefix, values in references.items()
            for name, value in values.items()}


def compare(fake: Embedding, real: Embedding, train: Embedding, cfg: EvalConfig, nn_train_dist_test: float,
            exclude: Tensor | None = None) -> dict[str, float]:
    """Every classifier-space metric gvc/facts.py registers, of `fake` against `real` (computed by
    gvc/evaluation/computations.py). exclude: fake i's own index in `train`, if it is from there."""
    sets = Sets(fake.features, real.features, train.features, cfg, exclude, fake_logits=fake.logits,
                real_logits=real.logits, nn_train_dist_test=nn_train_dist_test)
    return compute(CLASSIFIER, sets)


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
        "class_fids": cfg.class_fids,
        # [name, version] of every metric a reference holds: a new or changed metric never reuses a cached floor.
        "metrics": registry_key(frozenset({FEATURES, LOGITS})),
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
