"""What gvc knows about a data set: its shape, the SHA-256 of its files, its labels, and where to get it.

Every data set is stored in one fixed contract, the IDX files MNIST made standard, under
`ROOT/<folder>/raw/` (torchvision's layout, so its downloads land in the same place):
`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`.
A data set's `sources` are functions that write those four files into a folder from some offline copy and
return True, or return False when their copy is not on this machine.

A user's own images (`data=folder`, `data=array`) are a `DataSource` instead: a module sets
`DATASET = DataSource(...)`, and gvc/datasets/own.py turns the files at `data.path` into a DatasetSpec of their
own (named by their content hash) whose splits are decoded once into a cache (`load`, `files_dir`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

class DataError(RuntimeError):
    """The data set cannot be found, built or verified (gvc.data re-exports it)."""


IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def torchvision_download(class_name: str) -> Callable[[Path], None]:
    """A `download` that lets torchvision's data-set class `class_name` fetch both splits into ROOT."""
    def download(root: Path) -> None:
        import torchvision.datasets

        dataset = getattr(torchvision.datasets, class_name)
        dataset(str(root), train=True, download=True)
        dataset(str(root), train=False, download=True)

    return download


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # the key in conf/data/NAME.yaml and summary.json
    title: str  # for people: "Fashion-MNIST"
    folder: str  # ROOT/<folder>/raw holds the IDX files (torchvision's class name for its downloads)
    image_shape: tuple[int, int, int]  # (channels, height, width)
    idx_sha256: dict[str, str]  # SHA-256 of each decompressed IDX file: the cache is verified against them
    label_counts: dict[str, list[int]]  # "train" / "test": images per class, checked at every load
    class_names: tuple[str, ...]
    pixel_mean: float  # training-set pixel mean and std in [0, 1]: the evaluator normalises with them
    pixel_std: float
    how_to_get: str  # the sentence an error shows when no copy is found
    sources: tuple[Callable[[Path], bool], ...] = ()  # offline copies, tried in order
    download: Callable[[Path], None] | None = None  # online fallback (data.download=true), writes into ROOT
    evaluator_epochs: int = 4  # train_classifier's defaults for this data set's evaluator
    evaluator_min_accuracy: float = 0.9
    notes: dict[str, str] = field(default_factory=dict)
    class_noun: str = "class"  # what one class is, for captions: "digit" ("the first test image of each digit")
    # A user's own data (gvc/datasets/own.py): load(train) -> (uint8 images, int64 labels) from its decoded cache,
    # and the folder holding its evaluators (else gvc/evaluation/). An unlabelled one has no class_names and one
    # count per split in label_counts.
    load: Callable[[bool], tuple[Any, Any]] | None = None
    files_dir: Path | None = None
    record: dict[str, Any] = field(default_factory=dict)  # what summary.json records of it (hash, split, ...)

    def n_images(self, train: bool) -> int:
        return sum(self.label_counts["train" if train else "test"])

    @property
    def labelled(self) -> bool:
        return bool(self.class_names)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass(frozen=True)
class DataSource:
    """A data set made from a user's own files (`data=NAME data.path=...`): its facts are read from the files.

    read(path, options) checks the files and returns a gvc.datasets.own.Found (content hash, shape, labels, and how
    to decode them), raising DataError with the fix; options are the data config's own keys (channels, resize).
    """
    name: str  # conf/data/NAME.yaml
    title: str  # for people: "image folder"
    read: Callable[[Path, Any], Any]
    what: str  # what data.path must be, for errors: "a folder of PNG, JPEG or BMP images"
