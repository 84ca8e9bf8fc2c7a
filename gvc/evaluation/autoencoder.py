"""The second, label-free feature space: a small convolutional autoencoder per data set, trained on its training split.

The classifier's space (gvc/evaluation/classifier.py) knows the data set's classes, so FID there can be lowered by
matching the class histogram alone (Kynkaenniemi et al. 2023), and rankings can depend on the space chosen
(Stein et al. 2023). The autoencoder's 64-d code is learned without labels, from pixels alone, so (a) it is an
independent second ruler whose rankings are set beside the classifier's, and (b) a data set without a classifier
can still be measured in it. Shipped beside the classifiers (gvc/evaluation/<data>_autoencoder.pt/.json, only the
encoder: it is all the metrics need), pinned by SHA-256, retrained by
`python -m gvc.evaluation.train_autoencoder --data NAME`.
"""

from __future__ import annotations

import json

import torch
from torch import nn

from gvc.data import spec_of
from gvc.datasets.spec import DatasetSpec
from gvc.evaluation.classifier import EvaluatorError, file_sha256
from gvc.evaluation.config import autoencoder_build_hint as build_hint
from gvc.evaluation.config import autoencoder_files

CODE_DIM = 64


class Encoder(nn.Module):
    """conv16/2-conv32/2-fc64 on (N, C, H, W) images in [0, 1] (H, W divisible by 4): the 64-d code is the feature."""

    def __init__(self, dataset: str | DatasetSpec = "mnist"):
        super().__init__()
        channels, height, width = spec_of(dataset).image_shape
        self.net = nn.Sequential(
            nn.Conv2d(channels, 16, 3, stride=2, padding=1), nn.ReLU(),  # H/2 x W/2
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),  # H/4 x W/4
            nn.Flatten(), nn.Linear(32 * (height // 4) * (width // 4), CODE_DIM),
        )
        self.num_features = CODE_DIM

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """The encoder's mirror, to train it; not shipped."""

    def __init__(self, dataset: str | DatasetSpec = "mnist"):
        super().__init__()
        channels, height, width = spec_of(dataset).image_shape
        self.shape = (32, height // 4, width // 4)
        self.fc = nn.Linear(CODE_DIM, 32 * (height // 4) * (width // 4))
        self.net = nn.Sequential(
            nn.ReLU(), nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),  # H/2 x W/2
            nn.ConvTranspose2d(16, channels, 4, stride=2, padding=1),  # H x W, logits
        )

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(code).view(-1, *self.shape))


def autoencoder_metadata(dataset: str) -> dict:
    meta = autoencoder_files(dataset)[1]
    if not meta.is_file():
        raise EvaluatorError(f"the second feature space of data={dataset} is missing ({meta.name} is not in "
                             f"{meta.parent}); {build_hint(dataset)}, or set eval.second_space=false")
    return json.loads(meta.read_text())


def autoencoder_checksum(dataset: str) -> str:
    return autoencoder_metadata(dataset)["sha256"]


def load_encoder(device: torch.device | str, dataset: str) -> Encoder:
    """The data set's shipped encoder, verified against its recorded SHA-256, in eval mode on `device`."""
    weights, meta = autoencoder_files(dataset)
    expected = autoencoder_checksum(dataset)  # refuses a missing .json with the build command
    if not weights.is_file():
        raise EvaluatorError(f"{weights} is missing; {build_hint(dataset)}")
    actual = file_sha256(weights)
    if actual != expected:
        raise EvaluatorError(f"{weights} has SHA-256 {actual}, but {meta.name} records {expected}; {build_hint(dataset)}")
    net = Encoder(dataset)
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return net.to(device).eval().requires_grad_(False)


@torch.no_grad()
def encode(encoder: Encoder, images: torch.Tensor, batch_size: int, device: torch.device | str) -> torch.Tensor:
    """Codes of float images in [0, 1], (N, C, H, W), in batches; on `device`."""
    return torch.cat([encoder(x.to(device, torch.float32)) for x in images.split(batch_size)])
