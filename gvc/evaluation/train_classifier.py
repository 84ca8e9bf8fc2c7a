"""Train the shipped MNIST evaluator: `python -m gvc.evaluation.train_classifier [--epochs 4 --seed 0]`.

Writes gvc/evaluation/mnist_classifier.pt (a state_dict) and mnist_classifier.json (its SHA-256, test
accuracy, seed, epochs, torch version). Retraining changes the checksum, and with it every cached real-data
floor: metrics are only comparable between runs scored by the same evaluator.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gvc.data import DeviceBatches, load_mnist, to_model_range
from gvc.evaluation.classifier import META_PATH, WEIGHTS_PATH, MNISTClassifier, file_sha256

MIN_TEST_ACCURACY = 0.99


@torch.no_grad()
def accuracy(net: MNISTClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy of `net` (put in eval mode) on float images in [0, 1]."""
    net.eval()
    correct = sum(
        (net(images[i : i + batch_size]).argmax(1) == labels[i : i + batch_size]).sum().item()
        for i in range(0, len(images), batch_size)
    )
    return correct / len(images)


def train(data_root: str, epochs: int, seed: int, batch_size: int = 128, lr: float = 3e-3) -> tuple[MNISTClassifier, float]:
    """Train on the 60k training images with a fixed seed; returns the net and its test accuracy."""
    torch.manual_seed(seed)  # initial weights and dropout masks
    train_split, test_split = load_mnist(data_root, train=True), load_mnist(data_root, train=False)
    x_train = to_model_range(train_split.images, (0.0, 1.0))
    x_test = to_model_range(test_split.images, (0.0, 1.0))
    # Index batches so images and labels are drawn together, in an order fixed by the seed.
    order = DeviceBatches(torch.arange(len(x_train)), batch_size, torch.Generator().manual_seed(seed))
    net = MNISTClassifier()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    steps = epochs * len(order)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    for epoch in range(epochs):
        net.train()
        start = time.perf_counter()
        for idx in order:
            loss = F.cross_entropy(net(x_train[idx]), train_split.labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        acc = accuracy(net, x_test, test_split.labels)
        print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}, test accuracy {acc:.4f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    return net, acc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=os.environ.get("GVC_DATA_ROOT", "~/.cache/gvc/data"))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="weights file; the .json goes beside it")
    args = parser.parse_args(argv)

    net, acc = train(args.data_root, args.epochs, args.seed)
    if acc < MIN_TEST_ACCURACY:
        raise SystemExit(f"test accuracy {acc:.4f} < {MIN_TEST_ACCURACY}: not writing the evaluator")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), args.out)
    meta = {
        "sha256": file_sha256(args.out),
        "test_accuracy": acc,
        "seed": args.seed,
        "epochs": args.epochs,
        "torch_version": torch.__version__,
        "architecture": "conv32-pool-conv64-pool-fc128-fc10, features = fc128 after ReLU",
    }
    meta_path = args.out.with_suffix(".json") if args.out != WEIGHTS_PATH else META_PATH
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {args.out} and {meta_path}: test accuracy {acc:.4f}, sha256 {meta['sha256']}")


if __name__ == "__main__":
    main()
