"""Pictures of what the models make, read from checkpoints and saved sample grids; nothing is trained.

One run stands for each model: its best completed run by the model's objective (else the latest run with a
checkpoint, e.g. a diverged run's last good weights; else any run with saved samples).

Latent vectors are shared: `shared_z(d, n, seed)` draws them from a CPU generator seeded with `seed`, exactly
as training draws its 25 fixed vectors, so every model with the same latent size gets the same z, and with
seed 0 a seed-0 run's regenerated grid equals its own final saved grid.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

from analysis.artifact import Artifact, save
from analysis.collect import Collection, Run, to_float
from analysis.conclusions import REAL_DATA
from analysis.figures import styled
from analysis.stats import MINIMIZE, describe
from analysis.tables import completed_objectives, fmt, models_in_order, objective_frame
from gvc.trial import rundir
if TYPE_CHECKING:  # torch is imported where a model is rebuilt or run, not with the report: see _no_grad
    import torch

N_GRID = 25  # the 5x5 sample grid of training
PAD = 2  # torchvision save_image(nrow=5, padding=2) gutters of samples/epoch_XXXX.png; tiles are the data's size
MAX_EPOCH_ROWS = 10
EPOCH_COLUMNS = 10  # the first 10 of the 25 fixed latents: the same latent in every row of a column
INTERPOLATION_STEPS = 10
N_STATISTICS = 512  # samples (and real test images) for the image statistics
ENCODED_PAIR = (3, 8)  # VAEs also interpolate between the encodings of the first test image of class 3 and of class 8
UNLABELLED_ROW = 10  # test images shown (reconstructed) for a data set without labels
# (of the first and the last class, for a data set with fewer classes)


@dataclass
class Representative:
    model: str
    run: Run
    why: str


def representatives(collection: Collection) -> dict[str, Representative]:
    """One run per model to picture: the best completed run by the model's objective that has a checkpoint or
    saved samples; failing that, the latest run with a checkpoint (a diverged run keeps its last good weights),
    then any run with saved samples."""
    obj = objective_frame(collection)
    done = completed_objectives(obj)
    chosen = {}
    for model in models_in_order(collection):
        part = done[done["model"] == model]
        ascending = part["direction"].iloc[0] == MINIMIZE if len(part) else True
        ranked = [collection.run(name) for name in part.sort_values("value", ascending=ascending, kind="stable")["run"]]
        pictured = [r for r in ranked if r.checkpoint or r.sample_grids]
        if pictured:
            why = ("best completed run by its objective" if pictured[0] is ranked[0] else
                   "best completed run with a checkpoint or saved samples; better runs have neither")
            chosen[model] = Representative(model, pictured[0], why)
            continue
        runs = [r for r in collection.runs if r.model == model]
        with_ckpt = sorted((r for r in runs if r.checkpoint), key=lambda r: str(r.summary.get("started_at", "")))
        with_samples = [r for r in runs if r.sample_grids]
        if with_ckpt:
            r = with_ckpt[-1]
            chosen[model] = Representative(model, r, f"no completed run with images; latest checkpoint (status {r.status})")
        elif with_samples:
            r = with_samples[-1]
            chosen[model] = Representative(model, r, f"no completed run with images; saved samples (status {r.status})")
    return chosen


def _no_grad(function: Callable[..., Any]) -> Callable[..., Any]:
    """torch.no_grad() around each call, imported then: importing the report needs no torch, drawing grids does."""
    @functools.wraps(function)
    def without_gradients(*args: Any, **kwargs: Any) -> Any:
        import torch

        with torch.no_grad():
            return function(*args, **kwargs)
    return without_gradients


def shared_z(latent_dim: int, n: int = N_GRID, seed: int = 0) -> torch.Tensor:
    import torch

    return torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))


class Models:
    """Loads each run's checkpoint once (CPU, weights only); remembers why one could not be loaded."""

    def __init__(self) -> None:
        self._cache: dict[Path, torch.nn.Module | None] = {}
        self.problems: dict[Path, str] = {}

    def get(self, run: Run) -> torch.nn.Module | None:
        if run.path not in self._cache:
            self._cache[run.path] = self._load(run)
        return self._cache[run.path]

    def _load(self, run: Run) -> torch.nn.Module | None:
        from gvc.training.rebuild import from_checkpoint

        path = run.checkpoint
        if path is None:
            self.problems[run.path] = "no checkpoint"
            return None
        try:
            ckpt = rundir.read_checkpoint(path)  # weights_only, CPU, format-checked
            model = from_checkpoint(ckpt, run.config)  # the one rebuild, from the checkpoint's own config
        except Exception as e:  # noqa: BLE001 - a damaged or foreign checkpoint falls back to saved samples
            self.problems[run.path] = f"checkpoint unreadable ({type(e).__name__}: {e})"
            return None
        return model.eval()


