"""Decoding and caching a folder of your own images: how long `data=folder` takes the first time, and after.

    python benchmarks/bench_own_data.py [--images 60000] [--size 28] [--mode L]

Writes N random-digit-like PNGs (real MNIST training images when the MNIST cache is present, else noise) into a
temporary folder, then times gvc/datasets/own.py's `resolve` three times, each in a fresh process state:
- cold: read and hash every file, parse the headers, decode every image, write the cache;
- warm: the cache exists: read and hash every file, parse headers, load the decoded arrays;
- in-process: the same files again in one process, seconds later (every file's size and mtime compared: nothing
  is read).
Prints the seconds of each, the machine's cores and how busy its other processes were just before and after:
on a shared machine say it. Nothing is written outside the temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gvc import datasets  # noqa: E402
from gvc.datasets import own  # noqa: E402
from gvc.threads import busy_cores  # noqa: E402


def source_images(n: int, size: int, mode: str) -> np.ndarray:
    """MNIST's first n training images where the cache holds them (realistic PNG sizes), else uniform noise."""
    if size == 28 and mode == "L":
        try:
            from gvc.data import load_split

            images = load_split("mnist", os.environ.get("GVC_DATA", "~/.cache/gvc/data"), train=True).images.numpy()
            return np.resize(images, (n, 28, 28))
        except Exception:  # noqa: BLE001 - no MNIST here: noise compresses worse, so this is the slower case
            pass
    shape = (n, size, size) + ((3,) if mode == "RGB" else ())
    return np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)


def write_folder(folder: Path, images: np.ndarray, mode: str) -> float:
    from PIL import Image

    start = time.perf_counter()
    for i, image in enumerate(images):
        Image.fromarray(image, mode).save(folder / f"{i:05d}.png")
    return time.perf_counter() - start


def timed(label: str, folder: Path, root: Path) -> float:
    start = time.perf_counter()
    spec = own.resolve("folder", {"path": str(folder), "root": str(root)})
    seconds = time.perf_counter() - start
    print(f"{label:>11}: {seconds:6.2f} s  ({spec.record['count']} images {spec.image_shape}, {spec.name})", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--mode", choices=("L", "RGB"), default="L")
    args = parser.parse_args()
    datasets.discover()  # registers data=folder's source
    with tempfile.TemporaryDirectory() as tmp:
        folder, root = Path(tmp) / "images", Path(tmp) / "cache"
        folder.mkdir()
        images = source_images(args.images, args.size, args.mode)
        print(f"writing {args.images} {args.size}x{args.size} {args.mode} PNGs: "
              f"{write_folder(folder, images, args.mode):.1f} s", flush=True)
        cpu_before, wall_before = os.times(), time.perf_counter()
        load_before = busy_cores(1.0)
        cold = timed("cold", folder, root)
        own._RESOLVED.clear()  # a new process: no in-memory result
        warm = timed("warm", folder, root)
        own.RECHECK_S = 0.0  # measure the files' signature check, not the few seconds' reuse
        again = timed("in-process", folder, root)
        load_after = busy_cores(1.0)
        cpu = os.times()
        print(f"machine: {os.cpu_count()} cores; other processes busy on {load_before:.2f} cores before and "
              f"{load_after:.2f} after; this process used {cpu.user - cpu_before.user + cpu.system - cpu_before.system:.1f} "
              f"CPU s in {time.perf_counter() - wall_before:.1f} s")
        print(f"| images | cold (decode + cache) | warm (hash + cached arrays) | in-process |\n|---|---|---|---|\n"
              f"| {args.images:,} {args.size}x{args.size} {args.mode} PNG | {cold:.1f} s | {warm:.1f} s | {again:.2f} s |")


if __name__ == "__main__":
    main()
