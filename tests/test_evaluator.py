"""The shipped evaluators (one per data set) and evaluate() end to end, on real data with stand-in models (small N)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore

from gvc.data import load_mnist, load_split, to_model_range
from gvc.evaluation import classifier, metrics
from gvc.evaluation.classifier import (EvaluatorError, FeatureExtractor, LogitsExtractor, evaluator_checksum,
                                       evaluator_metadata, load_evaluator)
from gvc.evaluation.config import EvalConfig, as_eval_config
from gvc.evaluation.embeddings import embed, train_embedding
from gvc.evaluation.evaluate import DIRECTIONS, SampleError, evaluate, noise_level, real_floor, reference_indices
from gvc.facts import METRICS, metric_of
from tests.conftest import TinyVAE

CONF_EVAL = Path(__file__).resolve().parent.parent / "conf" / "eval"
N = 500
FAST = EvalConfig(n_samples=N, batch_size=250, kid_subsets=10, kid_subset_size=200, iw_samples=5, nll_images=100)
VAE_ONLY = {"test_nelbo", "test_nll_iw", "test_cb_nelbo", "test_cb_nll_iw"}


class ImageBank(nn.Module):
    """A 'GAN' that returns stored images, each picked by its latent: real data dressed up as a model."""

    family = "gan"
    latent_dim = 8

    def __init__(self, bank: torch.Tensor):
        super().__init__()
        self.bank = bank

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.bank[(z[:, 0].double() * 1e6).long() % len(self.bank)]


class UniformNoise(nn.Module):
    """A 'GAN' whose pixels are Uniform(0, 1): Phi of standard-normal projections of the latent."""

    family = "gan"
    latent_dim = 8

    def __init__(self):
        super().__init__()
        self.weight = torch.randn(8, 784, generator=torch.Generator().manual_seed(0)) / math.sqrt(8)
        self.dropout = nn.Dropout(0.5)  # so training-mode handling is observable

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return torch.special.ndtr(z @ self.weight).view(-1, 1, 28, 28)


@pytest.fixture(scope="session")
def test_split(mnist_root):
    return load_mnist(mnist_root, train=False)


@pytest.fixture(scope="session")
def train_split(mnist_root):
    return load_mnist(mnist_root, train=True)


@pytest.fixture(scope="session")
def held_out_scores(mnist_root, test_split):
    """Real test digits that are not in the reference set: what a perfect generator would produce."""
    reference = set(reference_indices(len(test_split.images), N).tolist())
    others = [i for i in range(len(test_split.images)) if i not in reference]
    return evaluate(ImageBank(to_model_range(test_split.images[others], (0.0, 1.0))), FAST, "cpu", mnist_root)


@pytest.fixture(scope="session")
def noise_scores(mnist_root):
    return evaluate(UniformNoise(), FAST, "cpu", mnist_root)


# ---- the shipped evaluator ---------------------------------------------------------------------------------


def test_shipped_evaluator_is_accurate_and_matches_its_checksum(test_split):
    meta = evaluator_metadata()
    assert classifier.file_sha256(classifier.WEIGHTS_PATH) == meta["sha256"] == evaluator_checksum()
    assert classifier.WEIGHTS_PATH.stat().st_size < 5_000_000
    net = load_evaluator("cpu")
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    with torch.no_grad():
        predictions = torch.cat([net(x).argmax(1) for x in to_model_range(test_split.images, (0.0, 1.0)).split(1000)])
    accuracy = (predictions == test_split.labels).float().mean().item()
    assert accuracy >= 0.99
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=0.002)


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_tampered_weights_are_refused(tmp_path, monkeypatch, dataset):
    weights, meta = classifier.evaluator_files(dataset)
    tampered = tmp_path / weights.name
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(classifier, "evaluator_files", lambda name: (tampered, meta))
    with pytest.raises(EvaluatorError, match="SHA-256"):
        load_evaluator("cpu", dataset)


def test_shipped_fashion_evaluator_is_accurate_and_matches_its_checksum(fashion_root):
    test = load_split("fashion_mnist", fashion_root, train=False)
    weights, _ = classifier.evaluator_files("fashion_mnist")
    meta = evaluator_metadata("fashion_mnist")
    assert meta["data"] == "fashion_mnist" and classifier.file_sha256(weights) == meta["sha256"]
    assert meta["sha256"] != evaluator_checksum("mnist")  # another evaluator, another feature space
    net = load_evaluator("cpu", "fashion_mnist")
    with torch.no_grad():
        predictions = torch.cat([net(x).argmax(1) for x in to_model_range(test.images, (0.0, 1.0)).split(1000)])
    accuracy = (predictions == test.labels).float().mean().item()
    assert accuracy >= 0.92
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=0.002)


def test_fashion_metrics_are_measured_in_fashion_feature_space(fashion_root, mnist_root, test_split):
    """Held-out Fashion-MNIST images score near the Fashion floor; MNIST digits, real as they are, score far."""
    fashion = load_split("fashion_mnist", fashion_root, train=False)
    reference = set(reference_indices(len(fashion.images), N).tolist())
    others = [i for i in range(len(fashion.images)) if i not in reference]
    real = evaluate(ImageBank(to_model_range(fashion.images[others], (0.0, 1.0))), FAST, "cpu", fashion_root,
                    dataset="fashion_mnist")
    digits = evaluate(ImageBank(to_model_range(test_split.images, (0.0, 1.0))), FAST, "cpu", fashion_root,
                      dataset="fashion_mnist")
    assert real["fid"] < 2 * real["floor_fid"] + 5 and real["classes_covered"] == 10
    assert digits["fid"] > 10 * real["fid"]
    assert real["floor_fid"] != evaluate(ImageBank(to_model_range(test_split.images, (0.0, 1.0))), FAST, "cpu",
                                         mnist_root)["floor_fid"]  # each data set has its own floor


@pytest.mark.filterwarnings("ignore::UserWarning")  # InceptionScore's memory note and single-split std
def test_extractors_plug_into_torchmetrics_and_agree_with_the_feature_path(test_split, train_split):
    net = load_evaluator("cpu")
    real = to_model_range(test_split.images[:300], (0.0, 1.0))
    fake = to_model_range(train_split.images[:300], (0.0, 1.0))
    fid = FrechetInceptionDistance(feature=FeatureExtractor(net))
    fid.update(real, real=True)
    fid.update(fake, real=False)
    ours = metrics.frechet_distance(embed(net, real, 100, "cpu").features, embed(net, fake, 100, "cpu").features)
    assert fid.compute().item() == pytest.approx(ours, rel=1e-3)

    inception = InceptionScore(feature=LogitsExtractor(net), splits=1)
    inception.update(fake)
    score, _ = inception.compute()
    ours = metrics.classifier_scores(embed(net, fake, 100, "cpu").logits)["inception_score"]
    assert score.item() == pytest.approx(ours, rel=1e-4)


# ---- evaluate ------------------------------------------------------------------------------------------------


def test_evaluate_returns_every_registered_metric_beside_its_floor_and_noise_level(held_out_scores):
    plain = {m.name for m in METRICS if m.family is None and not m.per_class}
    measured = {k for k in held_out_scores if not k.startswith(("floor_", "noise_"))}
    per_class = {f"fid_class_{c}" for c in range(10)}
    assert measured == plain | per_class  # held-out real digits: every class has samples
    assert {f"floor_{name}" for name in plain | per_class} <= set(held_out_scores)
    assert {f"noise_{name}" for name in plain} <= set(held_out_scores)
    assert all(metric_of(k) is not None for k in held_out_scores)  # nothing unregistered
    assert all(isinstance(v, float) and math.isfinite(v) for v in held_out_scores.values())
    assert set(DIRECTIONS.values()) == {"minimize", "maximize"}


def test_held_out_real_digits_score_near_the_real_floor(held_out_scores):
    s = held_out_scores
    assert 0 < s["fid"] < 1.5 * s["floor_fid"]
    for name in ("precision", "recall", "density", "coverage"):
        assert s[name] == pytest.approx(s[f"floor_{name}"], abs=0.1), name
    assert s["inception_score"] == pytest.approx(s["floor_inception_score"], rel=0.1)
    assert s["classes_covered"] == 10.0
    assert s["mean_confidence"] > 0.97
    assert 0.8 < s["memorisation_ratio"] < 1.25
    assert 0.8 < s["floor_memorisation_ratio"] < 1.25


def test_uniform_noise_scores_far_worse_than_the_floor(noise_scores):
    s = noise_scores
    assert s["fid"] > 10 * s["floor_fid"]
    assert s["kid_mean"] > 10 * (abs(s["floor_kid_mean"]) + s["floor_kid_std"])
    assert max(s["precision"], s["recall"], s["density"], s["coverage"]) < 0.05
    assert s["inception_score"] < 2.0 and s["classes_covered"] <= 2.0
    assert s["class_kl_uniform"] > 1.5
    assert s["memorisation_ratio"] > 2.0  # far from every training digit


def test_the_noise_level_is_what_a_uniform_noise_generator_scores(noise_scores):
    s = noise_scores  # another draw of uniform noise than the reference's own images
    assert s["noise_fid"] == pytest.approx(s["fid"], rel=0.05)
    assert s["noise_classes_covered"] == s["classes_covered"]
    for name in ("precision", "recall", "coverage"):
        assert s[f"noise_{name}"] == pytest.approx(s[name], abs=0.02), name
    assert s["noise_fid"] > 10 * s["floor_fid"]


def test_copying_training_digits_is_flagged_by_memorisation_only(mnist_root, train_split, held_out_scores):
    copies = ImageBank(to_model_range(train_split.images[:20000], (0.0, 1.0)))
    s = evaluate(copies, FAST, "cpu", mnist_root)
    assert s["fid"] < 1.5 * s["floor_fid"]  # FID cannot tell copies from new digits ...
    assert s["memorisation_ratio"] < 0.05  # ... the distance to the nearest training digit can
    assert held_out_scores["memorisation_ratio"] > 0.8


def test_results_are_deterministic_for_a_fixed_seed(mnist_root, noise_scores):
    assert evaluate(UniformNoise(), FAST, "cpu", mnist_root) == noise_scores
    other = evaluate(UniformNoise(), dataclasses.replace(FAST, seed=1), "cpu", mnist_root)
    assert other["fid"] != noise_scores["fid"]


def test_vaes_also_get_likelihood_bounds(mnist_root):
    s = evaluate(TinyVAE(), FAST, "cpu", mnist_root)
    assert VAE_ONLY <= set(s)
    assert 0 < s["test_nll_iw"] <= s["test_nelbo"]
    assert s["test_cb_nll_iw"] <= s["test_cb_nelbo"]
    # log C(λ) >= log 2 at every pixel: the normalised bound is the BCE one minus at least 784 log 2 nats
    assert s["test_cb_nelbo"] <= s["test_nelbo"] - 784 * math.log(2) + 1e-3


def test_model_modes_are_restored(mnist_root):
    model = UniformNoise().train()
    evaluate(model, dataclasses.replace(FAST, n_samples=100), "cpu", mnist_root)
    assert model.training and model.dropout.training


@pytest.mark.parametrize("pixels", [-1.0, float("nan")])
def test_samples_outside_the_unit_range_are_refused(mnist_root, pixels):
    class Broken(UniformNoise):
        def generate(self, z):
            return torch.full((len(z), 1, 28, 28), pixels)

    with pytest.raises(SampleError):
        evaluate(Broken(), dataclasses.replace(FAST, n_samples=100), "cpu", mnist_root)


def test_the_floor_is_cached_per_settings(tmp_path, mnist_root, test_split):
    net, checksum = load_evaluator("cpu"), evaluator_checksum()
    real = embed(net, to_model_range(test_split.images[:200], (0.0, 1.0)), 100, "cpu")
    train = train_embedding(net, checksum, mnist_root, 1000, "cpu")
    cfg = dataclasses.replace(FAST, n_samples=200)
    first = real_floor(cfg, real, train, checksum, tmp_path)
    [path] = (tmp_path / "gvc-eval").glob("floor-*.json")
    stored = json.loads(path.read_text())
    assert stored["metrics"] == first and stored["settings"]["evaluator_sha256"] == checksum
    stored["metrics"]["fid"] = -1.0  # a recomputation would not give this
    path.write_text(json.dumps(stored))
    assert real_floor(cfg, real, train, checksum, tmp_path)["fid"] == -1.0
    real_floor(dataclasses.replace(cfg, pr_k=4), real, train, checksum, tmp_path)
    assert len(list((tmp_path / "gvc-eval").glob("floor-*.json"))) == 2


def test_the_noise_level_is_cached_per_settings(tmp_path, mnist_root, test_split):
    net, checksum = load_evaluator("cpu"), evaluator_checksum()
    real = embed(net, to_model_range(test_split.images[:200], (0.0, 1.0)), 100, "cpu")
    train = train_embedding(net, checksum, mnist_root, 1000, "cpu")
    cfg = dataclasses.replace(FAST, n_samples=200)
    first = noise_level(cfg, net, real, train, checksum, tmp_path, torch.device("cpu"), 0.5)
    [path] = (tmp_path / "gvc-eval").glob("noise-*.json")
    stored = json.loads(path.read_text())
    assert stored["metrics"] == first and stored["settings"]["noise"] == "uniform[0,1]"
    stored["metrics"]["fid"] = -1.0  # a recomputation would not give this
    path.write_text(json.dumps(stored))
    assert noise_level(cfg, net, real, train, checksum, tmp_path, torch.device("cpu"), 0.5)["fid"] == -1.0
    noise_level(dataclasses.replace(cfg, dc_k=4), net, real, train, checksum, tmp_path, torch.device("cpu"), 0.5)
    assert len(list((tmp_path / "gvc-eval").glob("noise-*.json"))) == 2


# ---- configuration ---------------------------------------------------------------------------------------------


def test_default_yaml_matches_the_dataclass():
    assert as_eval_config(OmegaConf.load(CONF_EVAL / "default.yaml")) == EvalConfig()


def test_fast_yaml_is_small_and_valid():
    fast = as_eval_config(OmegaConf.load(CONF_EVAL / "fast.yaml"))
    assert fast.n_samples <= 1000 and fast.enabled


@pytest.mark.parametrize("bad", [{"n_samples": 2}, {"pr_k": 0}, {"class_min_share": 0.5}, {"every_epochs": 0},
                                 {"nll_images": 0}, {"fid_size": 3}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        as_eval_config({**dataclasses.asdict(EvalConfig()), **bad})
