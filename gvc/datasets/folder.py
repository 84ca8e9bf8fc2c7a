"""`data=folder data.path=DIR`: PNG, JPEG and BMP files, flat (no labels) or in class subfolders (labels).

torchvision's ImageFolder conventions where they fit: extensions matched case-insensitively, hidden files skipped,
class folders sorted by name -> indices 0, 1, ..., files found recursively inside a class folder. Where gvc
departs: a flat folder is allowed (unlabelled data); images keep their own channels (grey stays grey) instead of
a silent conversion to RGB; mixed channels or sizes are refused unless data.channels or data.resize says what to
do; a folder holding `train/` and `test/` is that split. Every file's bytes are hashed; only headers are parsed
until the images are decoded (once, into gvc/datasets/own.py's cache).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import Counter
from pathlib import Path

import numpy as np

from gvc.datasets.own import Found, Options
from gvc.datasets.spec import DataError, DataSource

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
GREY_MODES = {"1": 1, "L": 1}
COLOUR_MODES = {"RGB": 3, "YCbCr": 3, "CMYK": 3}
ALPHA_MODES = {"LA", "La", "RGBA", "RGBa", "PA"}
KEEP_BYTES = 256 << 20  # file bytes kept from the hashing pass for decoding (beyond this, files are read again)


def is_image(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(EXTENSIONS)


def image_files(folder: Path) -> list[Path]:
    """Image files under folder, recursively, sorted (torchvision's walk)."""
    found = []
    for parent, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(parent) / name for name in sorted(files) if is_image(name)]
    return found


