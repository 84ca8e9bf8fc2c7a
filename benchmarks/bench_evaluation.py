"""Wall time of a full evaluate() at N = 10,000 with small stand-in models (target: < 30 s on 2 CPU cores).

    python benchmarks/bench_evaluation.py [--n 10000] [--device cpu] [--data-root ~/.cache/gvc/data] [--repeats 3]

"cold" starts from an empty evaluation cache (it embeds the 60k training images and computes the real floor);
"warm" is every later call with the same evaluator and settings, i.e. the cost a training run pays.
The caches go to a temporary directory that links to the MNIST files, so the user's caches are untouched.

Then the cost of issue 17's extra metrics, before and after in one run: warm calls with eval.class_fids=false
and eval.second_space=false (the metric set and code path gvc had before them) interleaved with warm calls with
both on (the default), `--repeats` times each; medians and their ratio (target: at most 1.5x), with the load
average, since other processes on the machine change both.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from gvc.data import prepare_mnist
from gvc.evaluation.config import EvalConfig
from gvc.evaluation.evaluate import evaluate


class StandInGAN(nn.Module):
    """An untrained MLP generator the size of a small GAN's (100-256-512-784)."""

    family = "gan"
    latent_dim = 100

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                                 nn.Linear(512, 784), nn.Tanh())

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return (self.net(z).view(-1, 1, 28, 28) + 1) / 2


class StandInVAE(nn.Module):
    """An untrained MLP VAE the size of a small one's (784-512-128-2x16 / 16-128-512-784)."""

    family = "vae"
    latent_dim = 16

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 128), nn.ReLU(),
                                     nn.Linear(128, 32))
        self.decoder = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 512), nn.ReLU(),
                                     nn.Linear(512, 784), nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(-1, 1, 28, 28)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode(z)


def BEFORE(cfg: EvalConfig) -> EvalConfig:
    """The settings without issue 17's extra metrics: the code path evaluate() took before them."""
    return dataclasses.replace(cfg, class_fids=False, second_space=False)


def timed(model: nn.Module, cfg: EvalConfig, device: str, root: Path) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    results = evaluate(model, cfg, device, root)
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-root", default=os.environ.get("GVC_DATA", "~/.cache/gvc/data"))
    parser.add_argument("--repeats", type=int, default=3, help="warm calls per variant in the before/after comparison")
    args = parser.parse_args()

    torch.manual_seed(0)
    mnist = prepare_mnist(args.data_root) / "MNIST"
    cfg = EvalConfig(n_samples=args.n)
    print(f"N={args.n}, device={args.device}, torch threads={torch.get_num_threads()}, cpus={os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "MNIST").symlink_to(mnist.resolve(), target_is_directory=True)
        timed(StandInGAN(), BEFORE(cfg), args.device, root)  # its own floor and noise level (other cache keys)
        cold, _ = timed(StandInGAN(), cfg, args.device, root)
        print(f"{cold:6.1f} s  GAN, cold: embeds the 60k training digits and computes the real floor first")
        warm, results = timed(StandInGAN(), cfg, args.device, root)
        print(f"{warm:6.1f} s  GAN, warm: training embedding and floor read from the cache")
        vae, vae_results = timed(StandInVAE(), cfg, args.device, root)
        print(f"{vae:6.1f} s  VAE, warm, with -ELBO and the IW bound ({cfg.iw_samples} samples x "
              f"{cfg.nll_images} test images)")
        before, after = [], []
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        for _ in range(args.repeats):  # interleaved, so drifting load affects both alike
            before.append(timed(StandInGAN(), BEFORE(cfg), args.device, root)[0])
            after.append(timed(StandInGAN(), cfg, args.device, root)[0])
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        b, a = statistics.median(before), statistics.median(after)
        print(f"{b:6.1f} s  GAN, warm, without the extra metrics (class_fids=false, second_space=false): "
              + ", ".join(f"{t:.1f}" for t in before))
        print(f"{a:6.1f} s  GAN, warm, with per-class / class-matched FID and the autoencoder space: "
              + ", ".join(f"{t:.1f}" for t in after))
        print(f"ratio {a / b:.2f}x (target <= 1.5x)")
    floor = {k.removeprefix("floor_"): v for k, v in results.items() if k.startswith("floor_")}
    print("real floor (train vs test): " + ", ".join(f"{k}={v:.4g}" for k, v in floor.items()))
    assert all(math.isfinite(v) for v in {**results, **vae_results}.values())


if __name__ == "__main__":
    main()
