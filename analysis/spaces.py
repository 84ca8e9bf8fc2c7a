"""Second opinions on the headline numbers: class effects on FID, and whether the label-free space ranks alike.

* Class effects (Kynkaenniemi et al. 2023): FID in a classifier's space drops when the class histogram matches,
  without better images. Beside each model's FID: the class-matched FID (samples resampled to the test set's
  class histogram) and its worst within-class FID; a large gap between FID and class-matched FID means part of
  the FID is class balance, not image quality.
* Feature-space agreement (Stein et al. 2023): the models' order by each metric in the classifier space and in
  the autoencoder space (ae_*), Kendall's tau between them, and every pair the two spaces order differently.

All from the long results table (analysis.tables.results_table: model, metric, n, mean, std, floor, noise).
"""

from __future__ import annotations

import itertools
import math

import pandas as pd
from scipy.stats import kendalltau

from gvc.facts import AE_PREFIX, AUTOENCODER, CLASSIFIER, MINIMIZE, direction_of_key, metric_of, registered

# FID / class-matched FID above this: the note "the gain is class balance" (calibration, docs/metrics.md: a
# histogram skewed to 0.7^class scores 161 against 6.7 class-matched; dropping one class 30 against 21).
CLASS_GAP_RATIO = 1.5
CLASS_COLUMNS = ["model", "FID", "class-matched FID", "ratio", "worst class FID", "worst class", "note"]
AGREEMENT_COLUMNS = ["classifier space", "autoencoder space", "models", "Kendall tau", "ordered differently"]


def space_pairs() -> tuple[tuple[str, str], ...]:
    """(classifier metric, its autoencoder-space twin) for every headline metric of the autoencoder's space whose
    name without ae_ is a classifier-space metric (fid / ae_fid, ...): the orders compared by space_agreement."""
    pairs = []
    for m in registered():
        twin = metric_of(m.name.removeprefix(AE_PREFIX))
        if m.space == AUTOENCODER and m.headline and twin is not None and twin.space == CLASSIFIER:
            pairs.append((twin.name, m.name))
    return tuple(pairs)


def _means(results: pd.DataFrame) -> pd.DataFrame:
    """model x metric table of means."""
    if results.empty:
        return pd.DataFrame()
    return results.pivot_table(index="model", columns="metric", values="mean", aggfunc="first", sort=False)


def class_effects(results: pd.DataFrame) -> pd.DataFrame:
    """One row per model that measured fid_class_matched: FID, class-matched FID, their ratio, the worst class."""
    means = _means(results)
    if "fid_class_matched" not in means.columns or "fid" not in means.columns:
        return pd.DataFrame(columns=CLASS_COLUMNS)
    per_class = [c for c in means.columns if c.startswith("fid_class_") and c[len("fid_class_"):].isdigit()]
    rows = []
    for model, r in means.iterrows():
        fid, matched = r["fid"], r["fid_class_matched"]
        if not (math.isfinite(fid) and math.isfinite(matched)):
            continue
        classes = r[per_class].dropna() if per_class else pd.Series(dtype=float)
        worst = classes.idxmax() if len(classes) else None
        ratio = fid / matched if matched > 0 else math.nan
        note = (f"FID is {ratio:.1f}x its class-matched value: much of it is class balance, not image quality"
                if ratio > CLASS_GAP_RATIO else "")
        rows.append({"model": model, "FID": fid, "class-matched FID": matched, "ratio": ratio,
                     "worst class FID": classes.max() if worst else math.nan,
                     "worst class": worst.removeprefix("fid_class_") if worst else "", "note": note})
    return pd.DataFrame(rows, columns=CLASS_COLUMNS)


def _ordered(values: pd.Series, metric: str) -> pd.Series:
    """Higher = better, whatever the metric's direction."""
    return -values if direction_of_key(metric) == MINIMIZE else values


def space_agreement(results: pd.DataFrame) -> pd.DataFrame:
    """Per metric measured in both spaces by at least two models: Kendall tau of the two orders (1 = the same
    ranking, -1 = reversed) and the pairs ordered differently."""
    means = _means(results)
    rows = []
    for first, second in space_pairs():
        if first not in means.columns or second not in means.columns:
            continue
        both = means[[first, second]].dropna()
        if len(both) < 2:
            continue
        a, b = _ordered(both[first], first), _ordered(both[second], second)
        tau = kendalltau(a, b).statistic if a.nunique() > 1 and b.nunique() > 1 else math.nan
        flips = [f"{m} / {n}" for m, n in itertools.combinations(both.index, 2)
                 if (a[m] - a[n]) * (b[m] - b[n]) < 0]
        rows.append({"classifier space": first, "autoencoder space": second, "models": len(both),
                     "Kendall tau": tau, "ordered differently": ", ".join(flips) or "none"})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
