"""Adding a data set and a model takes exactly the README's steps: one Python file and one YAML each.

The toy files are written to a scratch folder that is appended to the packages' search path (as if they
had been saved in gvc/datasets/ and gvc/models/), and the YAMLs to a copy of conf/. Nothing else changes:
the registry finds them, the config validates them, and a real (tiny) training run uses them.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

import gvc.datasets
import gvc.models
from gvc.config import ConfigError, register_configs, validate
from gvc.trial import rundir
from tests.conftest import CONF

# gvc/datasets/toy_squares.py: 16x16 images of a bright square whose corner encodes the class.
GENERATOR = '''
import numpy as np

def toy_arrays(n, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    images = np.zeros((n, 16, 16), dtype=np.uint8)
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 2)
        images[i, 2 + 7 * r: 7 + 7 * r, 2 + 7 * c: 7 + 7 * c] = 200 + rng.integers(0, 56)
    return images, labels.astype(np.uint8)
'''
DATASET_FILE = GENERATOR + '''
from pathlib import Path

from gvc.datasets.idx import write_idx
from gvc.datasets.spec import DatasetSpec


def generate(raw: Path) -> bool:
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", 400, 0), ("t10k", 100, 1)):
        images, labels = toy_arrays(n, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return True


DATASET = DatasetSpec(
    name="toy_squares", title="Toy squares", folder="ToySquares", image_shape=(1, 16, 16),
    idx_sha256=HASHES, label_counts={"train": [100] * 4, "test": [25] * 4},
    class_names=("top left", "top right", "bottom left", "bottom right"), pixel_mean=0.1, pixel_std=0.3,
    how_to_get="It is generated on the fly.", sources=(generate,),
)
'''
DATASET_YAML = """
defaults:
  - data_schema
name: toy_squares
root: ~/.cache/gvc/data
batch_size: ${model.paper.batch_size}
"""
# gvc/models/toy_gan.py: a model with a knob of its own (`hidden`) that no other model has.
MODEL_FILE = '''
import math
from dataclasses import dataclass

from torch import nn

from gvc.models.base import GAN, MNIST_SHAPE, ModelConfig


@dataclass
class ToyGANConfig(ModelConfig):
    hidden: int = 32

    def check(self):
        return super().check() + [("hidden", self.hidden >= 1, "a positive integer")]


class ToyGAN(GAN):
    name = "toy_gan"
    Config = ToyGANConfig

    def __init__(self, cfg, image_shape=MNIST_SHAPE):
        super().__init__()
        self.latent_dim, self.image_shape = cfg.latent_dim, tuple(image_shape)
        pixels = math.prod(image_shape)
        self.generator = nn.Sequential(nn.Linear(cfg.latent_dim, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, pixels), nn.Tanh())
        self.discriminator = nn.Sequential(nn.Flatten(), nn.Linear(pixels, cfg.hidden), nn.LeakyReLU(0.2), nn.Linear(cfg.hidden, 1))


MODEL = ToyGAN
'''
MODEL_YAML = """
defaults:
  - toy_gan_schema
name: toy_gan
latent_dim: 8
hidden: 24
paper:
  lr: 1.0e-3
  batch_size: 32
"""


def toy_hashes(scratch: Path) -> dict[str, str]:
    """The SHA-256 a data-set author records: of the files the generator writes."""
    namespace: dict = {}
    exec(GENERATOR, namespace)
    from gvc.datasets.idx import write_idx

    hashes = {}
    for prefix, n, seed in (("train", 400, 0), ("t10k", 100, 1)):
        images, labels = namespace["toy_arrays"](n, seed)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = scratch / f"{prefix}-{kind}-ubyte"
            write_idx(path, array)
            hashes[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@pytest.fixture
def extended(tmp_path, monkeypatch):
    """The two files 'saved' into the packages and the two YAMLs into conf/; registries restored afterwards."""
    (tmp_path / "datasets").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "scratch").mkdir()
    hashes = toy_hashes(tmp_path / "scratch")
    (tmp_path / "datasets" / "toy_squares.py").write_text(DATASET_FILE.replace("HASHES", repr(hashes)))
    (tmp_path / "models" / "toy_gan.py").write_text(MODEL_FILE)
    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    (conf / "data" / "toy_squares.yaml").write_text(textwrap.dedent(DATASET_YAML))
    (conf / "model" / "toy_gan.yaml").write_text(textwrap.dedent(MODEL_YAML))

    monkeypatch.setattr(gvc.datasets, "__path__", [*gvc.datasets.__path__, str(tmp_path / "datasets")])
    monkeypatch.setattr(gvc.models, "__path__", [*gvc.models.__path__, str(tmp_path / "models")])
    monkeypatch.setattr(gvc.datasets, "_REGISTRY", dict(gvc.datasets._REGISTRY))
    monkeypatch.setattr(gvc.models, "MODELS", dict(gvc.models.MODELS))
    for module in ("gvc.datasets.toy_squares", "gvc.models.toy_gan"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    register_configs()

    def make(overrides: list[str]):
        with initialize_config_dir(version_base="1.3", config_dir=str(conf)):
            return compose(config_name="config", overrides=[f"data.root={tmp_path / 'data'}", *overrides])

    return make


def test_a_toy_model_and_data_set_train_through_the_registries(extended, tmp_path):
    from gvc.trial.task import run

    cfg = extended(["model=toy_gan", "data=toy_squares", "model.hidden=16", "trainer=smoke", "trainer.threads=1",
                    "trainer.progress=false", "eval.enabled=false"])
    assert "toy_squares" in gvc.datasets.known() and "toy_gan" in gvc.models.MODELS
    validate(cfg)
    run(cfg, tmp_path / "run")
    summary = rundir.read_summary(tmp_path / "run")
    assert summary["status"] == "completed" and summary["data"] == "toy_squares" and summary["family"] == "gan"
    # sized by the data: 16x16 = 256 pixels into the discriminator, the toy's own knob as its width
    assert summary["params"]["discriminator"] == 256 * 16 + 16 + 16 + 1
    [grid] = (tmp_path / "run" / "samples").glob("*.png")
    assert Image.open(grid).size == (5 * 18 + 2, 5 * 18 + 2)  # 5x5 tiles of 16 pixels, 2-pixel gutters


def test_the_toy_extensions_get_the_same_checks(extended):
    with pytest.raises(ConfigError, match="model.hidden"):
        validate(extended(["model=toy_gan", "data=toy_squares", "model.hidden=0", "eval.enabled=false"]))
    with pytest.raises(ConfigError, match="toy_squares.*no evaluator.*eval.enabled=false"):
        validate(extended(["model=toy_gan", "data=toy_squares"]))  # stops before any training
    with pytest.raises(ConfigError, match="data.subset"):
        validate(extended(["model=dcgan", "data=toy_squares", "data.subset=401", "eval.enabled=false"]))
    with pytest.raises(Exception, match="hidden"):
        extended(["model=dcgan", "model.hidden=3"])  # a toy knob is not a key of the other models
