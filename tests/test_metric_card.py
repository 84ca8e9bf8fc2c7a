"""Numbers a reader can trust: the metric registry, class effects, the second feature space, the likelihood scale,
dynamic binarisation and the calibration command (issue 17)."""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess
import sys

import pytest
import torch

from gvc import facts
from gvc.data import DeviceBatches
from gvc.evaluation import config as eval_config
from gvc.evaluation import metrics
from gvc.evaluation.calibrate import CalibrationError, Settings, calibrate, main as calibrate_main
from gvc.evaluation.config import EvalConfig, evaluation_problem
from gvc.evaluation.evaluate import evaluate, reference_settings
from tests.conftest import make_config

FAST = EvalConfig(n_samples=300, batch_size=300, kid_subsets=5, kid_subset_size=100, iw_samples=3, nll_images=50)


# ---- the registry ---------------------------------------------------------------------------------------------


def test_directions_labels_and_objectives_derive_from_the_registry():
    assert facts.DIRECTIONS == {m.name: m.direction for m in facts.METRICS if not m.per_class}
    assert facts.direction_of_key("floor_fid_class_7") == facts.MINIMIZE
    assert facts.label_of("ae_fid") == "FID (autoencoder space)" and facts.label_of("fid_class_3").endswith(" 3")
    assert facts.metric_of("fid_class_") is None and facts.metric_of("unknown") is None
    assert "kid_std" not in facts.OBJECTIVES and "fid" in facts.OBJECTIVES
    assert all(m.needs <= {facts.FEATURES, facts.LOGITS, facts.PIXELS, facts.MODEL, facts.SECOND_SPACE}
               for m in facts.METRICS)


def test_the_registry_stays_torch_free():
    code = "import sys, gvc.facts; assert 'torch' not in sys.modules, 'gvc.facts imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_adding_or_changing_a_metric_changes_the_reference_cache_key(monkeypatch):
    before = reference_settings(FAST, 300, "sha")
    extra = facts.Metric("new_metric", facts.MINIMIZE, frozenset({facts.FEATURES}), "new")
    monkeypatch.setattr(facts, "METRICS", (*facts.METRICS, extra))
    assert reference_settings(FAST, 300, "sha") != before
    bumped = tuple(dataclasses.replace(m, version=2) if m.name == "fid" else m for m in facts.METRICS)
    monkeypatch.setattr(facts, "METRICS", bumped)
    assert reference_settings(FAST, 300, "sha")["metrics"] != before["metrics"]


# ---- metric functions ------------------------------------------------------------------------------------------


def test_prdc_in_one_pass_equals_the_separate_functions():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(400, 16, generator=g), 1.2 * torch.randn(300, 16, generator=g) + 0.3
    joint = metrics.prdc(real, fake, 3, 5)
    assert (joint["precision"], joint["recall"]) == pytest.approx(metrics.precision_recall(real, fake, 3))
    assert (joint["density"], joint["coverage"]) == pytest.approx(metrics.density_coverage(real, fake, 5))


def test_class_matched_fid_removes_a_class_imbalance_that_global_fid_punishes():
    g = torch.Generator().manual_seed(0)
    centres = 4 * torch.randn(5, 8, generator=g)
    real_classes = torch.arange(5).repeat_interleave(400)
    fake_classes = torch.cat([torch.full((1200,), 0), torch.arange(1, 5).repeat_interleave(200)])
    real = centres[real_classes] + torch.randn(len(real_classes), 8, generator=g)
    fake = centres[fake_classes] + torch.randn(len(fake_classes), 8, generator=g)  # same images, skewed histogram
    scores = metrics.class_fids(real, fake, real_classes, fake_classes, num_classes=6, seed=0)
    assert metrics.frechet_distance(real, fake) > 5 * scores["fid_class_matched"]
    assert set(scores) == {"fid_class_matched", *(f"fid_class_{c}" for c in range(5))}  # class 5: nobody, no key


def test_the_continuous_bernoulli_bound_is_the_bce_bound_plus_the_log_normaliser():
    from gvc.likelihoods import continuous_bernoulli_log_norm

    out, x = torch.tensor([[0.2, 0.5, 0.9]]), torch.tensor([[0.1, 0.5, 1.0]])
    bce, cb = metrics.decoder_log_likelihoods(torch.nn.Module(), out, x)
    assert cb.item() == pytest.approx(bce.item() + continuous_bernoulli_log_norm(out).sum().item(), abs=1e-5)


