"""A user's own images as a data set: `data=folder data.path=DIR` or `data=array data.path=FILE.npy|.npz`.

The files are read by their source (gvc/datasets/folder.py, array.py), which checks them and hashes their bytes.
The data set is then named by that hash and the options that change the images (`folder-<12 hex>`), split into
train and test with a fixed seed (unless the folder has train/ and test/), decoded once into
`data.root/gvc-own/<name>/` and registered like any other data set, so training, evaluation, analysis,
gvc.sample and gvc.evaluate find it by name. A changed file changes the hash, hence the name and the cache: a run
is tied to the exact bytes it trained on and never served a stale decode. Nothing is written into data.path.
Torch-free (numpy, and PIL for folders).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gvc.datasets.spec import DataError, DatasetSpec, DataSource

OWN_DIR = "gvc-own"  # under data.root: one folder per decoded data set
CACHE_VERSION = 1  # bump when the decoded layout or the split's definition changes
NAME = re.compile(r"^(?P<kind>[a-z_]+)-(?P<key>[0-9a-f]{12})$")
SPLIT_FILES = ("train-images.npy", "train-labels.npy", "test-images.npy", "test-labels.npy")


@dataclass(frozen=True)
class Options:
    """The data config's keys that say which images a source yields (conf/data/folder.yaml, array.yaml)."""
    path: str | None
    root: str
    channels: int | None = None  # convert every image to 1 (grey) or 3 (RGB) channels; null = as the files are
    resize: tuple[int, int] | None = None  # (height, width) to resize every image to; null = never resize
    test_fraction: float = 0.1  # share of the images held out as the test split (no train/ and test/ folders)
    split_seed: int = 0
    autoencoder_epochs: int = 5  # the label-free evaluation space's budget: part of what measures this data
    autoencoder_seed: int = 0

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> "Options":
        resize = data.get("resize")
        if isinstance(resize, int):
            resize = (resize, resize)
        return cls(path=None if data.get("path") is None else str(data.get("path")),
                   root=str(data.get("root") or "~/.cache/gvc/data"),
                   channels=data.get("channels"), resize=None if resize is None else tuple(int(v) for v in resize),
                   test_fraction=float(data.get("test_fraction", 0.1)), split_seed=int(data.get("split_seed", 0)),
                   autoencoder_epochs=int(data.get("autoencoder_epochs", 5)),
                   autoencoder_seed=int(data.get("autoencoder_seed", 0)))


@dataclass
class Found:
    """What a source found at data.path, checked, before decoding."""
    sha256: str  # of the content (file names and bytes), so a changed file changes it
    count: int
    image_shape: tuple[int, int, int]  # (channels, height, width) of the decoded images
    channels_note: str  # "grayscale (detected)", "RGB (converted from mixed, data.channels=3)"
    labels: np.ndarray  # (N,) int64 class indices; zeros when unlabelled
    class_names: tuple[str, ...]  # () when unlabelled
    is_test: np.ndarray | None  # (N,) bool from train/ and test/ folders; None = split with the seed
    decode: Callable[[], np.ndarray]  # (N, H, W) or (N, H, W, C) uint8, in the order of labels


# (kind, path, options) -> (the files' signature, the spec, when last checked). Within RECHECK_S of a check the
# spec is reused as is (a run reads data.name a dozen times as it starts, and stat-ing 60,000 files takes ~0.5 s);
# later every file's size and mtime is compared again, and changed files are read and hashed afresh.
_RESOLVED: dict[tuple, tuple[tuple, DatasetSpec, float]] = {}
RECHECK_S = 5.0


SOURCES: dict[str, DataSource] = {}  # filled when gvc.datasets is imported (folder.py, array.py)
RESOLVED: dict[str, DatasetSpec] = {}  # every own data set this process resolved or found, by name


def add_source(source: DataSource) -> None:
    SOURCES[source.name] = source


def sources() -> dict[str, DataSource]:
    """The registered sources (gvc.datasets.discover() registers them: every entry point calls it first)."""
    return SOURCES