def spec_of_run(run: Run):
    """The data set's spec (image shape, class names) of a run; MNIST's for runs of an unknown data set."""
    from analysis.datasets import data_of
    from gvc.data import DataError, spec_of

    try:  # a user's own data set is found in the data.root the run used
        return spec_of(data_of(run), root=(run.config.get("data") or {}).get("root"))
    except (DataError, KeyError):
        return spec_of("mnist")


def to_tiles(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) images in [0, 1] as tiles to draw: (N, H, W) for one channel, (N, H, W, C) for colour."""
    x = images.float().clamp(0, 1).cpu()
    return (x[:, 0] if x.shape[1] == 1 else x.permute(0, 2, 3, 1)).numpy()


@_no_grad
def generate(model: torch.nn.Module, z: torch.Tensor) -> np.ndarray:
    return to_tiles(model.generate(z))


def read_grid(path: Path, channels: int = 1) -> np.ndarray:
    """A saved sample grid as a float image in [0, 1]: grey (H, W) for a one-channel data set, else (H, W, 3)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("L" if channels == 1 else "RGB"), dtype=np.float32) / 255.0


def grid_tiles(grid: np.ndarray, tile: tuple[int, int], nrow: int = 5) -> np.ndarray | None:
    """The (height, width) images of a save_image grid, row-major; None if the picture has another geometry."""
    (h, w), (ch, cw) = tile, (tile[0] + PAD, tile[1] + PAD)
    rows, cols = (grid.shape[0] - PAD) // ch, (grid.shape[1] - PAD) // cw
    if rows < 1 or cols != nrow or grid.shape[:2] != (PAD + rows * ch, PAD + cols * cw):
        return None
    return np.stack([grid[PAD + r * ch: PAD + r * ch + h, PAD + c * cw: PAD + c * cw + w]
                     for r in range(rows) for c in range(cols)])


def compose(rows: list[np.ndarray], ncols: int | None = None) -> np.ndarray:
    """Rows of tiles (all of one size) into one picture with white 2-pixel gutters (as save_image draws them)."""
    ncols = ncols or max(len(r) for r in rows)
    h, w = rows[0].shape[1:3]
    canvas = np.ones((PAD + len(rows) * (h + PAD), PAD + ncols * (w + PAD), *rows[0].shape[3:]), dtype=np.float32)
    for i, row in enumerate(rows):
        for j, tile in enumerate(row[:ncols]):
            top, left = PAD + i * (h + PAD), PAD + j * (w + PAD)
            canvas[top: top + h, left: left + w] = tile
    return canvas


def show(ax, image: np.ndarray) -> None:
    """imshow for grey (H, W) or colour (H, W, 3) pictures in [0, 1], pixels unsmoothed."""
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")


def _labelled_rows(rows: list[tuple[str, np.ndarray]], path: Path, title: str, xlabels: list[str] | None = None) -> Path:
    canvas = compose([tiles for _, tiles in rows])
    h, w = rows[0][1].shape[1:3]
    height, width = canvas.shape[:2]
    with styled():
        fig = Figure(figsize=(width / 40 + 1.6, height / 40 + 0.8), layout="constrained")
        ax = fig.subplots()
        show(ax, canvas)
        ax.set_yticks([PAD + i * (h + PAD) + h / 2 for i in range(len(rows))], [label for label, _ in rows])
        if xlabels:
            ax.set_xticks([PAD + j * (w + PAD) + w / 2 for j in range(len(xlabels))], xlabels)
        else:
            ax.set_xticks([])
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_title(title)
        return save(fig, path)


