"""Evaluation settings: the `eval` config group (conf/eval/default.yaml mirrors these defaults)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

EVALUATOR_DIR = Path(__file__).resolve().parent


def own_files_dir(dataset: str) -> Path | None:
    """Where a user's own data set keeps its evaluators (its decoded cache, gvc/datasets/own.py); None otherwise."""
    from gvc import datasets

    try:
        return datasets.get(dataset).files_dir
    except KeyError:
        return None


def evaluator_files(dataset: str) -> tuple[Path, Path]:
    """(weights, metadata) of a data set's shipped evaluator: gvc/evaluation/<data set>_classifier.pt / .json."""
    folder = own_files_dir(dataset)
    if folder is not None:
        return folder / "classifier.pt", folder / "classifier.json"
    return EVALUATOR_DIR / f"{dataset}_classifier.pt", EVALUATOR_DIR / f"{dataset}_classifier.json"


def autoencoder_files(dataset: str) -> tuple[Path, Path]:
    """(encoder weights, metadata) of a data set's second, label-free feature space (gvc/evaluation/autoencoder.py);
    an own data set's is trained on its training split at first use and kept in its cache."""
    folder = own_files_dir(dataset)
    if folder is not None:
        return folder / "autoencoder.pt", folder / "autoencoder.json"
    return EVALUATOR_DIR / f"{dataset}_autoencoder.pt", EVALUATOR_DIR / f"{dataset}_autoencoder.json"


def autoencoder_build_hint(dataset: str) -> str:
    if own_files_dir(dataset) is not None:
        return ("it is trained on the data's training split at first use (data.autoencoder_epochs); delete its "
                "files to have it trained again")
    return (f"build it with `python -m gvc.evaluation.train_autoencoder --data {dataset} --threads 1` "
            f"(about a minute on one core)")


AUTOENCODER_STRIDE = 4  # the encoder halves each side twice (gvc/evaluation/autoencoder.py)


def has_classifier(dataset: str) -> bool:
    return all(path.is_file() for path in evaluator_files(dataset))


def evaluation_problem(dataset: str, title: str, second_space: bool) -> str | None:
    """Why a run on `dataset` cannot be evaluated with these settings (and how to fix it), or None.

    The classifier is optional when the second space is on (a data set without labels is measured there alone);
    the second space, when on, is required.
    """
    weights, meta = autoencoder_files(dataset)
    own = own_files_dir(dataset) is not None
    has_encoder = own or (weights.is_file() and meta.is_file())  # an own data set's is trained at first use
    if own and second_space:
        from gvc import datasets

        _, height, width = datasets.get(dataset).image_shape
        if height % AUTOENCODER_STRIDE or width % AUTOENCODER_STRIDE:
            return (f"data={dataset}: the label-free evaluation space needs image sides divisible by "
                    f"{AUTOENCODER_STRIDE}, and {title}'s are {height}x{width}: set data.resize=[H,W] (data=folder) "
                    "to sides divisible by 4, or run without metrics with eval.enabled=false")
    if not has_encoder and not has_classifier(dataset):
        return (f"data={dataset}: {title} has no evaluator (neither {dataset}_classifier.pt/.json nor "
                f"{weights.name}/.json is in {weights.parent}), so its samples cannot be measured. Train one with "
                f"`python -m gvc.evaluation.train_classifier --data {dataset}` and {autoencoder_build_hint(dataset)}, "
                f"or run without metrics with eval.enabled=false.")
    if second_space and not has_encoder:
        return (f"data={dataset}: {title} has no second feature space ({weights.name} and {meta.name} are not in "
                f"{weights.parent}); {autoencoder_build_hint(dataset)}, or run with eval.second_space=false")
    if not second_space and not has_classifier(dataset):
        weights, meta = evaluator_files(dataset)
        return (f"data={dataset}: {title} has no evaluator ({weights.name} and {meta.name} are not in "
                f"{weights.parent}), so its samples cannot be measured. Train one with `python -m "
                f"gvc.evaluation.train_classifier --data {dataset}`, measure it in the label-free space alone with "
                f"eval.second_space=true (once built), or run without metrics with eval.enabled=false.")
    return None


# The budget units an evaluation along training can be scheduled in (gvc/training/along.py): the unit of the
# budget that ends the run.
ALONG_UNITS = ("steps", "images", "train_s", "cpu_s")


@dataclass
class FirstPoints:
    """eval.along.first_by_unit: the first point in each budget unit."""

    steps: float = 25
    images: float = 3200
    train_s: float = 2.0
    cpu_s: float = 2.0