def resolve(kind: str, data: Mapping[str, Any]) -> DatasetSpec:
    """The data set of `data.path` read by source `kind`: checked, decoded into its cache once, registered.

    Raises DataError naming the file and the fix.
    """
    source = SOURCES.get(kind)
    if source is None:  # importing gvc.datasets registers folder.py and array.py
        raise DataError(f"unknown data source {kind!r}; known ones: {sorted(SOURCES)}")
    options = Options.of(data)
    if options.path is None:
        raise DataError(f"data={kind} needs the images' location: add data.path=PATH ({source.what})")
    path = Path(options.path).expanduser().resolve()
    check_options(options)
    key = (kind, str(path), options)
    if key in _RESOLVED and time.monotonic() - _RESOLVED[key][2] < RECHECK_S:
        return _RESOLVED[key][1]  # data.name is read several times as a run starts: one check serves them
    files = signature(path)
    if key in _RESOLVED and _RESOLVED[key][0] == files:  # unchanged files: no second read in this process
        _RESOLVED[key] = (files, _RESOLVED[key][1], time.monotonic())
        return _RESOLVED[key][1]
    found = source.read(path, options)
    spec = cached_or_decoded(kind, path, found, options)
    _RESOLVED[key] = (files, spec, time.monotonic())
    RESOLVED[spec.name] = spec  # gvc.datasets.get finds it by name from here on
    return spec


def check_options(options: Options) -> None:
    if options.channels not in (None, 1, 3):
        raise DataError(f"data.channels={options.channels!r} is not allowed: null (as the files are), 1 (grey) or 3 "
                        "(RGB). Fix it with `data.channels=...` on the command line.")
    if options.resize is not None and (len(options.resize) != 2 or min(options.resize) < 4):
        raise DataError(f"data.resize={list(options.resize)} is not allowed: null or [HEIGHT, WIDTH], each at least 4. "
                        "Fix it with `data.resize=[H,W]` on the command line.")
    if options.autoencoder_epochs < 1:
        raise DataError(f"data.autoencoder_epochs={options.autoencoder_epochs} is not allowed: a positive integer. "
                        "Fix it with `data.autoencoder_epochs=...` on the command line.")
    if not 0.0 < options.test_fraction < 1.0:
        raise DataError(f"data.test_fraction={options.test_fraction} is not allowed: a share in (0, 1). Fix it with "
                        "`data.test_fraction=...` on the command line.")


def signature(path: Path) -> tuple:
    """(name, size, mtime) of every file under path: cheap, and changes when any file does."""
    if path.is_file():
        st = path.stat()
        return ((path.name, st.st_size, st.st_mtime_ns),)
    entries = []
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            entries.append((os.path.join(folder, name), st.st_size, st.st_mtime_ns))
    return tuple(entries)


def data_name(kind: str, found: Found, options: Options) -> str:
    """`<kind>-<12 hex>` of the content hash and every option that changes the images or the split."""
    facts = {"kind": kind, "sha256": found.sha256, "channels": options.channels, "resize": options.resize,
             "split": "folders" if found.is_test is not None else [options.test_fraction, options.split_seed],
             "autoencoder": [options.autoencoder_epochs, options.autoencoder_seed], "version": CACHE_VERSION}
    return f"{kind}-{hashlib.sha256(json.dumps(facts, sort_keys=True, default=list).encode()).hexdigest()[:12]}"


def split(found: Found, options: Options) -> np.ndarray:
    """(N,) bool: is each image in the test split. A seeded permutation, or the train/ and test/ folders."""
    if found.is_test is not None:
        return found.is_test
    n_test = int(round(options.test_fraction * found.count))
    if n_test < 1 or n_test >= found.count:
        raise DataError(f"data.test_fraction={options.test_fraction} of {found.count} images leaves an empty "
                        f"{'test' if n_test < 1 else 'training'} split: choose a data.test_fraction that holds at "
                        "least one image on each side, or add more images")
    order = np.random.default_rng(options.split_seed).permutation(found.count)
    is_test = np.zeros(found.count, dtype=bool)
    is_test[order[:n_test]] = True
    return is_test