# -- the pictures ----------------------------------------------------------------------------------------------
def final_samples(collection: Collection, reps: dict[str, Representative], models: Models, out: Path,
                  seed: int, notes: list[str]) -> list[Artifact]:
    """Every model's samples side by side: regenerated from the shared z, else the run's last saved grid."""
    panels = []
    for model, rep in reps.items():
        net = models.get(rep.run)
        if net is not None:
            z = shared_z(net.latent_dim, N_GRID, seed)
            tiles = generate(net, z)
            panels.append((model, compose([tiles[i: i + 5] for i in range(0, N_GRID, 5)]),
                           f"{rep.run.name}, epoch {rep.run.summary.get('epochs', '?')}, z: seed {seed}, d={net.latent_dim}"))
        elif rep.run.sample_grids:
            epoch, grid = max(rep.run.sample_grids.items())
            panels.append((model, read_grid(grid, spec_of_run(rep.run).image_shape[0]),
                           f"{rep.run.name}, saved grid of epoch {epoch} "
                                                   f"({models.problems.get(rep.run.path, 'no checkpoint')})"))
        else:
            notes.append(f"{model}: no checkpoint and no saved samples, so no final samples to show.")
    if not panels:
        return []
    with styled():
        fig = Figure(figsize=(3.0 * len(panels), 3.6), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(panels), squeeze=False).ravel())
        for ax, (model, image, _) in zip(axes, panels):
            show(ax, image)
            ax.set_title(model)
            ax.axis("off")
        path = save(fig, out / "samples_final.png")
    sources = "; ".join(f"{m}: {note}" for m, _, note in panels)
    return [Artifact(path, "Final samples, side by side",
                     "Each model's final 5×5 samples. Regenerated from the checkpoint with one shared set of 25 "
                     "latent vectors per latent size (models with the same latent size get identical z); where "
                     f"there is no usable checkpoint, the run's last saved grid is shown instead. Sources — {sources}.",
                     section="lead")]


def _epoch_rows(run: Run) -> list[tuple[str, np.ndarray]]:
    grids = run.sample_grids
    epochs = sorted(grids)
    if len(epochs) > MAX_EPOCH_ROWS:  # evenly spaced, always the first and the last
        picks = np.unique(np.linspace(0, len(epochs) - 1, MAX_EPOCH_ROWS).round().astype(int))
        epochs = [epochs[i] for i in picks]
    rows = []
    channels, height, width = spec_of_run(run).image_shape
    for epoch in epochs:
        try:
            tiles = grid_tiles(read_grid(grids[epoch], channels), (height, width))
        except OSError:
            continue  # a grid being written right now, or damaged: that epoch is left out
        if tiles is not None:
            rows.append((f"epoch {epoch}", tiles[:EPOCH_COLUMNS]))
    return rows


def samples_over_epochs(collection: Collection, reps: dict[str, Representative], out: Path,
                        notes: list[str]) -> list[Artifact]:
    """Per model: rows = epochs (from samples/), columns = the same fixed latent vectors."""
    artifacts = []
    for model, rep in reps.items():
        run = rep.run if rep.run.sample_grids else next((r for r in collection.runs if r.model == model
                                                         and r.sample_grids), None)
        rows = _epoch_rows(run) if run else []
        if not rows:
            notes.append(f"{model}: no readable saved sample grids (samples/epoch_XXXX.png), so no samples over epochs.")
            continue
        path = _labelled_rows(rows, out / f"samples_over_epochs_{model}.png", f"{model} ({run.name})")
        artifacts.append(Artifact(path, f"{model}: samples over training",
                                  f"Samples of {run.name} saved during training: each row an epoch, each column one "
                                  f"of the run's first {EPOCH_COLUMNS} fixed latent vectors, so a column shows one "
                                  "sample evolving (the paper's figures 3, 4, 7 and 8).", section="images"))
    return artifacts


