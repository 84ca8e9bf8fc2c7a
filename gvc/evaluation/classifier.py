"""The evaluators: one small CNN per data set whose features and logits replace Inception's for FID, KID, P/R/D/C, IS.

Inception-v3 weights cannot be downloaded here and Inception is a poor fit for 28x28 grey images anyway;
a classifier of the data set's own classes, trained once, shipped with the package and pinned by its
SHA-256, gives numbers that are comparable across runs and machines (Binkowski et al. 2018 use a LeNet on
MNIST the same way). Numbers from different evaluators (data sets) live in different feature spaces and
are never compared with each other.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from gvc.data import spec_of
from gvc.datasets.spec import DatasetSpec
from gvc.evaluation.config import autoencoder_files, evaluator_files

WEIGHTS_PATH, META_PATH = evaluator_files("mnist")
NUM_FEATURES = 128
NUM_CLASSES = 10  # MNIST's; other data sets give theirs through the constructor


class EvaluatorError(RuntimeError):
    """The shipped evaluator weights are missing or differ from the recorded checksum."""


class Classifier(nn.Module):
    """conv32-pool-conv64-pool-fc128-fc<classes> on (N, C, H, W) images in [0, 1] (H, W divisible by 4).

    The data set's pixel mean and std are plain attributes (not weights): normalising inside the net lets
    every caller pass [0, 1] images, and the MNIST weights file stays byte-identical.
    """

    def __init__(self, dataset: str | DatasetSpec = "mnist", dropout: float = 0.25):
        super().__init__()
        spec = spec_of(dataset)
        channels, height, width = spec.image_shape
        self.pixel_mean, self.pixel_std = spec.pixel_mean, spec.pixel_std
        self.conv1 = nn.Conv2d(channels, 32, 3, padding=1)  # H x W
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)  # H/2 x W/2
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(64 * (height // 4) * (width // 4), NUM_FEATURES)
        self.fc2 = nn.Linear(NUM_FEATURES, spec.num_classes)
        self.num_classes = spec.num_classes

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (after its ReLU): what the classification layer sees, (N, 128)."""
        x = (x - self.pixel_mean) / self.pixel_std
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = self.dropout(x.flatten(1))
        return torch.relu(self.fc1(x))

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Class logits from `features(x)`: lets callers get both from one pass."""
        return self.fc2(self.dropout(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, (N, classes)."""
        return self.classify(self.features(x))


MNISTClassifier = Classifier  # the name from when MNIST was the only data set


class FeatureExtractor(nn.Module):
    """The evaluator's 128-d features as a torchmetrics `feature=` module (FID, KID): float images in [0, 1]."""

    def __init__(self, classifier: Classifier):
        super().__init__()
        self.classifier = classifier
        self.num_features = NUM_FEATURES

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(x.float())


class LogitsExtractor(nn.Module):
    """The evaluator's logits as a torchmetrics InceptionScore `feature=` module."""

    def __init__(self, classifier: Classifier):
        super().__init__()
        self.classifier = classifier
        self.num_features = classifier.num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x.float())


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _retrain_hint(dataset: str) -> str:
    return f"rebuild it with `python -m gvc.evaluation.train_classifier --data {dataset}`"


def evaluator_metadata(dataset: str = "mnist") -> dict:
    """What train_classifier recorded: data set, sha256, test accuracy, seed, epochs, torch version."""
    meta_path = evaluator_files(dataset)[1]
    if not meta_path.is_file():
        raise EvaluatorError(f"{meta_path} is missing; {_retrain_hint(dataset)}")
    return json.loads(meta_path.read_text())


def evaluator_checksum(dataset: str = "mnist") -> str:
    """SHA-256 of the shipped weights as recorded: it names the evaluator in cached results."""
    return evaluator_metadata(dataset)["sha256"]


def evaluator_identity(dataset: str) -> dict:
    """Which evaluator measured a run's metrics, for summary.json: its data set, checksum and test accuracy."""
    if not evaluator_files(dataset)[1].is_file():  # no labels (a user's own images): the label-free space alone
        ae_meta = autoencoder_files(dataset)[1]
        if not ae_meta.is_file():
            raise EvaluatorError(f"neither {evaluator_files(dataset)[1]} nor {ae_meta} exists: nothing measured data={dataset}")
        meta = json.loads(ae_meta.read_text())
        return {"data": dataset, "space": "autoencoder", "sha256": meta["sha256"],
                "test_reconstruction_bce": meta["test_reconstruction_bce"]}
    meta = evaluator_metadata(dataset)
    return {"data": dataset, "sha256": meta["sha256"], "test_accuracy": meta["test_accuracy"]}


def load_evaluator(device: torch.device | str = "cpu", dataset: str = "mnist") -> Classifier:
    """The data set's shipped classifier, verified against its recorded SHA-256, in eval mode on `device`."""
    weights, meta_path = evaluator_files(dataset)
    if not weights.is_file():
        raise EvaluatorError(f"{weights} is missing; {_retrain_hint(dataset)}")
    expected, actual = evaluator_checksum(dataset), file_sha256(weights)
    if actual != expected:
        # Metrics from a different evaluator are not comparable with recorded ones: refuse rather than guess.
        raise EvaluatorError(f"{weights} has SHA-256 {actual}, but {meta_path.name} records {expected}")
    net = Classifier(dataset)
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return net.to(device).eval().requires_grad_(False)
