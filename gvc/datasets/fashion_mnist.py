"""Fashion-MNIST (Xiao et al. 2017): 28x28 grey images of ten kinds of clothing, MNIST's shape and split sizes.

Offline copy: Debian's package `dataset-fashion-mnist` installs the four standard `.gz` files under
/usr/share/datasets/fashion-mnist/ (recompressed, so the .gz checksums differ from torchvision's list; the
decompressed bytes are the standard ones, checked below by their SHA-256).
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from gvc.datasets.spec import IDX_FILES, DatasetSpec, torchvision_download

DEBIAN_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)


def from_gzip_dir(raw: Path, directories: tuple[Path, ...] = DEBIAN_DIRS) -> bool:
    """Gunzip the four standard `.gz` files into `raw` from the first directory holding all of them."""
    for directory in directories:
        if all((directory / f"{name}.gz").is_file() for name in IDX_FILES):
            raw.mkdir(parents=True, exist_ok=True)
            for name in IDX_FILES:
                tmp = raw / f"{name}.{os.getpid()}.tmp"
                with gzip.open(directory / f"{name}.gz", "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                os.replace(tmp, raw / name)
            return True
    return False


def from_debian(raw: Path) -> bool:
    return from_gzip_dir(raw, DEBIAN_DIRS)


DATASET = DatasetSpec(
    name="fashion_mnist",
    title="Fashion-MNIST",
    folder="FashionMNIST",
    image_shape=(1, 28, 28),
    idx_sha256={
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    label_counts={"train": [6000] * 10, "test": [1000] * 10},
    class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"),
    class_noun="kind of clothing",
    pixel_mean=0.2860,
    pixel_std=0.3530,
    how_to_get="Install Debian's offline copy with `apt-get install dataset-fashion-mnist` (as root; files under "
               "/usr/share/datasets/fashion-mnist/), or run once with data.download=true on a machine with "
               "internet access.",
    sources=(from_debian,),
    download=torchvision_download("FashionMNIST"),
    evaluator_epochs=10,
    evaluator_min_accuracy=0.92,
)