# ---- second feature space ----------------------------------------------------------------------------------------


@pytest.fixture
def evaluator_dir(tmp_path, monkeypatch):
    """An empty folder in place of gvc/evaluation/ for the shipped evaluators: tests copy in what they need."""
    source = eval_config.EVALUATOR_DIR
    monkeypatch.setattr(eval_config, "EVALUATOR_DIR", tmp_path)
    return lambda *names: [shutil.copy(source / name, tmp_path / name) for name in names]


def test_a_missing_second_space_encoder_is_refused_with_how_to_build_it(evaluator_dir):
    evaluator_dir("mnist_classifier.pt", "mnist_classifier.json")
    problem = evaluation_problem("mnist", "MNIST", second_space=True)
    assert "python -m gvc.evaluation.train_autoencoder --data mnist" in problem and "second_space=false" in problem
    assert evaluation_problem("mnist", "MNIST", second_space=False) is None
    from gvc.config import ConfigError, validate

    with pytest.raises(ConfigError, match="train_autoencoder"):
        validate(make_config(["model=linear_gan"]))


def test_a_data_set_without_a_classifier_is_measured_in_the_second_space_alone(evaluator_dir, mnist_root):
    from tests.test_evaluator import UniformNoise

    evaluator_dir("mnist_autoencoder.pt", "mnist_autoencoder.json")
    assert "train_classifier" in evaluation_problem("mnist", "MNIST", second_space=False)
    scores = evaluate(UniformNoise(), FAST, "cpu", mnist_root)
    assert {k.removeprefix("floor_").removeprefix("noise_") for k in scores} == {
        "ae_fid", "ae_precision", "ae_recall", "ae_density", "ae_coverage", "ae_kid_mean", "ae_kid_std",
        "ae_memorisation_ratio"}
    assert scores["ae_fid"] > 10 * scores["floor_ae_fid"]


def test_the_shipped_encoders_match_their_checksums():
    from gvc.evaluation.autoencoder import load_encoder

    for dataset in ("mnist", "fashion_mnist"):
        assert load_encoder("cpu", dataset)(torch.zeros(2, 1, 28, 28)).shape == (2, 64)


# ---- dynamic binarisation --------------------------------------------------------------------------------------


def test_dynamic_binarisation_draws_fresh_binary_pixels_with_the_grey_level_as_probability():
    data = torch.full((4000, 1, 2, 2), 0.3)
    batches = DeviceBatches(data, 1000, torch.Generator().manual_seed(0), binarize="dynamic")
    first, second = list(batches)[0], list(batches)[0]
    assert set(first.unique().tolist()) == {0.0, 1.0} and not torch.equal(first, second)
    assert first.mean().item() == pytest.approx(0.3, abs=0.03)
    again = DeviceBatches(data, 1000, torch.Generator().manual_seed(0), binarize="dynamic")
    assert torch.equal(next(iter(again)), first)  # seeded by the shuffling generator: resumable
    assert torch.equal(next(iter(DeviceBatches(data, 1000, torch.Generator()))), data[:1000])


@pytest.mark.parametrize("overrides, words", [
    (["model=linear_vae", "data.binarize=static"], "data.binarize"),
    (["model=linear_gan", "data.binarize=dynamic"], "none for a GAN"),
])
def test_bad_binarize_settings_are_refused(overrides, words):
    from gvc.config import ConfigError, validate

    with pytest.raises(ConfigError, match=words):
        validate(make_config(overrides))


# ---- calibration -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings, words", [
    (Settings(dataset="cifar"), "unknown data set"),
    (Settings(corruptions=["floor", "jpeg"]), "unknown corruption"),
    (Settings(blur_sigmas=[1.0, 0.0]), "σ > 0"),
    (Settings(speck_shares=[1.0]), r"in \(0, 1\)"),
    (Settings(speck_shares=[-0.1]), r"in \(0, 1\)"),
    (Settings(noise_stds=[-1.0]), "> 0"),
    (Settings(n=5), "--n 5"),
])
def test_bad_calibration_settings_are_refused_before_any_compute(settings, words):
    with pytest.raises(CalibrationError, match=words):
        settings.validate()


def test_the_calibration_command_names_a_bad_setting(capsys):
    with pytest.raises(SystemExit) as exited:
        calibrate_main(["--blur", "-1"])
    assert exited.value.code == 2 and "gvc: error: --blur -1.0 is not allowed" in capsys.readouterr().err