def cache_folder(root: str | os.PathLike, name: str) -> Path:
    return Path(root).expanduser() / OWN_DIR / name


def cached_or_decoded(kind: str, path: Path, found: Found, options: Options) -> DatasetSpec:
    name = data_name(kind, found, options)
    folder = cache_folder(options.root, name)
    facts = read_facts(folder)
    if facts is None or facts.get("sha256") != found.sha256:
        is_test = split(found, options)
        images = found.decode()
        facts = write_cache(folder, kind, name, path, found, options, images, is_test)
    return spec_from_facts(facts, folder)


def write_cache(folder: Path, kind: str, name: str, path: Path, found: Found, options: Options,
                images: np.ndarray, is_test: np.ndarray) -> dict[str, Any]:
    """The decoded splits as .npy files and dataset.json (written last: its presence means a complete cache)."""
    folder.mkdir(parents=True, exist_ok=True)
    train_images = images[~is_test]
    parts = {"train-images.npy": train_images, "train-labels.npy": found.labels[~is_test],
             "test-images.npy": images[is_test], "test-labels.npy": found.labels[is_test]}
    for file, array in parts.items():
        tmp = folder / f"{file}.{os.getpid()}.tmp.npy"
        np.save(tmp, np.ascontiguousarray(array))
        os.replace(tmp, folder / file)
    classes = max(len(found.class_names), 1)
    mean, std = pixel_mean_std(train_images)
    facts = {
        "name": name, "kind": kind, "path": str(path), "sha256": found.sha256, "count": found.count,
        "image_shape": list(found.image_shape), "channels": found.channels_note,
        "class_names": list(found.class_names),
        "label_counts": {"train": np.bincount(found.labels[~is_test], minlength=classes).tolist(),
                         "test": np.bincount(found.labels[is_test], minlength=classes).tolist()},
        "split": ({"how": "the folder's train/ and test/"} if found.is_test is not None else
                  {"how": "seeded", "test_fraction": options.test_fraction, "split_seed": options.split_seed}),
        "channels_option": options.channels, "resize": None if options.resize is None else list(options.resize),
        "pixel_mean": mean, "pixel_std": std, "version": CACHE_VERSION,
        "autoencoder": {"epochs": options.autoencoder_epochs, "seed": options.autoencoder_seed},
    }
    facts["split"].update(train=int((~is_test).sum()), test=int(is_test.sum()))
    tmp = folder / f"dataset.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(facts, indent=2) + "\n")
    os.replace(tmp, folder / "dataset.json")
    return facts


def pixel_mean_std(images: np.ndarray, block: int = 4096) -> tuple[float, float]:
    """Mean and std of all pixels in [0, 1], a block of images at a time (no float copy of the whole set)."""
    total = square = 0.0
    for start in range(0, len(images), block):
        x = images[start : start + block].astype(np.float64) / 255.0
        total, square = total + float(x.sum()), square + float(np.square(x).sum())
    n = images.size
    mean = total / n
    return mean, float(np.sqrt(max(square / n - mean * mean, 0.0)))


def read_facts(folder: Path) -> dict[str, Any] | None:
    """dataset.json of a complete cache folder, or None (absent, unreadable, another version, files missing)."""
    try:
        facts = json.loads((folder / "dataset.json").read_text())
    except (OSError, ValueError):
        return None
    if facts.get("version") != CACHE_VERSION or not all((folder / f).is_file() for f in SPLIT_FILES):
        return None
    return facts


