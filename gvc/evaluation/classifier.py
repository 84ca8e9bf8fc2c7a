"""The MNIST evaluator: a small CNN whose features and logits replace Inception's for FID, KID, P/R/D/C and IS.

Inception-v3 weights cannot be downloaded here and Inception is a poor fit for 28x28 grey digits anyway;
an MNIST classifier trained once, shipped with the package and pinned by its SHA-256, gives numbers that are
comparable across runs and machines (Binkowski et al. 2018 use a LeNet on MNIST the same way).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

WEIGHTS_PATH = Path(__file__).with_name("mnist_classifier.pt")
META_PATH = Path(__file__).with_name("mnist_classifier.json")
NUM_FEATURES = 128
NUM_CLASSES = 10
# MNIST training-set pixel mean and std: normalising inside the net lets every caller pass [0, 1] images.
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081


class EvaluatorError(RuntimeError):
    """The shipped evaluator weights are missing or differ from the recorded checksum."""


class MNISTClassifier(nn.Module):
    """conv32-pool-conv64-pool-fc128-fc10 on (N, 1, 28, 28) images in [0, 1]."""

    def __init__(self, dropout: float = 0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)  # 28x28
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)  # 14x14
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(64 * 7 * 7, NUM_FEATURES)
        self.fc2 = nn.Linear(NUM_FEATURES, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (after its ReLU): what the classification layer sees, (N, 128)."""
        x = (x - PIXEL_MEAN) / PIXEL_STD
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = self.dropout(x.flatten(1))
        return torch.relu(self.fc1(x))

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Class logits from `features(x)`: lets callers get both from one pass."""
        return self.fc2(self.dropout(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, (N, 10)."""
        return self.classify(self.features(x))


class FeatureExtractor(nn.Module):
    """The evaluator's 128-d features as a torchmetrics `feature=` module (FID, KID): float images in [0, 1]."""

    def __init__(self, classifier: MNISTClassifier):
        super().__init__()
        self.classifier = classifier
        self.num_features = NUM_FEATURES

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(x.float())


class LogitsExtractor(nn.Module):
    """The evaluator's logits as a torchmetrics InceptionScore `feature=` module."""

    def __init__(self, classifier: MNISTClassifier):
        super().__init__()
        self.classifier = classifier
        self.num_features = NUM_CLASSES

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x.float())


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def evaluator_metadata() -> dict:
    """What train_classifier recorded: sha256, test accuracy, seed, epochs, torch version."""
    if not META_PATH.is_file():
        raise EvaluatorError(f"{META_PATH} is missing; rebuild it with `python -m gvc.evaluation.train_classifier`")
    return json.loads(META_PATH.read_text())


def evaluator_checksum() -> str:
    """SHA-256 of the shipped weights as recorded: it names the evaluator in cached results."""
    return evaluator_metadata()["sha256"]


def load_evaluator(device: torch.device | str = "cpu") -> MNISTClassifier:
    """The shipped classifier, verified against its recorded SHA-256, in eval mode on `device`."""
    if not WEIGHTS_PATH.is_file():
        raise EvaluatorError(f"{WEIGHTS_PATH} is missing; rebuild it with `python -m gvc.evaluation.train_classifier`")
    expected, actual = evaluator_checksum(), file_sha256(WEIGHTS_PATH)
    if actual != expected:
        # Metrics from a different evaluator are not comparable with recorded ones: refuse rather than guess.
        raise EvaluatorError(f"{WEIGHTS_PATH} has SHA-256 {actual}, but {META_PATH.name} records {expected}")
    net = MNISTClassifier()
    net.load_state_dict(torch.load(WEIGHTS_PATH, map_location="cpu", weights_only=True))
    return net.to(device).eval().requires_grad_(False)
