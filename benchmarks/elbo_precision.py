"""How much does the numeric path move a trained VAE's test −ELBO? The same weights, the same latent draws, in
bf16 autocast + channels-last (what `trainer=cpu_fast` / `precision=bf16` trains and logs with) and in fp32.

    python benchmarks/elbo_precision.py RUN_DIR [--draws 3] [--threads 2] [--batch-size 128]

RUN_DIR is a VAE's run directory (its last checkpoint is used). Each draw re-seeds torch and evaluates the whole
test split once per path, as the per-epoch test −ELBO of history.csv does (one latent sample per image). Prints
one line per path: the −ELBO, reconstruction and KL of each draw. Writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gvc.data import load_split, to_model_range  # noqa: E402
from gvc.training.vae import test_negative_elbo  # noqa: E402
from gvc.trial.trained import load_trained  # noqa: E402

PATHS = (("bf16 + channels-last", True, torch.channels_last), ("fp32", False, torch.contiguous_format))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--draws", type=int, default=3, help="latent draws (seeds) per numeric path")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    run = load_trained(args.run_dir)
    if run.model.family != "vae":
        sys.exit(f"elbo_precision: {args.run_dir} holds a {run.model.family}, not a VAE: it has no −ELBO")
    data = run.config.get("data") or {}
    test = load_split(str(data.get("name", "mnist")), data.get("root", "~/.cache/gvc/data"), train=False).images
    test = to_model_range(test, run.model.output_range)
    print(f"{args.run_dir}: step {run.step}, {len(test)} test images, {torch.get_num_threads()} threads")
    for name, bf16, layout in PATHS:
        model, images = run.model.to(memory_format=layout), test.contiguous(memory_format=layout)
        rows = []
        for seed in range(args.draws):
            torch.manual_seed(seed)
            rows.append(test_negative_elbo(model, images, args.batch_size,
                                           lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)))
        parts = {k: [f"{r[k]:.3f}" for r in rows] for k in rows[0]}
        print(f"{name:>21}: " + "  ".join(f"{k} {' / '.join(v)}" for k, v in parts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
