"""`python -m gvc.sample RUN_DIR [--n 64] [--out FILE.png | --npy FILE] [--seed S] [--ema]`: images from a trained run.

Draws N standard-normal latent vectors with the seed (the same ones on every machine), generates them with the
run's last checkpoint (`--checkpoint best`: the best one along training) and writes a PNG grid (default
RUN_DIR/generated/samples_stepK_nN_seedS.png, K the checkpoint's step) or a NumPy array (N, C, H, W) of pixels in [0, 1]. A file named with --out or --npy is never overwritten;
the default file is rewritten only with the same images (same checkpoint step, N, seed and weights).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

from gvc.errors import ConfigError, fail
from gvc.trial.rundir import CheckpointError
from gvc.trial.trained import TrainedRun, load_trained

GENERATED = "generated"  # RUN_DIR/generated/: what these commands made from a run, beside what training made


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gvc.sample", description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory with a checkpoint")
    parser.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, help="PNG grid to write (default RUN_DIR/generated/samples_stepK_nN_seedS.png)")
    where.add_argument("--npy", type=Path, help="write the images as a NumPy array (N, C, H, W) in [0, 1] instead")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent vectors (default 0)")
    parser.add_argument("--checkpoint", choices=("last", "best"), default="last",
                        help="last (default): the final weights; best: the best evaluation along training (eval.along)")
    parser.add_argument("--ema", action="store_true", help="use the EMA of the generator's weights (model.ema_decay)")
    parser.add_argument("--batch-size", type=int, default=500, help="latents per forward pass (default 500)")
    return parser.parse_args(argv)


def sample(trained: TrainedRun, n: int = 64, seed: int = 0, batch_size: int = 500) -> torch.Tensor:
    """n images (n, C, H, W) in [0, 1] from a trained run's model, from latents drawn with `seed` on the CPU."""
    from gvc.evaluation.evaluate import generate

    if n < 1 or batch_size < 1:
        raise ConfigError(f"--n {n} --batch-size {batch_size} is not allowed: positive numbers")
    return generate(trained.model, n, batch_size, seed, torch.device("cpu"), trained.image_shape)


def default_out(trained: TrainedRun, n: int, seed: int) -> Path:
    return trained.run_dir / GENERATED / f"samples_step{trained.step}_n{n}_seed{seed}{'_ema' if trained.ema else ''}.png"


def write(images: torch.Tensor, out: Path | None = None, npy: Path | None = None, replace: bool = False) -> Path:
    """The images as a PNG grid (`out`) or a .npy array (`npy`); an existing file is refused unless `replace`."""
    from torchvision.utils import save_image

    path = Path(npy if npy is not None else out)
    if path.exists() and not replace:
        raise ConfigError(f"{path} already exists; refusing to overwrite it. Choose another file with "
                          f"{'--npy' if npy is not None else '--out'}, or delete it")
    path.parent.mkdir(parents=True, exist_ok=True)
    if npy is not None:
        np.save(path, images.numpy().astype(np.float32))
    else:
        save_image(images, path, nrow=math.ceil(math.sqrt(len(images))), padding=2, pad_value=1.0)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        trained = load_trained(args.run_dir, ema=args.ema, checkpoint=args.checkpoint)
        images = sample(trained, args.n, args.seed, args.batch_size)
        named = args.out is not None or args.npy is not None
        path = write(images, out=args.out if named else default_out(trained, args.n, args.seed), npy=args.npy,
                     replace=not named)  # the default name says what it holds: the same images again
    except (ConfigError, CheckpointError) as e:
        fail(str(e))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
