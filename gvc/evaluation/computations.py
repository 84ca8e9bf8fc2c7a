"""Which function computes which registered metric (gvc/facts.py METRICS), and the loop that computes a space's.

A computation takes what one space gives (`Sets` in the classifier's and the autoencoder's space, `Bounded` for the
model's likelihood bounds) and returns a dict of the metric keys it computes; one function may compute several
metrics that share their work (precision and recall, KID's mean and std), and it is called once per evaluation.
Adding a metric: its spec in gvc/facts.py and one function here (or anywhere imported before evaluation),
decorated `@computes("<name>")`. The pure tensor mathematics lives in gvc/evaluation/metrics.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch
from torch import Tensor, nn

from gvc import facts
from gvc.evaluation import metrics
from gvc.evaluation.config import EvalConfig

Computation = Callable[[Any], dict[str, float]]
# metric name -> the function that computes it (several names may share one function)
COMPUTATIONS: dict[str, Computation] = {}


def computes(*names: str) -> Callable[[Computation], Computation]:
    """Register the decorated function as the computation of the metrics `names` (their specs: gvc/facts.py)."""
    def register(function: Computation) -> Computation:
        for name in names:
            COMPUTATIONS[name] = function
        return function

    return register


@dataclass
class Sets:
    """One feature space's sets: the scored images' features (or codes), the reference test images' and, for
    memorisation, the training images'. exclude: fake i's own index in `train`, when the scored images are
    training images (the floor, calibration)."""

    fake: Tensor
    real: Tensor
    train: Tensor | None
    cfg: EvalConfig
    exclude: Tensor | None = None
    fake_logits: Tensor | None = None  # the classifier's, in its space
    real_logits: Tensor | None = None
    nn_train_dist_test: float | None = None  # the test images' median distance to the training set (the floor's)
    prefix: str = ""  # of the space's keys: "" in the classifier's, AE_PREFIX in the autoencoder's

    # Unit-length features, shared by the classifier space's nearest-neighbour metrics (computed once).
    @cached_property
    def fake_unit(self) -> Tensor:
        return metrics.unit_rows(self.fake)

    @cached_property
    def real_unit(self) -> Tensor:
        return metrics.unit_rows(self.real)

    @cached_property
    def train_unit(self) -> Tensor:
        return metrics.unit_rows(self.train)


@dataclass
class Bounded:
    """What the likelihood bounds are computed from: the model, test images on its device and the draws."""

    model: nn.Module
    images: Tensor
    cfg: EvalConfig
    generator: torch.Generator


def compute(space: str, inputs: Any, family: str | None = None) -> dict[str, float]:
    """Every registered metric of `space` (those of `family`'s models too, where a metric is family-specific),
    computed from `inputs`, in the registry's order; a metric its function did not return is left out (e.g. a
    class no sample was assigned)."""
    chosen = [m for m in facts.registered() if m.space == space and m.family in (None, family)]
    missing = [m.name for m in chosen if m.name not in COMPUTATIONS]
    if missing:  # before any work is done
        raise RuntimeError(f"metric {missing[0]!r} is registered in gvc/facts.py but nothing computes it: decorate "
                           f"its function with @computes({missing[0]!r}) (gvc/evaluation/computations.py)")
    outputs: dict[Computation, dict[str, float]] = {}
    results: dict[str, float] = {}
    for metric in chosen:
        function = COMPUTATIONS[metric.name]
        if function not in outputs:
            outputs[function] = out = function(inputs)
            strays = [k for k in out if facts.metric_of(k) is None]
            if strays:
                raise RuntimeError(f"{function.__qualname__} returned {strays}: gvc/facts.py registers no such metric")
        out = outputs[function]
        if metric.per_class:
            results.update({k: v for k, v in out.items() if facts.metric_of(k) is metric})
        elif metric.name in out:
            results[metric.name] = out[metric.name]
    return results


# -- either feature space -----------------------------------------------------------------------------------------
# FID and KID on the raw features (or codes), under the space's names.
@computes("fid", f"{facts.AE_PREFIX}fid")
def _fid(s: Sets) -> dict[str, float]:
    return {f"{s.prefix}fid": metrics.frechet_distance(s.real, s.fake)}


@computes("kid_mean", "kid_std", f"{facts.AE_PREFIX}kid_mean", f"{facts.AE_PREFIX}kid_std")
def _kid(s: Sets) -> dict[str, float]:
    mean, std = metrics.kernel_distance(s.real, s.fake, s.cfg.kid_subsets, s.cfg.kid_subset_size, s.cfg.seed)
    return {f"{s.prefix}kid_mean": mean, f"{s.prefix}kid_std": std}


# -- the classifier's space ---------------------------------------------------------------------------------------
# The nearest-neighbour metrics (P/R/D/C, memorisation) use unit-length features: the raw norm mostly encodes
# classifier confidence, and the few low-confidence real digits near the origin have k-NN balls wide enough to
# swallow noise and blur, which would score as "precise".
@computes("precision", "recall")
def _precision_recall(s: Sets) -> dict[str, float]:
    precision, recall = metrics.precision_recall(s.real_unit, s.fake_unit, s.cfg.pr_k)
    return {"precision": precision, "recall": recall}


@computes("density", "coverage")
def _density_coverage(s: Sets) -> dict[str, float]:
    density, coverage = metrics.density_coverage(s.real_unit, s.fake_unit, s.cfg.dc_k)
    return {"density": density, "coverage": coverage}


@computes("inception_score", "classes_covered", "class_kl_uniform", "mean_confidence")
def _class_scores(s: Sets) -> dict[str, float]:
    return metrics.classifier_scores(s.fake_logits, s.cfg.class_min_share)


@computes("nn_train_dist_gen", "nn_train_dist_test", "memorisation_ratio")
def _memorisation(s: Sets) -> dict[str, float]:
    # Medians, not means: a few garbage samples far from everything must not hide a block of near-copies.
    nn_gen = metrics.nearest_distances(s.fake_unit, s.train_unit, s.exclude).median().item()
    return {"nn_train_dist_gen": nn_gen, "nn_train_dist_test": s.nn_train_dist_test,
            "memorisation_ratio": nn_gen / s.nn_train_dist_test}


@computes("fid_class_matched", "fid_class_")
def _class_fids(s: Sets) -> dict[str, float]:
    if not s.cfg.class_fids:
        return {}
    return metrics.class_fids(s.real, s.fake, s.real_logits.argmax(1), s.fake_logits.argmax(1),
                              s.real_logits.shape[1], s.cfg.seed)


# -- the autoencoder's space ----------------------------------------------------------------------------------------
# Raw codes, not unit-length ones: the autoencoder's code norm is image content (ink), not a confidence.
@computes("ae_precision", "ae_recall", "ae_density", "ae_coverage")
def _ae_prdc(s: Sets) -> dict[str, float]:
    return {f"{s.prefix}{k}": v for k, v in metrics.prdc(s.real, s.fake, s.cfg.pr_k, s.cfg.dc_k).items()}


@computes("ae_memorisation_ratio")
def _ae_memorisation(s: Sets) -> dict[str, float]:
    if s.train is None:
        return {}
    # medians, as in the classifier's space: copies show even among garbage samples
    nn_gen = metrics.nearest_distances(s.fake, s.train, s.exclude).median().item()
    return {f"{s.prefix}memorisation_ratio": nn_gen / metrics.nearest_distances(s.real, s.train).median().item()}


# -- the model ------------------------------------------------------------------------------------------------------
@computes("test_nelbo", "test_nll_iw", "test_cb_nelbo", "test_cb_nll_iw")
def _likelihood_bounds(b: Bounded) -> dict[str, float]:
    return metrics.likelihood_bounds(b.model, b.images, b.cfg.iw_samples, b.cfg.batch_size, b.generator)