def spec_from_facts(facts: dict[str, Any], folder: Path) -> DatasetSpec:
    channels, height, width = facts["image_shape"]
    counts = {"train": facts["split"]["train"], "test": facts["split"]["test"]}

    def load(train: bool) -> tuple[np.ndarray, np.ndarray]:
        which = "train" if train else "test"
        images, labels = np.load(folder / f"{which}-images.npy"), np.load(folder / f"{which}-labels.npy")
        expected = (counts[which], height, width) + ((channels,) if channels > 1 else ())
        if images.shape != expected or images.dtype != np.uint8 or len(labels) != counts[which]:
            raise DataError(f"the decoded cache {folder} is damaged ({which}: {images.shape}, expected {expected}); "
                            "delete that folder and run again to decode the images afresh")
        return images, labels

    source = SOURCES[facts["kind"]]
    return DatasetSpec(
        name=facts["name"], title=f"{Path(facts['path']).name} ({source.title})", folder=f"{OWN_DIR}/{facts['name']}",
        image_shape=(channels, height, width), idx_sha256={}, label_counts=facts["label_counts"],
        class_names=tuple(facts["class_names"]), pixel_mean=facts["pixel_mean"], pixel_std=facts["pixel_std"],
        how_to_get=f"It is made from {facts['path']} with data={facts['kind']} data.path={facts['path']}.",
        class_noun="class", load=load, files_dir=folder, record=record_of(facts),
    )


def record_of(facts: dict[str, Any]) -> dict[str, Any]:
    """What summary.json says of the data a run trained on: enough to tie the run to the exact files."""
    return {key: facts[key] for key in ("name", "kind", "path", "sha256", "count", "image_shape", "channels",
                                         "class_names", "split", "resize", "autoencoder")}


def lookup(name: str, roots: list[str | os.PathLike]) -> DatasetSpec | None:
    """The spec of an own data set decoded earlier (`folder-<hex>`), from its cache under one of `roots`."""
    if not NAME.match(name) or NAME.match(name)["kind"] not in SOURCES:
        return None
    for root in roots:
        folder = cache_folder(root, name)
        facts = read_facts(folder)
        if facts is not None and facts.get("name") == name:
            RESOLVED[name] = spec_from_facts(facts, folder)
            return RESOLVED[name]
    return None


def default_roots() -> list[str]:
    """Where a later process (analysis, gvc.sample) looks for a decoded data set it has not resolved itself."""
    return list(dict.fromkeys([os.environ.get("GVC_DATA", "~/.cache/gvc/data"), "~/.cache/gvc/data"]))


INTERPOLATION = re.compile(r"^\$\{gvc_own_data:(?P<kind>[a-z_]+)\}$")


def resolve_config(data: Any) -> DatasetSpec | None:
    """The own data set a data config (cfg.data, unresolved) names, resolved; None if it names a registered one."""
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(data, resolve=False) if OmegaConf.is_config(data) else dict(data)
    match = INTERPOLATION.match(str(raw.get("name")))
    if match is None:
        return None
    return resolve(match["kind"], {**raw, "root": data.get("root")})


def name_from_args(data: str, overrides: list[str], root: str) -> str:
    """A script's `--data NAME` as is; `--data folder` / `array` with data.KEY=VALUE arguments (data.path=DIR, ...):
    that own data set, resolved, by its hash name (gvc.evaluation.calibrate, train_classifier)."""
    import yaml

    if data not in SOURCES:
        if overrides:
            raise DataError(f"{' '.join(overrides)}: data.KEY=VALUE settings are for --data folder or array")
        return data
    settings: dict[str, Any] = {"root": root}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("data."):
            raise DataError(f"{item}: expected data.KEY=VALUE, e.g. data.path=DIR")
        settings[key.removeprefix("data.")] = yaml.safe_load(value)
    return resolve(data, settings).name


UNREADABLE = "unreadable"  # the name of files that cannot be read: validation then refuses them with the reason


def resolver(kind: str, *, _parent_: Any) -> str:
    """`${gvc_own_data:folder}` in conf/data/folder.yaml: data.name resolves to the data set's hash name.

    Never raises: Hydra resolves names where an exception is a traceback (a sweep's trial folder); the config's
    validation (gvc.config) resolves the same files again and refuses them with the DataError's one line."""
    from omegaconf import OmegaConf

    try:
        return resolve(kind, {**OmegaConf.to_container(_parent_, resolve=False), "root": _parent_.get("root")}).name
    except DataError:
        return f"{kind}-{UNREADABLE}"


def register_resolver() -> None:
    from omegaconf import OmegaConf

    OmegaConf.register_new_resolver("gvc_own_data", resolver, replace=True)
