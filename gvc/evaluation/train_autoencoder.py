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
          lr: float = 2e-3, log=print) -> tuple[Encoder, float]:
    """Train with a fixed seed (on the CPU: the same weights on every machine); returns the encoder and the test
    reconstruction BCE."""
    torch.manual_seed(seed)
    x_train = to_model_range(load_split(dataset, data_root, train=True).images, (0.0, 1.0))
    x_test = to_model_range(load_split(dataset, data_root, train=False).images, (0.0, 1.0))
    encoder, decoder = Encoder(dataset), Decoder(dataset)
    params = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr)
    batches = DeviceBatches(x_train, min(batch_size, len(x_train)), torch.Generator().manual_seed(seed))
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
        log(f"epoch {epoch + 1}/{epochs}: test reconstruction BCE {bce:.2f} nats/image "
            f"({time.perf_counter() - start:.0f} s)")
    return encoder, bce


def write(encoder: Encoder, bce: float, out: Path, dataset: str, seed: int, epochs: int, command: str) -> Path:
    """The encoder's weights and their metadata (.json: SHA-256, test BCE, how it was made), each written whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    torch.save(encoder.state_dict(), tmp)
    os.replace(tmp, out)
    meta = {
        "data": dataset,
        "sha256": file_sha256(out),
        "test_reconstruction_bce": round(bce, 3),
        "seed": seed,
        "epochs": epochs,
        "code_dim": CODE_DIM,
        "torch_version": torch.__version__,
        "architecture": "conv16/2-conv32/2-fc64 encoder (shipped), mirrored decoder (not shipped); BCE, no labels",
        "command": command,
    }
    meta_path = out.with_suffix(".json")
    tmp = meta_path.with_name(f"{meta_path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, meta_path)
    return meta_path


def build_own(dataset: str) -> None:
    """An own data set's label-free space, trained on its training split with its recorded budget and seed, once:
    parallel trials wait for the first one's (a lock in its cache folder)."""
    import fcntl
    import logging

    from gvc import datasets

    out = autoencoder_files(dataset)[0]
    if out.with_suffix(".json").is_file():  # built already: no lock needed
        return
    spec = datasets.get(dataset)
    budget = spec.record["autoencoder"]
    log = logging.getLogger("gvc.evaluation")
    with open(out.parent / "autoencoder.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if out.with_suffix(".json").is_file():
            return
        log.info("training the label-free evaluation space of %s on its %d training images (%d epochs, seed %d)",
                 spec.title, spec.n_images(train=True), budget["epochs"], budget["seed"])
        with torch.random.fork_rng(devices=[]):  # the run's own random streams are left as they were
            encoder, bce = train("", budget["epochs"], budget["seed"], dataset, log=log.info)
        write(encoder, bce, out, dataset, budget["seed"], budget["epochs"],
              f"trained at first use: data.autoencoder_epochs={budget['epochs']} "
              f"data.autoencoder_seed={budget['seed']}, {torch.get_num_threads()} threads")


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
    meta_path = write(encoder, bce, out, args.data, args.seed, args.epochs,
                      f"python -m gvc.evaluation.train_autoencoder --data {args.data} --epochs {args.epochs} "
                      f"--seed {args.seed} --threads {args.threads or torch.get_num_threads()}")
    print(f"wrote {out} and {meta_path}: test reconstruction BCE {bce:.2f}, "
          f"sha256 {json.loads(meta_path.read_text())['sha256']}")


if __name__ == "__main__":
    main()
