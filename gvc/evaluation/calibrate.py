"""What each metric detects: `python -m gvc.evaluation.calibrate --data NAME [--n 5000]` scores known corruptions.

A user's own images get their own card: `--data folder data.path=DIR` (or `--data array data.path=FILE.npy`, with
any other data.KEY=VALUE of conf/data/folder.yaml): their label-free space is the one their runs are measured in;
without labels the class corruptions (mode drops, the skewed histogram) are left out.

Real training images, corrupted in known ways, are scored against the test images with every metric, in every
feature space the data set has: Gaussian blur at several σ, salt specks (a share of pixels set white), additive
Gaussian noise, mode drops (9, 5, 1 classes kept), a skewed class histogram, exact copies of training images,
uniform noise and the real floor (clean training images). Writes `<out>/<data>-n<N>.csv` and `.md` (the metric
card docs/metrics.md carries). Nothing is cached for the runs: the table is for people.

Every corruption starts from the same N training images drawn with a fixed seed (mode drops and the skewed
histogram draw N from the kept classes with their true labels), so rows differ only by the corruption.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
from torch import Tensor
from torchvision.transforms.functional import gaussian_blur

from gvc import datasets, facts
from gvc.datasets import own
from gvc.data import DataError, load_split, spec_of, to_model_range
from gvc.evaluation.config import EvalConfig, evaluation_problem
from gvc.evaluation.evaluate import NOISE_SEED, reference_images, score_images

CALIBRATION_SEED = 11  # which training images are corrupted, and the corruptions' own draws
SKEW_RATIO = 0.7  # skewed histogram: class c gets a share proportional to SKEW_RATIO ** c
# The card's column order for the built-in metrics, as docs/metrics.md prints it; which metrics are columns is the
# registry's to say (card_columns).
CARD_ORDER = ("fid", "kid_mean", "precision", "recall", "density", "coverage", "classes_covered", "class_kl_uniform",
              "inception_score", "memorisation_ratio", "fid_class_matched", "ae_fid", "ae_precision", "ae_recall",
              "ae_density", "ae_coverage", "ae_kid_mean", "ae_memorisation_ratio")
LABELLED_CORRUPTIONS = ("mode_drop", "skewed_classes")  # need the data's labels
CORRUPTIONS = ("floor", "blur", "specks", "gaussian_noise", "mode_drop", "skewed_classes", "copies", "uniform_noise")


def card_columns() -> tuple[str, ...]:
    """The card's columns: every registered metric with a floor and a noise level (an image set's score, not a
    model's) that may be an objective (no spreads, per-class values or raw distances) and is marked for the card;
    in CARD_ORDER, then any other in the registry's order. A metric a data set lacks is left out of its card."""
    names = [m.name for m in facts.registered() if m.card and m.referenced and m.objective and not m.per_class]
    return tuple(sorted(names, key=lambda n: CARD_ORDER.index(n) if n in CARD_ORDER else len(CARD_ORDER)))


class CalibrationError(ValueError):
    """A calibration setting is out of range or unknown."""