class TestImages:
    """The runs' data set's test images (loaded once, lazily) from their data.root; None with a reason if unavailable."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self._data: tuple[torch.Tensor, torch.Tensor] | None = None
        self.problem = ""
        self._tried = False

    def get(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(images in [0, 1] as (N, C, H, W), labels) or None."""
        if not self._tried:
            self._tried = True
            from analysis.datasets import data_of
            from gvc.data import DataError, load_split, spec_of, to_model_range

            roots = [r.config.get("data", {}).get("root") for r in self.collection.runs]
            root = next((str(r) for r in roots if isinstance(r, str) and "${" not in r), "~/.cache/gvc/data")
            name = data_of(self.collection.runs[0])  # the report is built per data set
            try:
                split = load_split(spec_of(name, root=root), Path(root).expanduser(), train=False)
                self._data = (to_model_range(split.images, (0.0, 1.0)), split.labels)
            except (DataError, OSError, RuntimeError) as e:
                self.problem = f"{name} test set not available ({e})"
        return self._data

    @property
    def spec(self):
        return spec_of_run(self.collection.runs[0])

    def first_of_each_class(self) -> tuple[torch.Tensor, list[int]] | None:
        """The first test image of each class (in class order) and their indices; None without test images."""
        data = self.get()
        if data is None:
            return None
        images, labels = data
        if not self.spec.labelled:  # a user's own unlabelled images: the first few test images instead
            index = list(range(min(UNLABELLED_ROW, len(images))))
            return images[index], index
        index = [int(found[0]) for c in range(self.spec.num_classes) if len(found := (labels == c).nonzero())]
        return images[index], index


@_no_grad
def reconstructions(reps: dict[str, Representative], models: Models, test: TestImages, out: Path,
                    notes: list[str]) -> list[Artifact]:
    """VAEs: the first test image of each class (top row) and each VAE's reconstruction below it."""
    vaes = [(m, rep, models.get(rep.run)) for m, rep in reps.items() if rep.run.family == "vae"]
    usable = [(m, rep, net) for m, rep, net in vaes if net is not None]
    for m, rep, net in vaes:
        if net is None:
            notes.append(f"{m}: {models.problems.get(rep.run.path, 'no checkpoint')}, so no reconstructions.")
    if not usable:
        return []
    originals = test.first_of_each_class()
    if originals is None:
        notes.append(f"Reconstructions skipped: {test.problem}.")
        return []
    x, _ = originals
    rows = [("test images", to_tiles(x))]
    for model, rep, net in usable:
        mu, _ = net.encode(x)
        rows.append((model, to_tiles(net.decode(mu))))
    path = _labelled_rows(rows, out / "reconstructions.png", "VAE reconstructions")
    spec = test.spec
    top = (f"Top: the first {spec.title} test image of each {spec.class_noun} ({', '.join(spec.class_names)}); "
           if spec.labelled else f"Top: the first {len(x)} {spec.title} test images (the data has no labels); ")
    return [Artifact(path, "VAE reconstructions", top +
                     "below: each VAE's reconstruction, decoded from the encoder's mean (no sampling), shown as the "
                     "decoder's means.", section="images")]


