"""Train a data set's shipped evaluator: `python -m gvc.evaluation.train_classifier --data fashion_mnist`.

Writes gvc/evaluation/<data>_classifier.pt (a state_dict) and <data>_classifier.json (data set, SHA-256,
test accuracy, seed, epochs, torch version). Epochs and the accuracy it must reach default to the data
set's (gvc/datasets/). Retraining changes the checksum, and with it every cached real-data floor: metrics
are only comparable between runs scored by the same evaluator.
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
from gvc.data import DataError, DeviceBatches, load_split, spec_of, to_model_range
from gvc.datasets import own
from gvc.evaluation.classifier import Classifier, file_sha256
from gvc.evaluation.config import evaluator_files


@torch.no_grad()
def accuracy(net: Classifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy of `net` (put in eval mode) on float images in [0, 1]."""
    net.eval()
    correct = sum(
        (net(images[i : i + batch_size]).argmax(1) == labels[i : i + batch_size]).sum().item()
        for i in range(0, len(images), batch_size)
    )
    return correct / len(images)


def train(data_root: str, epochs: int, seed: int, batch_size: int = 128, lr: float = 3e-3,
          dataset: str = "mnist") -> tuple[Classifier, float]:
    """Train on the data set's training images with a fixed seed; returns the net and its test accuracy."""
    torch.manual_seed(seed)  # initial weights and dropout masks
    train_split, test_split = load_split(dataset, data_root, train=True), load_split(dataset, data_root, train=False)
    x_train = to_model_range(train_split.images, (0.0, 1.0))
    x_test = to_model_range(test_split.images, (0.0, 1.0))
    # Index batches so images and labels are drawn together, in an order fixed by the seed.
    order = DeviceBatches(torch.arange(len(x_train)), batch_size, torch.Generator().manual_seed(seed))
    net = Classifier(dataset)
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
    parser.add_argument("--data", default="mnist", help=f"the data set (default mnist): one of {datasets.known()}, "
                                                         "or folder / array with data.path=...")
    # GVC_DATA, as everywhere else in gvc (this script alone once read GVC_DATA_ROOT).
    parser.add_argument("--data-root", default=os.environ.get("GVC_DATA", "~/.cache/gvc/data"))
    parser.add_argument("--epochs", type=int, default=None, help="default: the data set's evaluator_epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=None, help="weights file (default: the shipped one); "
                                                                "the .json goes beside it")
    parser.add_argument("--min-accuracy", type=float, default=None,
                        help="refuse to write an evaluator below this test accuracy (default: the data set's)")
    parser.add_argument("overrides", nargs="*", metavar="data.KEY=VALUE",
                        help="for --data folder / array: data.path=... and the data set's other keys")
    args = parser.parse_args(argv)
    asked = args.data
    try:  # your own labelled images get their classifier in their cache folder (gvc/evaluation/config.py)
        args.data = own.name_from_args(args.data, args.overrides, args.data_root)
        spec = spec_of(args.data)
        if not spec.labelled:
            raise DataError(f"{spec.title} has no labels (a flat folder or an array without `labels`): a classifier "
                            "needs classes; its runs are measured in the label-free space alone")
    except DataError as e:
        from gvc.errors import fail

        fail(str(e))
    epochs = args.epochs or spec.evaluator_epochs
    min_accuracy = spec.evaluator_min_accuracy if args.min_accuracy is None else args.min_accuracy
    if args.threads:
        torch.set_num_threads(args.threads)

    net, acc = train(args.data_root, epochs, args.seed, dataset=args.data)
    if acc < min_accuracy:
        raise SystemExit(f"test accuracy {acc:.4f} < {min_accuracy}: not writing the evaluator")
    out = args.out or evaluator_files(args.data)[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), out)
    meta = {
        "data": args.data,
        "sha256": file_sha256(out),
        "test_accuracy": acc,
        "seed": args.seed,
        "epochs": epochs,
        "torch_version": torch.__version__,
        "architecture": f"conv32-pool-conv64-pool-fc128-fc{spec.num_classes}, features = fc128 after ReLU",
        "command": f"python -m gvc.evaluation.train_classifier --data {asked} --epochs {epochs} --seed {args.seed}"
                   + "".join(f" {o}" for o in args.overrides),
    }
    meta_path = out.with_suffix(".json")
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out} and {meta_path}: test accuracy {acc:.4f}, sha256 {meta['sha256']}")


if __name__ == "__main__":
    main()