@dataclass
class Settings:
    dataset: str = "mnist"
    n: int = 5000
    blur_sigmas: Sequence[float] = (0.5, 1.0, 2.0)
    speck_shares: Sequence[float] = (0.01, 0.05, 0.2)
    noise_stds: Sequence[float] = (0.1, 0.3)
    kept_classes: Sequence[int] = (9, 5, 1)
    corruptions: Sequence[str] = field(default_factory=lambda: list(CORRUPTIONS))

    def validate(self) -> "Settings":
        """Raise CalibrationError naming the first bad setting, before any data is loaded."""
        known = datasets.known()
        if self.dataset not in known:
            raise CalibrationError(f"--data {self.dataset}: unknown data set; known ones are {known}")
        spec = spec_of(self.dataset)
        problem = evaluation_problem(spec.name, spec.title, second_space=True)
        if problem:
            raise CalibrationError(problem)
        unknown = [c for c in self.corruptions if c not in CORRUPTIONS]
        if unknown:
            raise CalibrationError(f"unknown corruption {unknown}; known ones are {list(CORRUPTIONS)}")
        if not spec.labelled:  # no classes to drop or skew
            self.corruptions = [c for c in self.corruptions if c not in LABELLED_CORRUPTIONS]
            self.kept_classes = ()
        elif tuple(self.kept_classes) == Settings.kept_classes:  # the defaults, for data with fewer classes
            self.kept_classes = tuple(k for k in Settings.kept_classes if k < spec.num_classes)
        if not 10 <= self.n <= spec.n_images(train=False):
            raise CalibrationError(f"--n {self.n}: between 10 and {spec.n_images(train=False)} (the test images)")
        for name, values, ok, allowed in (
            ("--blur", self.blur_sigmas, lambda v: v > 0, "σ > 0"),
            ("--specks", self.speck_shares, lambda v: 0 < v < 1, "a share in (0, 1)"),
            ("--noise", self.noise_stds, lambda v: v > 0, "a standard deviation > 0"),
            ("--kept-classes", self.kept_classes, lambda v: 1 <= v < spec.num_classes,
             f"between 1 and {spec.num_classes - 1}"),
        ):
            bad = [v for v in values if not (math.isfinite(v) and ok(v))]
            if bad:
                raise CalibrationError(f"{name} {bad[0]} is not allowed: {allowed}")
        return self


def blur(images: Tensor, sigma: float) -> Tensor:
    size = 2 * math.ceil(3 * sigma) + 1
    return gaussian_blur(images, [size, size], [sigma, sigma])


def specks(images: Tensor, share: float, generator: torch.Generator) -> Tensor:
    """A share of the pixels set white (salt noise)."""
    return torch.where(torch.rand(images.shape, generator=generator) < share, torch.ones_like(images), images)


def gaussian_noise(images: Tensor, std: float, generator: torch.Generator) -> Tensor:
    return (images + std * torch.randn(images.shape, generator=generator)).clamp(0, 1)


def draw_classes(labels: Tensor, shares: Tensor, n: int, generator: torch.Generator) -> Tensor:
    """n training-image indices whose classes follow `shares` (a histogram over classes)."""
    counts = (shares / shares.sum() * n).floor().long()
    counts[shares.argmax()] += n - counts.sum()  # rounding remainder to the largest class
    picks = []
    for c, count in enumerate(counts.tolist()):
        pool = (labels == c).nonzero().flatten()
        picks.append(pool[torch.randperm(len(pool), generator=generator)[:count]])
    return torch.cat(picks)


def corrupted_sets(settings: Settings, train_images: Tensor, labels: Tensor
                   ) -> list[tuple[str, str, Callable[[], tuple[Tensor, Tensor | None]]]]:
    """(corruption, parameter, make) rows; make() -> (images in [0, 1], exclude) where exclude gives each image's
    own training index when it must not count as its own nearest training image."""
    g = lambda: torch.Generator().manual_seed(CALIBRATION_SEED)  # noqa: E731 (the same draws for every row)
    base_index = torch.randperm(len(train_images), generator=g())[: settings.n]
    base = to_model_range(train_images[base_index], (0.0, 1.0))
    num_classes = int(labels.max()) + 1

    def by_classes(shares: Tensor) -> tuple[Tensor, Tensor]:
        index = draw_classes(labels, shares, settings.n, g())
        return to_model_range(train_images[index], (0.0, 1.0)), index

    rows: list[tuple[str, str, Callable[[], tuple[Tensor, Tensor | None]]]] = []
    chosen = set(settings.corruptions)
    if "floor" in chosen:
        rows.append(("floor", "clean training images", lambda: (base, base_index)))
    if "blur" in chosen:
        rows += [("blur", f"σ = {s:g}", lambda s=s: (blur(base, s), base_index)) for s in settings.blur_sigmas]
    if "specks" in chosen:
        rows += [("specks", f"{p:.0%} of pixels white", lambda p=p: (specks(base, p, g()), base_index))
                 for p in settings.speck_shares]
    if "gaussian_noise" in chosen:
        rows += [("gaussian_noise", f"std {s:g}", lambda s=s: (gaussian_noise(base, s, g()), base_index))
                 for s in settings.noise_stds]
    if "mode_drop" in chosen:
        for kept in settings.kept_classes:
            shares = (torch.arange(num_classes) < kept).double()
            rows.append(("mode_drop", f"{kept} of {num_classes} classes", lambda s=shares: by_classes(s)))
    if "skewed_classes" in chosen:
        shares = torch.tensor([SKEW_RATIO ** c for c in range(num_classes)], dtype=torch.float64)
        rows.append(("skewed_classes", f"share ∝ {SKEW_RATIO}^class", lambda: by_classes(shares)))
    if "copies" in chosen:  # the same images, but now their own training copies count: a model that memorised
        rows.append(("copies", "exact training images", lambda: (base, None)))
    if "uniform_noise" in chosen:
        rows.append(("uniform_noise", "pixels ~ U[0, 1]", lambda: (
            torch.rand(settings.n, *base.shape[1:], generator=torch.Generator().manual_seed(NOISE_SEED)), None)))
    return rows