def encoded_pair(spec) -> tuple[tuple[int, int], list[str]]:
    """Which two test images a VAE's latent line joins: two classes' first images, or (no labels) the first two."""
    if not spec.labelled:
        return (0, 1), ["test image 1", "test image 2"]
    classes = ENCODED_PAIR if spec.num_classes > max(ENCODED_PAIR) else (0, spec.num_classes - 1)
    return classes, [spec.class_names[c] for c in classes]


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation: Gaussian latents live near a sphere, and slerp stays near it where the
    straight line between two samples passes through the improbable region around the origin."""
    import torch

    t = t.view(-1, 1)
    cos = torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-6:  # (anti)parallel ends: the line is as good
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


@_no_grad
def interpolations(reps: dict[str, Representative], models: Models, test: TestImages, out: Path, seed: int,
                   notes: list[str]) -> list[Artifact]:
    """Every model: slerp between two prior samples; VAEs also: a line between two test encodings."""
    import torch

    t = torch.linspace(0, 1, INTERPOLATION_STEPS)
    rows = []
    encoded = False
    spec = test.spec
    classes, pair_names = encoded_pair(spec)
    for model, rep in reps.items():
        net = models.get(rep.run)
        if net is None:
            notes.append(f"{model}: {models.problems.get(rep.run.path, 'no checkpoint')}, so no interpolation.")
            continue
        z = shared_z(net.latent_dim, N_GRID, seed)
        rows.append((f"{model}: prior", generate(net, slerp(z[0], z[1], t))))
        pair = test.first_of_each_class() if rep.run.family == "vae" else None
        if pair is not None and len(pair[1]) == (spec.num_classes if spec.labelled else len(pair[1])) >= 2:
            mu, _ = net.encode(pair[0][list(classes)])
            path_z = (1 - t.view(-1, 1)) * mu[0] + t.view(-1, 1) * mu[1]
            rows.append((f"{model}: {pair_names[0]}→{pair_names[1]}", generate(net, path_z)))
            encoded = True
    if not rows:
        return []
    path = _labelled_rows(rows, out / "interpolations.png", "Latent interpolations",
                          xlabels=[fmt(v, 2) for v in t.tolist()])
    ends = (f"the first {spec.title} test images of the {spec.class_noun} {pair_names[0]} and of the "
            f"{spec.class_noun} {pair_names[1]}" if spec.labelled else f"the first two {spec.title} test images")
    extra = (f" VAE rows marked {pair_names[0]}→{pair_names[1]} interpolate linearly between the encoder means of "
             f"{ends}.") if encoded else ""
    return [Artifact(path, "Latent interpolations",
                     "Rows marked 'prior' interpolate spherically (slerp) between two shared latent vectors (the "
                     f"first two of the shared z, seed {seed}: the first two images of the final-samples grid), "
                     f"t = 0 … 1 in {INTERPOLATION_STEPS} steps." + extra, section="images")]


# -- image statistics ------------------------------------------------------------------------------------------
def gray_and_speckle(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the share of ink (> 0.25) that is mid-gray (0.25-0.75), a blur proxy (NaN for an image with
    no ink); and the number of isolated bright pixels (>= 0.5 with no bright 4-neighbour), a noise proxy."""
    x = images if images.ndim == 3 else images.mean(axis=-1)  # colour tiles (N, H, W, C): their luminance
    gray = ((x > 0.25) & (x < 0.75)).sum(axis=(1, 2))
    ink = (x > 0.25).sum(axis=(1, 2))
    bright = x >= 0.5
    padded = np.pad(bright, ((0, 0), (1, 1), (1, 1)))
    neighbours = padded[:, :-2, 1:-1] | padded[:, 2:, 1:-1] | padded[:, 1:-1, :-2] | padded[:, 1:-1, 2:]
    speckles = (bright & ~neighbours).sum(axis=(1, 2)).astype(float)
    return np.where(ink > 0, gray / np.maximum(ink, 1), np.nan), speckles


IMAGE_STAT_COLUMNS = ["model", "run", "seed", "source", "n", "gray_fraction", "gray_fraction_se", "gray_fraction_n",
                      "speckles", "speckles_se", "speckles_n"]


def _stat_row(label: str, run: str, source: str, images: np.ndarray, seed: float = math.nan) -> dict[str, object]:
    gray, speckles = gray_and_speckle(images)
    row: dict[str, object] = {"model": label, "run": run, "seed": seed, "source": source, "n": len(images)}
    for name, values in (("gray_fraction", gray), ("speckles", speckles)):
        d = describe(values)  # over the images where the statistic is defined
        row[name] = d["mean"]
        row[f"{name}_se"] = d["std"] / math.sqrt(d["n"]) if d["n"] > 1 else math.nan
        row[f"{name}_n"] = d["n"]
    return row


def image_statistics(runs: dict[str, list[Run]], models: Models, test: TestImages, seed: int,
                     n: int = N_STATISTICS) -> pd.DataFrame:
    """Blur and speckle proxies of n samples (shared z) of every run given (per model: the seeds of its chosen
    configuration that have a checkpoint), one row per run, and of n real test images for reference. A run's
    value is its mean over images; a model's spread is over its runs, never over the images of one run."""
    rows = []
    for model, measured in runs.items():
        for run in measured:
            net = models.get(run)
            if net is not None:
                rows.append(_stat_row(model, run.name, f"{n} samples, z seed {seed}",
                                      generate(net, shared_z(net.latent_dim, n, seed)),
                                      to_float(run.summary.get("seed", (run.config.get("trainer") or {}).get("seed")))))
    data = test.get()
    if rows and data is not None:
        rows.append(_stat_row(REAL_DATA, "", f"first {n} {test.spec.title} test images", to_tiles(data[0][:n])))
    return pd.DataFrame(rows, columns=IMAGE_STAT_COLUMNS)
