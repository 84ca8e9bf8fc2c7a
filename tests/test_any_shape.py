"""Analysis for any image shape and channel count: a toy RGB 32x32 data set goes through training (without an
evaluator: eval.enabled=false) and `python -m analysis`, with tiles and captions from the data set's spec."""

from __future__ import annotations

import hashlib
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

import gvc.datasets
from gvc.config import register_configs
from gvc.trial import rundir
from tests.conftest import CONF

SHAPE = (3, 32, 32)
N_TRAIN, N_TEST = 256, 64
# gvc/datasets/toy_colours.py: 32x32 RGB images, one colour channel lit per class, with some noise.
GENERATOR = '''
import numpy as np

def toy_colours(n, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    images = rng.integers(0, 40, size=(n, 32, 32, 3), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, 4:28, 4:28, int(label) % 3] = 200 if label < 3 else 120
    return images, labels.astype(np.uint8)
'''
DATASET_FILE = GENERATOR + '''
from pathlib import Path

from gvc.datasets.idx import write_idx
from gvc.datasets.spec import DatasetSpec


def generate(raw: Path) -> bool:
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", N_TRAIN, 0), ("t10k", N_TEST, 1)):
        images, labels = toy_colours(n, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return True


DATASET = DatasetSpec(
    name="toy_colours", title="Toy colours", folder="ToyColours", image_shape=(3, 32, 32),
    idx_sha256=HASHES, label_counts={"train": [N_TRAIN // 4] * 4, "test": [N_TEST // 4] * 4},
    class_names=("red", "green", "blue", "dim red"), class_noun="colour", pixel_mean=0.2, pixel_std=0.3,
    how_to_get="It is generated on the fly.", sources=(generate,),
)
'''.replace("N_TRAIN", str(N_TRAIN)).replace("N_TEST", str(N_TEST))
DATASET_YAML = """
defaults:
  - data_schema
name: toy_colours
root: ~/.cache/gvc/data
batch_size: 32
"""


def hashes(scratch: Path) -> dict[str, str]:
    namespace: dict = {}
    exec(GENERATOR, namespace)
    from gvc.datasets.idx import write_idx

    found = {}
    for prefix, n, seed in (("train", N_TRAIN, 0), ("t10k", N_TEST, 1)):
        images, labels = namespace["toy_colours"](n, seed)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = scratch / f"{prefix}-{kind}-ubyte"
            write_idx(path, array)
            found[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def colours(tmp_path, monkeypatch):
    """The toy data set 'saved' into gvc/datasets/ and conf/data/; a compose function for its runs."""
    for folder in ("datasets", "scratch"):
        (tmp_path / folder).mkdir()
    (tmp_path / "datasets" / "toy_colours.py").write_text(DATASET_FILE.replace("HASHES", repr(hashes(tmp_path / "scratch"))))
    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    (conf / "data" / "toy_colours.yaml").write_text(textwrap.dedent(DATASET_YAML))
    monkeypatch.setattr(gvc.datasets, "__path__", [*gvc.datasets.__path__, str(tmp_path / "datasets")])
    monkeypatch.setattr(gvc.datasets, "_REGISTRY", dict(gvc.datasets._REGISTRY))
    monkeypatch.delitem(sys.modules, "gvc.datasets.toy_colours", raising=False)
    register_configs()

    def make(overrides: list[str]):
        with initialize_config_dir(version_base="1.3", config_dir=str(conf)):
            return compose(config_name="config", overrides=[f"data.root={tmp_path / 'data'}", *overrides])

    return make


@pytest.mark.slow
def test_a_colour_data_set_of_another_size_trains_and_gets_a_report(colours, tmp_path):
    from analysis.report import build_report
    from gvc.trial.task import run

    runs = tmp_path / "runs"
    for model in ("linear_gan", "linear_vae"):
        cfg = colours([f"model={model}", "data=toy_colours", "trainer=smoke", "trainer.threads=1", "trainer.progress=false",
                       "eval.enabled=false", "trainer.sample_every=1"])
        run(cfg, runs / model)
        assert rundir.read_summary(runs / model)["status"] == "completed"
        with Image.open(rundir.sample_grids(runs / model)[1]) as grid:  # 5x5 tiles of 32 px, 2 px gutters
            assert grid.size == (5 * 34 + 2, 5 * 34 + 2)
    report = build_report([runs])
    md = (report / "report.md").read_text() if (report / "report.md").is_file() else \
        "\n".join(p.read_text() for p in report.rglob("report.md"))
    assert "digit" not in md and "MNIST" not in md
    assert "Toy colours test image of each colour (red, green, blue, dim red)" in md  # the reconstructions' caption
    assert "rows marked red→dim red interpolate" in md  # between the first and the last of its four classes
    pictures = {p.name: p for p in report.rglob("*.png")}
    for name in ("samples_final.png", "reconstructions.png", "interpolations.png", "samples_over_epochs_linear_vae.png"):
        assert name in pictures, sorted(pictures)
    with Image.open(pictures["samples_final.png"]) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    assert np.abs(pixels[..., 0] - pixels[..., 1]).max() > 30  # drawn in colour, not converted to grey