def calibrate(settings: Settings, data_root: str | os.PathLike, device: str = "cpu",
              eval_cfg: EvalConfig | None = None) -> pd.DataFrame:
    """One row per corruption and parameter, one column per metric (card_columns() the data set's spaces give)."""
    settings.validate()
    cfg = eval_cfg or EvalConfig(n_samples=settings.n)
    cfg = EvalConfig(**{**cfg.__dict__, "n_samples": settings.n, "second_space": True}).validate()
    train = load_split(settings.dataset, data_root, train=True)
    real = reference_images(settings.dataset, data_root, settings.n)
    rows = []
    for corruption, parameter, make in corrupted_sets(settings, train.images, train.labels):
        images, exclude = make()
        scores = score_images(images, real, cfg, settings.dataset, data_root, torch.device(device), exclude)
        rows.append({"corruption": corruption, "parameter": parameter,
                     **{name: scores[name] for name in card_columns() if name in scores}})
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    lines = [header, "|" + "---|" * len(table.columns)]
    for _, r in table.iterrows():
        cells = [r["corruption"], r["parameter"]] + [_fmt(r[c]) for c in table.columns[2:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mnist", help=f"the data set: one of {datasets.known()}")
    parser.add_argument("--n", type=int, default=5000, help="images per set (compare only tables at equal N)")
    parser.add_argument("--data-root", default=os.environ.get("GVC_DATA", "~/.cache/gvc/data"))
    parser.add_argument("--out", type=Path, default=Path("calibration"), help="folder for the CSV and markdown")
    parser.add_argument("--blur", type=float, nargs="+", default=list(Settings.blur_sigmas), help="σ values")
    parser.add_argument("--specks", type=float, nargs="+", default=list(Settings.speck_shares),
                        help="shares of pixels set white, in (0, 1)")
    parser.add_argument("--noise", type=float, nargs="+", default=list(Settings.noise_stds), help="noise stds")
    parser.add_argument("--kept-classes", type=int, nargs="+", default=list(Settings.kept_classes))
    parser.add_argument("--corruptions", nargs="+", default=list(CORRUPTIONS), help=f"a subset of {CORRUPTIONS}")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("overrides", nargs="*", metavar="data.KEY=VALUE",
                        help="for --data folder / array: data.path=... and the data set's other keys")
    args = parser.parse_args(argv)
    try:
        dataset = own.name_from_args(args.data, args.overrides, args.data_root)
        settings = Settings(dataset, args.n, args.blur, args.specks, args.noise, args.kept_classes, args.corruptions)
        settings.validate()
    except (CalibrationError, DataError) as e:
        from gvc.errors import fail

        fail(str(e))
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    table = calibrate(settings, args.data_root, args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{settings.dataset}-n{args.n}"
    table.to_csv(stem.with_suffix(".csv"), index=False)
    stem.with_suffix(".md").write_text(to_markdown(table))
    print(to_markdown(table))
    print(f"wrote {stem}.csv and {stem}.md ({time.perf_counter() - start:.0f} s, "
          f"{torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
