"""Save a built-in data set as a folder of PNG files, to try `data=folder` on images gvc knows nothing about.

    python scripts/export_png_folder.py fashion_mnist DIR [--classes] [--limit N]

Writes DIR/train/ and DIR/test/ (the data set's own split, which `data=folder` keeps as its train and test images),
flat (no labels: the images are "unknown data") or with --classes one subfolder per class name (labels, as
torchvision's ImageFolder reads them). Grayscale PNGs, lossless: the pixels are the data set's own. DIR must not
exist yet (nothing is overwritten). docs/results.md's own-data example was made with it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gvc.data import load_split, spec_of  # noqa: E402


def export(dataset: str, out: Path, classes: bool, limit: int | None, root: str) -> dict[str, int]:
    """Write every image of both splits (or the first `limit` of each) as PNG; the counts written per split."""
    from PIL import Image

    spec = spec_of(dataset)
    counts = {}
    for split, train in (("train", True), ("test", False)):
        data = load_split(spec, root, train=train)
        images, labels = data.images.numpy(), data.labels.numpy()
        n = len(images) if limit is None else min(limit, len(images))
        for i in range(n):
            folder = out / split / (spec.class_names[labels[i]].replace("/", "-") if classes else "")
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i], "L").save(folder / f"{i:05d}.png")
        counts[split] = n
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a built-in data set: mnist, fashion_mnist")
    parser.add_argument("out", type=Path, help="the folder to create (must not exist)")
    parser.add_argument("--classes", action="store_true", help="one subfolder per class (labels)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many images per split")
    parser.add_argument("--root", default=os.environ.get("GVC_DATA", "~/.cache/gvc/data"), help="gvc's data cache")
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f"{args.out} exists: give a new folder (nothing is overwritten)")
    counts = export(args.dataset, args.out, args.classes, args.limit, args.root)
    print(f"{args.out}: {counts['train']} train and {counts['test']} test PNGs of {args.dataset}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
