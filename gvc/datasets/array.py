"""`data=array data.path=FILE.npy|.npz`: images as one array, (N, H, W) or (N, C, H, W) with C = 1 or 3.

uint8 (0-255), or float in [0, 1] (stored as uint8: round(255 x), the precision every data set here has). An
.npz holds one array, or `images` and, for labels, `labels` (N integers from 0). Loaded without pickles. The
content hash is the file's SHA-256.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from gvc.datasets.own import Found, Options
from gvc.datasets.spec import DataError, DataSource

SUFFIXES = (".npy", ".npz")


def load_arrays(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False), None
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if names == [names[0]] and names[0] != "labels":
                return archive[names[0]], None
            if "images" not in names:
                raise DataError(f"{path} holds arrays {names}: an .npz needs one array, or `images` (and `labels`)")
            return archive["images"], archive["labels"] if "labels" in names else None
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path} cannot be read as a numpy array ({e}): save it with numpy.save or numpy.savez") \
            from None


def read(path: Path, options: Options) -> Found:
    if not path.is_file():
        raise DataError(f"data.path={path} {'is a folder' if path.is_dir() else 'does not exist'}: data=array reads "
                        "one .npy or .npz file (for a folder of images use data=folder)")
    if path.suffix not in SUFFIXES:
        raise DataError(f"data.path={path} is not a .npy or .npz file: save the images with numpy.save")
    images, labels = load_arrays(path)
    if images.ndim == 4 and images.shape[1] not in (1, 3) and images.shape[-1] in (1, 3):
        raise DataError(f"{path} has shape {images.shape}, channels last: gvc reads (N, C, H, W); pass "
                        "array.transpose(0, 3, 1, 2)")
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[1] not in (1, 3)) or images.shape[0] < 1:
        raise DataError(f"{path} has shape {images.shape}: gvc reads (N, H, W) or (N, C, H, W) with C = 1 or 3")
    if options.resize is not None and tuple(options.resize) != tuple(images.shape[-2:]):
        raise DataError(f"data.resize={list(options.resize)} is for folders of images; an array is used at its own "
                        f"size {images.shape[-2:]}: resize it before saving, or drop data.resize")
    channels = 1 if images.ndim == 3 else images.shape[1]
    if options.channels is not None and options.channels != channels:
        raise DataError(f"data.channels={options.channels}, but {path} has {channels} channel(s): gvc converts "
                        "folders' images, not arrays; drop data.channels or convert the array")
    if images.dtype == np.uint8:
        scaled = images
    elif np.issubdtype(images.dtype, np.floating):
        low, high = float(np.min(images)), float(np.max(images))
        if not (np.isfinite(low) and np.isfinite(high) and low >= 0.0 and high <= 1.0):
            raise DataError(f"{path} holds floats in [{low:g}, {high:g}]: gvc reads floats in [0, 1] or uint8 "
                            "0-255; rescale the array")
        scaled = np.rint(images * 255.0).astype(np.uint8)
    else:
        raise DataError(f"{path} has dtype {images.dtype}: gvc reads uint8 (0-255) or float in [0, 1]")
    n = len(images)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
            raise DataError(f"{path}: `labels` must be {n} non-negative integers (shape ({n},)), not "
                            f"{labels.dtype} {labels.shape}")
    digest = hashlib.sha256()
    with open(path, "rb") as f:  # in blocks: an array file may be large
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    classes = () if labels is None else tuple(str(c) for c in range(int(labels.max()) + 1))
    hwc = scaled if scaled.ndim == 3 else np.ascontiguousarray(scaled.transpose(0, 2, 3, 1))
    if hwc.ndim == 4 and hwc.shape[-1] == 1:
        hwc = hwc[..., 0]
    return Found(sha256=digest.hexdigest(), count=n, image_shape=(channels, *images.shape[-2:]),
                 channels_note=f"{'grayscale' if channels == 1 else 'RGB'} (the array's shape)",
                 labels=np.zeros(n, np.int64) if labels is None else labels.astype(np.int64), class_names=classes,
                 is_test=None, decode=lambda: hwc)


DATASET = DataSource(name="array", title="image array", read=read,
                     what="a .npy or .npz file of images, (N, H, W) or (N, C, H, W), uint8 or float in [0, 1]")