@pytest.fixture(scope="module")
def card(mnist_root):
    cheap_kid = EvalConfig(kid_subsets=10, kid_subset_size=250)  # KID's 100 default subsets dominate at this N
    table = calibrate(Settings(n=600), mnist_root, eval_cfg=cheap_kid)
    return {(r.corruption, r.parameter): r for r in table.itertuples()}


def _rows(card, corruption):
    return [r for (c, _), r in card.items() if c == corruption]


@pytest.mark.slow
def test_fid_and_kid_rise_monotonically_with_blur_and_with_specks(card):
    floor = card[("floor", "clean training images")]
    for corruption in ("blur", "specks"):
        rows = [floor, *_rows(card, corruption)]  # in increasing strength
        for metric in ("fid", "kid_mean", "ae_fid"):
            values = [getattr(r, metric) for r in rows]
            assert values == sorted(values) and len(set(values)) == len(values), (corruption, metric, values)


@pytest.mark.slow
def test_specks_lower_precision_and_mode_drops_lower_recall_coverage_and_classes(card):
    floor = card[("floor", "clean training images")]
    assert all(r.precision < floor.precision - 0.1 for r in _rows(card, "specks"))
    drops = _rows(card, "mode_drop")  # 9, 5, 1 classes kept
    assert [r.classes_covered for r in drops] == [9, 5, 1]
    for metric in ("recall", "coverage"):
        values = [getattr(floor, metric)] + [getattr(r, metric) for r in drops]
        assert values == sorted(values, reverse=True), (metric, values)
    # the label-free space does not see one missing class (within noise), but it sees five
    for metric in ("ae_recall", "ae_coverage"):
        assert getattr(floor, metric) - 0.1 > getattr(drops[1], metric) > getattr(drops[2], metric), metric
    assert all(abs(r.precision - floor.precision) < 0.05 for r in drops)  # dropping modes keeps fidelity


@pytest.mark.slow
def test_copies_are_caught_by_memorisation_while_fid_stays_at_the_floor(card):
    floor, copies = card[("floor", "clean training images")], card[("copies", "exact training images")]
    assert copies.memorisation_ratio < 0.05 < 0.8 < floor.memorisation_ratio
    assert copies.fid == pytest.approx(floor.fid, rel=0.01)


@pytest.mark.slow
def test_moderate_corruptions_score_between_the_floor_and_uniform_noise(card):
    floor, noise = card[("floor", "clean training images")], card[("uniform_noise", "pixels ~ U[0, 1]")]
    moderate = [card[("blur", "σ = 0.5")], card[("blur", "σ = 1")], *_rows(card, "gaussian_noise"),
                card[("specks", "1% of pixels white")], card[("specks", "5% of pixels white")],
                *_rows(card, "skewed_classes")]
    for r in moderate:
        for metric in ("fid", "kid_mean", "ae_fid"):
            assert getattr(floor, metric) < getattr(r, metric) < getattr(noise, metric), (r.parameter, metric)
        assert noise.coverage <= r.coverage <= floor.coverage + 0.05
    # stronger ones may pass noise (docs/metrics.md): a single class kept is "worse than noise" by FID
    assert card[("mode_drop", "1 of 10 classes")].fid > floor.fid


@pytest.mark.slow
def test_a_skewed_class_histogram_is_exposed_by_class_matched_fid(card):
    floor, skew = card[("floor", "clean training images")], _rows(card, "skewed_classes")[0]
    assert skew.fid > 5 * skew.fid_class_matched and skew.fid_class_matched < 2 * floor.fid_class_matched


@pytest.mark.slow
def test_a_binarised_vae_is_bounded_on_binary_test_images_in_the_bernoulli_likelihood_only(mnist_root):
    from tests.conftest import TinyVAE

    cfg = dataclasses.replace(FAST, second_space=False, class_fids=False)
    grey, binary = (evaluate(TinyVAE(), cfg, "cpu", mnist_root, binarize=b) for b in ("none", "dynamic"))
    assert {"test_cb_nelbo", "test_cb_nll_iw"} <= set(grey) and not {"test_cb_nelbo", "test_cb_nll_iw"} & set(binary)
    assert binary["test_nll_iw"] != grey["test_nll_iw"] and binary["fid"] == grey["fid"]  # samples scored alike
    with pytest.raises(ValueError, match="binarize"):
        evaluate(TinyVAE(), cfg, "cpu", mnist_root, binarize="static")
