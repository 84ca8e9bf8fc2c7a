"""Verdicts only where the numbers can carry them (issue 17.5): noise-level models and collapsed models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.conclusions import paper_claims
from analysis.spaces import class_effects, space_agreement
from analysis.tables import RESULT_COLUMNS
from analysis.verdict import collapsed_models, verdict_table
from gvc.facts import DIRECTIONS

NO_IMAGE_STATS = pd.DataFrame(columns=["model", "gray_fraction", "gray_fraction_se", "gray_fraction_n",
                                       "speckles", "speckles_se", "speckles_n"])
FLOOR = {"fid": 2.8, "precision": 0.855, "recall": 0.87, "density": 0.93, "coverage": 0.94, "classes_covered": 10,
         "kid_mean": 0.5}
NOISE = {"fid": 1117.0, "precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0, "classes_covered": 1,
         "kid_mean": 190.0}


def seed_values(mean: float, std: float, n: int) -> tuple[float, ...]:
    """n values (one per seed) with exactly this mean and sample std."""
    z = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    return tuple(mean + std * (z / z.std(ddof=1) if n > 1 else z))


def results(models: dict[str, dict[str, tuple[float, float]]], n: int = 4) -> pd.DataFrame:
    """A long results table: model -> metric -> (mean, std) over n runs (4: enough seeds for a verdict)."""
    rows = [{"model": model, "metric": metric, "kind": "metric", "direction": DIRECTIONS.get(metric, ""), "n": n,
             "mean": mean, "std": std, "seeds": tuple(range(n)), "values": seed_values(mean, std, n), "best": mean,
             "best_run": "", "floor": FLOOR.get(metric), "noise": NOISE.get(metric)}
            for model, metrics in models.items() for metric, (mean, std) in metrics.items()]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def claim(claims, text):
    return next(c for c in claims if c.claim == text)


def test_a_claim_between_models_at_the_noise_level_is_not_assessable():
    at_noise = results({
        "dcgan": {"fid": (1328.0, 20.0), "precision": (0.01, 0.01), "coverage": (0.0, 0.0)},
        "conv_vae": {"fid": (1331.0, 20.0), "precision": (0.0, 0.0), "coverage": (0.0, 0.0)},
        "linear_gan": {"fid": (300.0, 10.0), "precision": (0.6, 0.02), "coverage": (0.5, 0.02)},
        "linear_vae": {"fid": (350.0, 10.0), "precision": (0.5, 0.02), "coverage": (0.5, 0.02)},
    })
    claims = paper_claims(at_noise, NO_IMAGE_STATS, {})
    blurrier = claim(claims, "VAEs are blurrier than GANs.")  # linear_gan/linear_vae and dcgan/conv_vae
    noise_level = [e for e in blurrier.evidence if "dcgan" in e.comparison]
    assert noise_level and all(e.outcome.startswith("not assessable") for e in noise_level)
    assert "not assessable" in blurrier.verdict and "supported" in blurrier.verdict  # the linear pair still speaks
    helps = claim(claims, "Convolution helps.")  # every pair has a noise-level side
    assert helps.verdict.startswith("not assessable")


def test_a_collapsed_models_precision_never_decides_a_verdict():
    collapsed = results({
        # one blob repeated (FID below noise here, so the pair is assessable), one class, precision above real data
        "linear_gan": {"fid": (700.0, 5.0), "precision": (0.978, 0.005), "coverage": (0.01, 0.005),
                       "classes_covered": (1.0, 0.0)},
        "dcgan": {"fid": (310.0, 5.0), "precision": (0.7, 0.01), "coverage": (0.6, 0.01),
                  "classes_covered": (10.0, 0.0)},
        "linear_vae": {"fid": (340.0, 5.0), "precision": (0.5, 0.01), "coverage": (0.6, 0.01)},
        "conv_vae": {"fid": (330.0, 5.0), "precision": (0.6, 0.01), "coverage": (0.6, 0.01)},
    })
    claims = paper_claims(collapsed, NO_IMAGE_STATS, {})
    noisy = claim(claims, "The linear models are noisy.")  # precision: dcgan vs linear_gan would say "contradicts"
    gan = next(e for e in noisy.evidence if "linear_gan" in e.comparison)
    assert gan.outcome.startswith("flagged") and "collapsed" in gan.outcome
    assert "contradicted" not in noisy.verdict and "flagged" in noisy.verdict
    assert noisy.verdict.startswith("supported")  # decided by the conv/linear VAE pair alone


def test_the_verdict_table_marks_a_collapsed_models_precision():
    runs = pd.DataFrame([
        {"run": f"r{i}", "model": "linear_gan", "family": "gan", "status": "completed", "fid": 900.0,
         "precision": 0.978, "coverage": 0.01, "classes_covered": 1.0, "recall": 0.0,
         **{f"floor_{k}": v for k, v in FLOOR.items()}, **{f"noise_{k}": v for k, v in NOISE.items()}}
        for i in range(2)])
    assert "collapsed" in collapsed_models(runs)["linear_gan"]
    assert verdict_table(runs).loc["linear_gan", "precision"].endswith("⚠ collapsed")


def test_class_effects_and_space_agreement_are_reported():
    table = results({
        "a": {"fid": (160.0, 1.0), "fid_class_matched": (7.0, 1.0), "fid_class_3": (40.0, 1.0), "ae_fid": (100.0, 1.0)},
        "b": {"fid": (300.0, 1.0), "fid_class_matched": (290.0, 1.0), "ae_fid": (50.0, 1.0)},
        "c": {"fid": (500.0, 1.0), "fid_class_matched": (480.0, 1.0), "ae_fid": (400.0, 1.0)},
    })
    classes = class_effects(table).set_index("model")
    assert "class balance" in classes.loc["a", "note"] and classes.loc["b", "note"] == ""
    assert classes.loc["a", "worst class"] == "3"
    [fid] = space_agreement(table).to_dict("records")
    assert fid["models"] == 3 and fid["ordered differently"] == "a / b"
    assert fid["Kendall tau"] == pytest.approx((2 - 1) / 3)  # two concordant pairs, one discordant
