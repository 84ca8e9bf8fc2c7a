"""Shared fixtures: composed configs (Hydra's compose API, no subprocess), real-MNIST and Fashion-MNIST caches."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from torch import nn

from gvc.models.base import VAE

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs two test workers side by side (pytest-xdist): one torch thread each, in this process and in
    # the gvc processes it starts, or two workers with two threads each on two cores slow each other several-fold.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
DATA_ROOT = os.environ.get("GVC_DATA", str(Path("~/.cache/gvc/data").expanduser()))
MODEL_NAMES = ["linear_gan", "dcgan", "linear_vae", "conv_vae"]
# Tiny real-MNIST budget: a few steps on a small slice, small test split for the VAEs' test -ELBO.
TINY = ["trainer=smoke", "data.subset=256", "data.test_subset=128", "trainer.progress=false", "eval.enabled=false"]
# The smallest real evaluation, for tests that need an objective but assert no metric's value: every metric is
# computed (both spaces, the VAE bounds) at N = 200 instead of the default 10,000.
TINY_EVAL = ["eval=fast", "eval.n_samples=200", "eval.nll_images=50", "eval.iw_samples=4"]


@pytest.fixture(autouse=True, scope="session")
def gvc_resolvers() -> None:
    """The resolvers of conf/config.yaml's Hydra node, as the entry points register them (tests compose it too)."""
    from gvc.trial.run_identity import register_resolvers

    register_resolvers()


def make_config(overrides: list[str]) -> DictConfig:
    from gvc.config import register_configs

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose(config_name="config", overrides=[f"data.root={DATA_ROOT}", *overrides])


def run_gvc(*args: str, cwd: Path | None = None, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m gvc ARGS` in a subprocess, as a user runs it (`env` adds to or replaces variables)."""
    env = {**os.environ, "GVC_DATA": DATA_ROOT, "HYDRA_FULL_ERROR": "0", **(env or {})}
    return subprocess.run([sys.executable, "-m", "gvc", *args], cwd=cwd or ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def mnist_root() -> str:
    from gvc.data import prepare

    prepare("mnist", DATA_ROOT)
    return DATA_ROOT


@pytest.fixture(scope="session")
def fashion_root() -> str:
    """The real Fashion-MNIST cache (built from Debian's dataset-fashion-mnist). Where that package is not
    installed the tests that need it skip, except in CI (`CI` set, as .ci/run and CI services do): there
    the set-up installs it, so its absence is a failure, not a skip."""
    from gvc.data import DataError, prepare

    try:
        prepare("fashion_mnist", DATA_ROOT)
    except DataError as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI must exercise the real Fashion-MNIST files: {e}")
        pytest.skip(f"Fashion-MNIST not installed here: {e}")
    return DATA_ROOT


def without_timing(rows: list[dict]) -> list[dict]:
    """History rows without the wall-clock column, which no rerun can reproduce."""
    return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in rows]


class TinyVAE(VAE):
    """A small, seeded stand-in VAE on gvc's own VAE base class (encode/decode/generate inherited)."""

    latent_dim = 4

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.Tanh(), nn.Linear(32, 8))
        self.decoder = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 784), nn.Sigmoid())


def imported_by(code: str, watched: tuple[str, ...] = ("torch",)) -> list[str]:
    """Which of the `watched` modules a fresh interpreter has imported after running `code` (start-up cost)."""
    probe = f"{code}\nimport sys\nprint(sorted(set({list(watched)!r}) & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])  # the probe's own printed list
