"""Images -> evaluator features and logits, with an on-disk cache for a data set's training images.

The training-set embedding is needed by every evaluation (memorisation looks up nearest training images)
and costs a 60k-image forward pass, so it is computed once per evaluator checksum and stored beside the data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from gvc.data import load_split, spec_of, to_model_range
from gvc.evaluation.classifier import NUM_FEATURES, Classifier


@dataclass
class Embedding:
    features: Tensor  # (N, 128), the evaluator's penultimate layer
    logits: Tensor  # (N, classes)

    def __len__(self) -> int:
        return len(self.features)

    def subset(self, index: Tensor) -> "Embedding":
        return Embedding(self.features[index], self.logits[index])


@torch.no_grad()
def embed(evaluator: Classifier, images: Tensor, batch_size: int, device: torch.device | str) -> Embedding:
    """Features and logits of float images in [0, 1], (N, C, H, W), in batches; results stay on `device`."""
    features, logits = [], []
    for x in images.split(batch_size):
        f = evaluator.features(x.to(device, torch.float32))
        features.append(f)
        logits.append(evaluator.classify(f))
    return Embedding(torch.cat(features), torch.cat(logits))


def cache_dir(data_root: str | os.PathLike) -> Path:
    """Where evaluation caches live: next to the data caches, so they travel (and get deleted) with them."""
    return Path(data_root).expanduser() / "gvc-eval"


def train_embedding(evaluator: Classifier, checksum: str, data_root: str | os.PathLike,
                    batch_size: int, device: torch.device | str, dataset: str = "mnist") -> Embedding:
    """Embedding of all training images, from the cache for this evaluator checksum or computed and cached."""
    spec = spec_of(dataset)
    prefix = "" if spec.name == "mnist" else f"{spec.name}-"  # MNIST keeps the cache name it always had
    path = cache_dir(data_root) / f"{prefix}train-embedding-{checksum[:16]}.pt"
    cached = _load(path, spec.n_images(train=True), spec.num_classes)
    if cached is not None:
        return Embedding(cached.features.to(device), cached.logits.to(device))
    train = load_split(spec, data_root, train=True)
    result = embed(evaluator, to_model_range(train.images, (0.0, 1.0)), batch_size, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # unique per process: parallel runs may race
    torch.save({"features": result.features.cpu(), "logits": result.logits.cpu()}, tmp)
    os.replace(tmp, path)
    return result


def _load(path: Path, n_train: int, num_classes: int) -> Embedding | None:
    """The cached embedding, or None if absent or not a well-formed embedding (then it is recomputed)."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        features, logits = state["features"], state["logits"]
    except Exception:  # truncated or foreign file: recompute rather than fail
        return None
    if features.shape != (n_train, NUM_FEATURES) or logits.shape != (n_train, num_classes):
        return None
    if not (torch.isfinite(features).all() and torch.isfinite(logits).all()):
        return None
    return Embedding(features, logits)

