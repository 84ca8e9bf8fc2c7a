"""Train a data set's second feature space: `python -m gvc.evaluation.train_autoencoder --data fashion_mnist`.

A convolutional autoencoder (gvc/evaluation/autoencoder.py) trained on the training split with the pixels' binary
cross-entropy, no labels. Writes gvc/evaluation/<data>_autoencoder.pt (the encoder's state_dict: all the metrics
need) and <data>_autoencoder.json (SHA-256, test reconstruction error, seed, epochs, torch version, command).
Retraining changes the checksum and with it every cached second-space floor.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gvc import datasets
from gvc.data import DeviceBatches, load_split, to_model_range
from gvc.evaluation.autoencoder import CODE_DIM, Decoder, Encoder, autoencoder_files
from gvc.evaluation.classifier import file_sha256


@torch.no_grad()
def reconstruction_bce(encoder: Encoder, decoder: Decoder, images: torch.Tensor, batch_size: int = 1000) -> float:
    """Mean binary cross-entropy per image (nats, summed over pixels) of the reconstructions."""
    total = sum(F.binary_cross_entropy_with_logits(decoder(encoder(x)), x, reduction="sum").item()
                for x in images.split(batch_size))
    return total / len(images)


def train(data_root: str, epochs: int, seed: int, dataset: str, batch_size: int = 128,
          lr: float = 2e-3) -> tuple[Encoder, float]:
    """Train with a fixed seed; returns the encoder and the test reconstruction BCE."""
    torch.manual_seed(seed)
    x_train = to_model_range(load_split(dataset, data_root, train=True).images, (0.0, 1.0))
    x_test = to_model_range(load_split(dataset, data_root, train=False).images, (0.0, 1.0))
    encoder, decoder = Encoder(dataset), Decoder(dataset)
    params = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr)
    batches = DeviceBatches(x_train, batch_size, torch.Generator().manual_seed(seed))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(batches))
    for epoch in range(epochs):
        start = time.perf_counter()
        for x in batches:
            loss = F.binary_cross_entropy_with_logits(decoder(encoder(x)), x, reduction="sum") / len(x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        bce = reconstruction_bce(encoder, decoder, x_test)
        print(f"epoch {epoch + 1}/{epochs}: test reconstruction BCE {bce:.2f} nats/image "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    return encoder, bce


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mnist", choices=datasets.known(), help="the data set (default mnist)")
    parser.add_argument("--data-root", default=os.environ.get("GVC_DATA", "~/.cache/gvc/data"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=None, help="weights file (default: the shipped one)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs={args.epochs}: a positive integer")
    if args.threads:
        torch.set_num_threads(args.threads)
    encoder, bce = train(args.data_root, args.epochs, args.seed, args.data)
    out = args.out or autoencoder_files(args.data)[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(encoder.state_dict(), out)
    meta = {
        "data": args.data,
        "sha256": file_sha256(out),
        "test_reconstruction_bce": round(bce, 3),
        "seed": args.seed,
        "epochs": args.epochs,
        "code_dim": CODE_DIM,
        "torch_version": torch.__version__,
        "architecture": "conv16/2-conv32/2-fc64 encoder (shipped), mirrored decoder (not shipped); BCE, no labels",
        "command": f"python -m gvc.evaluation.train_autoencoder --data {args.data} --epochs {args.epochs} "
                   f"--seed {args.seed} --threads {args.threads or torch.get_num_threads()}",
    }
    meta_path = out.with_suffix(".json")
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out} and {meta_path}: test reconstruction BCE {bce:.2f}, sha256 {meta['sha256']}")


if __name__ == "__main__":
    main()