@dataclass
class AlongConfig:
    """eval.along: evaluations at points of the run's own budget unit, at a cheap N, off the budget's clock."""

    enabled: bool = True
    n_samples: int = 2000  # cheap, fixed latents and reference images: points of any runs are comparable
    growth: float = 2.0  # each point this factor times the one before (log-spaced)
    first: Optional[float] = None  # the first point in the run's budget unit; null = first_by_unit's entry
    # By unit (conf/eval/default.yaml says where they come from): where the paper's models first differ from noise.
    first_by_unit: FirstPoints = field(default_factory=FirstPoints)
    points: Optional[int] = 12  # at most this many points before the end; null = every one below the budget
    # The VAEs' likelihood bounds at each point (eval.iw_samples, eval.nll_images at the end): their cost does not
    # shrink with n_samples (100 importance samples of 1,000 images is minutes for the conv VAE on one core).
    iw_samples: int = 10
    nll_images: int = 200
    # KID's subsets at each point (eval.kid_subsets at the end): 100 subsets are a third of a point's cost on a CPU,
    # and the curves need KID's mean, which any number of subsets estimates without bias (its std is noisier).
    kid_subsets: int = 20

    def problems(self) -> list[tuple[str, Any, str]]:
        """(key, value, what is allowed) of each out-of-range field."""
        checks = [
            ("n_samples", self.n_samples >= 4, "at least 4 (KID needs two subsets of two)"),
            ("kid_subsets", self.kid_subsets >= 1, "a positive integer"),
            ("growth", self.growth > 1, "a factor above 1"),
            ("first", self.first is None or self.first > 0, "null or a positive budget value"),
            *((f"first_by_unit.{unit}", getattr(self.first_by_unit, unit) > 0, "a positive budget value")
              for unit in ALONG_UNITS),
            ("points", self.points is None or self.points >= 1, "null or a positive integer"),
            ("iw_samples", self.iw_samples >= 1, "a positive integer"),
            ("nll_images", self.nll_images >= 1, "a positive integer"),
        ]
        return [(name, eval_value(self, name), allowed) for name, ok, allowed in checks if not ok]


def eval_value(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


@dataclass
class EvalConfig:
    enabled: bool = True
    n_samples: int = 10000  # generated images, and (capped at 10k) test images they are compared with
    batch_size: int = 500  # images per generator / evaluator forward pass
    every_epochs: Optional[int] = None  # evaluate every K epochs during training; null = only at the end
    kid_subsets: int = 100
    kid_subset_size: int = 1000  # shrunk to N // 2 when N is smaller, so subsets still differ
    pr_k: int = 3  # neighbours for precision / recall (Kynkaanniemi et al. 2019)
    dc_k: int = 5  # neighbours for density / coverage (Naeem et al. 2020)
    class_min_share: float = 0.01  # a class is "covered" if at least this share of samples is classified as it
    iw_samples: int = 100  # importance samples per test image for the VAE NLL bound
    nll_images: Optional[int] = 1000  # test images for the VAE -ELBO and NLL bound; null = all compared ones
    seed: int = 0  # latents, KID subsets, importance samples and the class-matched resampling
    class_fids: bool = True  # per-class FID and class-matched FID (classifier space)
    second_space: bool = True  # FID / P / R / D / C in the label-free autoencoder space too
    along: AlongConfig = field(default_factory=AlongConfig)  # evaluations along training (evals.csv)

    def validate(self) -> "EvalConfig":
        """Raise ValueError naming the first out-of-range field; returns self for chaining."""
        checks = [
            ("n_samples", self.n_samples >= 4, "at least 4 (KID needs two subsets of two)"),
            ("batch_size", self.batch_size >= 1, "a positive integer"),
            ("every_epochs", self.every_epochs is None or self.every_epochs >= 1, "null or a positive integer"),
            ("kid_subsets", self.kid_subsets >= 1, "a positive integer"),
            ("kid_subset_size", self.kid_subset_size >= 2, "at least 2"),
            ("pr_k", self.pr_k >= 1, "a positive integer"),
            ("dc_k", self.dc_k >= 1, "a positive integer"),
            ("class_min_share", 0.0 < self.class_min_share <= 0.1, "in (0, 0.1]"),
            ("iw_samples", self.iw_samples >= 1, "a positive integer"),
            ("nll_images", self.nll_images is None or self.nll_images >= 1, "null or a positive integer"),
        ]
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"eval.{name}={getattr(self, name)!r} is not allowed: {allowed}")
        for name, value, allowed in self.along.problems():
            raise ValueError(f"eval.along.{name}={value!r} is not allowed: {allowed}")
        if self.along.n_samples <= max(self.pr_k, self.dc_k):
            raise ValueError(f"eval.along.n_samples={self.along.n_samples} must exceed pr_k and dc_k")
        neighbours = max(self.pr_k, self.dc_k)
        if self.n_samples <= neighbours:
            raise ValueError(f"eval.n_samples={self.n_samples} must exceed pr_k and dc_k ({neighbours})")
        return self


def as_eval_config(cfg: Any) -> EvalConfig:
    """An EvalConfig from an EvalConfig, a mapping or an OmegaConf node (e.g. `cfg.eval`), validated."""
    if isinstance(cfg, EvalConfig):
        return dataclasses.replace(cfg).validate()
    if not isinstance(cfg, Mapping):  # DictConfig is a MutableMapping, but be explicit for other node types
        from omegaconf import OmegaConf

        cfg = OmegaConf.to_container(cfg, resolve=True)
    known = {f.name for f in dataclasses.fields(EvalConfig)}
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise ValueError(f"unknown eval settings {unknown}; known ones are {sorted(known)}")
    cfg = dict(cfg)
    if isinstance(cfg.get("along"), Mapping):
        along = dict(cfg["along"])
        if isinstance(along.get("first_by_unit"), Mapping):
            along["first_by_unit"] = FirstPoints(**along["first_by_unit"])
        cfg["along"] = AlongConfig(**along)
    return EvalConfig(**cfg).validate()
