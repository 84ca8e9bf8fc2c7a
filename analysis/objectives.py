"""Objectives compared directly, per architecture: is hinge better than ns on DCGAN?

For each model trained with more than one objective (the runs' `objective_label`: the loss and the knobs in which
it departs from that loss's defaults), each objective is represented by its best configuration (by the model's
objective, e.g. FID) and compared with every other on that metric by analysis.stats.compare_groups, paired by
seed when both objectives ran the same seeds (six or more). The ranking gives tied ranks where the test cannot separate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.collect import Collection
from analysis.stats import A_BETTER, B_BETTER, MINIMIZE, compare_groups, pairing_can_tell
from analysis.tables import COMPLETED, configuration_labels, mean_std, model_objective, models_in_order

COMPARISON_COLUMNS = ["model", "metric", "objective_a", "objective_b", "n_a", "n_b", "paired", "mean_a", "mean_b",
                      "effect", "ci_low", "ci_high", "p", "welch_p", "verdict"]
RANKING_COLUMNS = ["model", "metric", "rank", "objective", "configuration", "seeds", "mean ± std", "tied with"]


def objective_groups(collection: Collection, model: str) -> tuple[str, str, dict[str, pd.DataFrame]]:
    """The model's objective metric and direction, and per objective label the completed runs of that objective's
    best configuration (best mean of the metric), ordered by seed."""
    metric, direction = model_objective(collection, model)
    t = collection.table.assign(configuration=configuration_labels(collection).values)
    runs = t[(t["model"] == model) & (t["status"] == COMPLETED)]
    if not metric or metric not in runs.columns or "objective_label" not in runs.columns:
        return metric, direction, {}
    runs = runs[np.isfinite(runs[metric].astype(float)) & (runs["objective_label"].fillna("") != "")]
    groups: dict[str, pd.DataFrame] = {}
    for label, part in runs.groupby("objective_label", sort=False):
        means = part.groupby("configuration", sort=False)[metric].mean()
        best = means.idxmin() if direction == MINIMIZE else means.idxmax()
        groups[str(label)] = part[part["configuration"] == best].sort_values("seed", kind="stable")
    return metric, direction, groups


def _compare(a: pd.DataFrame, b: pd.DataFrame, metric: str, direction: str):
    """Paired by seed when both ran exactly the same seeds (each once) and enough of them for a sign-flip test to
    reach ALPHA (2 / 2^n: six seeds); else two groups (with fewer shared seeds the two-group test can still
    tell, 4 vs 4 at p = 0.029, and it is conservative when a seed moves both objectives alike)."""
    seeds_a, seeds_b = list(a["seed"]), list(b["seed"])
    paired = seeds_a == seeds_b and len(set(seeds_a)) == len(seeds_a) and pairing_can_tell(len(seeds_a))
    return compare_groups(a[metric].astype(float), b[metric].astype(float), direction, paired=paired)


def objective_comparisons(collection: Collection) -> pd.DataFrame:
    """One row per (model, pair of objectives): the test of the first against the second on the model's
    objective metric; verdict names the better objective, or 'not separable' / 'too few seeds to tell'."""
    rows = []
    for model in models_in_order(collection):
        metric, direction, groups = objective_groups(collection, model)
        labels = list(groups)
        for i, la in enumerate(labels):
            for lb in labels[i + 1:]:
                c = _compare(groups[la], groups[lb], metric, direction)
                verdict = {A_BETTER: f"{la} better", B_BETTER: f"{lb} better"}.get(c.verdict, c.verdict)
                rows.append({"model": model, "metric": metric, "objective_a": la, "objective_b": lb, "n_a": c.n_a,
                             "n_b": c.n_b, "paired": c.paired, "mean_a": c.mean_a, "mean_b": c.mean_b,
                             "effect": c.effect, "ci_low": c.ci[0], "ci_high": c.ci[1], "p": c.p,
                             "welch_p": c.welch_p, "verdict": f"{verdict} ({c.text()})"})
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def objective_ranking(collection: Collection) -> pd.DataFrame:
    """Per model, its objectives best first (by mean). An objective shares the rank of the best objective of the
    tie group above it when the test cannot tell the two apart (not separable, or too few seeds); otherwise it
    starts a new group at its own position (1, 1, 3, ...)."""
    rows = []
    for model in models_in_order(collection):
        metric, direction, groups = objective_groups(collection, model)
        if len(groups) < 2:
            continue
        order = sorted(groups, key=lambda k: groups[k][metric].mean() * (1 if direction == MINIMIZE else -1))
        ranks: dict[str, int] = {}
        leader = order[0]  # the best objective of the current tie group
        for position, label in enumerate(order, start=1):
            told_apart = _compare(groups[leader], groups[label], metric, direction).verdict in (A_BETTER, B_BETTER)
            if label != leader and told_apart:
                leader = label  # told apart from the group above: a new rank
            ranks[label] = ranks.get(leader, position)
        ties: dict[str, list[str]] = {}
        for label in order:
            ties[label] = [o for o in order if o != label and ranks[o] == ranks[label]]
        for label in order:
            g = groups[label]
            values = g[metric].astype(float)
            rows.append({"model": model, "metric": metric, "rank": ranks[label], "objective": label,
                         "configuration": str(g["configuration"].iloc[0]), "seeds": len(g),
                         "mean ± std": mean_std(float(values.mean()),
                                               float(values.std(ddof=1)) if len(values) > 1 else math.nan),
                         "tied with": ", ".join(ties[label])})
    return pd.DataFrame(rows, columns=RANKING_COLUMNS)


__all__ = ["objective_comparisons", "objective_ranking"]