def layout(folder: Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
    """(files, label per file, class names) of one folder: flat (no classes) or class subfolders."""
    entries = sorted(os.scandir(folder), key=lambda e: e.name)
    loose = [Path(e.path) for e in entries if e.is_file() and is_image(e.name)]
    classes = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
    with_images = {name: image_files(folder / name) for name in classes}
    if loose and any(with_images.values()):
        raise DataError(f"{folder} mixes {len(loose)} image files (e.g. {loose[0].name}) with class subfolders "
                        f"({', '.join(n for n in classes if with_images[n])}): move the loose files into a class "
                        "folder, or point data.path at a folder that is either flat or made of class folders")
    if loose:
        return loose, [0] * len(loose), ()
    empty = [name for name in classes if not with_images[name]]
    if classes and not empty:
        files = [f for name in classes for f in with_images[name]]
        return files, [i for i, name in enumerate(classes) for _ in with_images[name]], tuple(classes)
    if classes and len(empty) < len(classes):
        raise DataError(f"class folder {folder / empty[0]} holds no {'/'.join(EXTENSIONS)} files: add images to it "
                        "or remove it")
    raise DataError(f"{folder} holds no image files ({', '.join(EXTENSIONS)}, case-insensitive, in the folder or in "
                    "class subfolders): point data.path at the folder holding the images")


def natural_channels(image, path: Path) -> int | str:
    """1 or 3 channels as stored, or the alpha mode's name (which needs data.channels)."""
    mode = image.mode
    if mode in GREY_MODES:
        return 1
    if mode in COLOUR_MODES:
        return 3
    if mode == "P":
        palette = image.getpalette() or []
        triples = zip(palette[0::3], palette[1::3], palette[2::3])
        return 1 if all(r == g == b for r, g, b in triples) else 3
    if mode in ALPHA_MODES:
        return mode
    raise DataError(f"{path} is a {mode} image (16-bit or floating-point pixels); gvc reads 8-bit grey or RGB "
                    "images: convert it to 8 bits, or leave it out of data.path")


def read(path: Path, options: Options) -> Found:
    """Check and hash the folder; its images are decoded only when `decode()` is called."""
    from PIL import Image

    if not path.exists():
        raise DataError(f"data.path={path} does not exist: point data.path at a folder of images")
    if not path.is_dir():
        raise DataError(f"data.path={path} is a file, not a folder: data=folder reads a folder of images "
                        "(for a .npy or .npz array use data=array)")
    if not any(os.scandir(path)):
        raise DataError(f"data.path={path} is an empty folder: put PNG, JPEG or BMP images in it (flat, or in one "
                        "subfolder per class)")
    parts = [path / "train", path / "test"]
    if all(p.is_dir() for p in parts):
        (train, train_labels, classes), (test, test_labels, test_classes) = layout(parts[0]), layout(parts[1])
        if set(test_classes) - set(classes):
            raise DataError(f"{parts[1]} has class folders that {parts[0]} lacks "
                            f"({sorted(set(test_classes) - set(classes))}): every test class needs training images")
        test_labels = [classes.index(test_classes[i]) for i in test_labels] if classes else test_labels
        files, labels = train + test, train_labels + test_labels
        is_test = np.array([False] * len(train) + [True] * len(test))
    else:
        files, labels, classes = layout(path)
        is_test = None
    digest, kept, kept_size = hashlib.sha256(), {}, 0
    sizes, channels = [], []
    for file in files:
        try:
            data = file.read_bytes()
            header = Image.open(io.BytesIO(data))
        except (OSError, SyntaxError, ValueError) as e:
            raise DataError(f"{file} cannot be read as an image ({e}): replace it or remove it from {path}") from None
        digest.update(f"{file.relative_to(path).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
        if kept_size + len(data) <= KEEP_BYTES:
            kept[file], kept_size = data, kept_size + len(data)
        sizes.append(header.size)
        channels.append(natural_channels(header, file))
    check_sizes(path, files, sizes, options)
    target, note = decided_channels(path, files, channels, options)
    height, width = options.resize or (sizes[0][1], sizes[0][0])

    def decode() -> np.ndarray:
        mode = "L" if target == 1 else "RGB"
        out = np.empty((len(files), height, width) + ((3,) if target == 3 else ()), dtype=np.uint8)
        for i, file in enumerate(files):
            try:
                image = Image.open(io.BytesIO(kept[file]) if file in kept else file)
                image.load()  # a truncated file fails here, not silently
                if image.mode != mode:
                    image = image.convert(mode)
                if image.size != (width, height):
                    image = image.resize((width, height), Image.Resampling.BILINEAR)
                out[i] = np.asarray(image, dtype=np.uint8)
            except (OSError, SyntaxError, ValueError) as e:
                raise DataError(f"{file} cannot be decoded ({e}): replace it or remove it from {path}") from None
        return out

    return Found(sha256=digest.hexdigest(), count=len(files), image_shape=(target, height, width),
                 channels_note=note, labels=np.asarray(labels, dtype=np.int64), class_names=tuple(classes),
                 is_test=is_test, decode=decode)


def check_sizes(path: Path, files: list[Path], sizes: list[tuple[int, int]], options: Options) -> None:
    counts = Counter(sizes)
    if len(counts) > 1 and options.resize is None:
        examples = "; ".join(f"{w}x{h} (W x H): {n} files, e.g. {files[sizes.index((w, h))].name}"
                             for (w, h), n in counts.most_common(3))
        raise DataError(f"{path} holds images of {len(counts)} sizes ({examples}): gvc never resizes silently; "
                        "set data.resize=[HEIGHT,WIDTH] to resize every image to one size")


def decided_channels(path: Path, files: list[Path], channels: list[int | str], options: Options) -> tuple[int, str]:
    """The decoded channel count and how it was chosen (said in the log and summary.json)."""
    kinds = Counter(channels)
    if options.channels is not None:
        return options.channels, f"{'grayscale' if options.channels == 1 else 'RGB'} (data.channels={options.channels})"
    alpha = [c for c in kinds if isinstance(c, str)]
    if alpha:
        example = files[channels.index(alpha[0])]
        raise DataError(f"{example} has an alpha channel (mode {alpha[0]}); gvc does not guess how to flatten it: "
                        "set data.channels=3 (RGB, alpha dropped) or data.channels=1 (grey)")
    if len(kinds) > 1:
        grey, colour = files[channels.index(1)], files[channels.index(3)]
        raise DataError(f"{path} mixes grayscale ({kinds[1]} files, e.g. {grey.name}) and RGB images ({kinds[3]} "
                        f"files, e.g. {colour.name}): set data.channels=1 or data.channels=3 to convert them all")
    only = channels[0]
    return only, f"{'grayscale' if only == 1 else 'RGB'} (detected)"


DATASET = DataSource(name="folder", title="image folder", read=read,
                     what="a folder of PNG, JPEG or BMP images, flat or in class subfolders")
