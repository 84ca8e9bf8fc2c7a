"""Does early rank predict final rank? Before trusting a multi-fidelity search (successive halving keeps the best
third of a rung), measure on the runs themselves how well the order of trials at a point along training predicts
their order at the end: Kendall's tau per family, and what the simplest baseline would have kept (Egele et al.
2023: train every configuration briefly, keep the top k, train those to the end).

Pure functions over the runs evaluated along training (analysis/curves.py's along_frame): a trial is one run (a
configuration and a seed, as the halving sweeper ranks them), its value at a point is its objective at the cheap N
there, its final value the objective at the full N at the end (what a sweep reports).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from analysis import curves
from analysis.collect import Collection
from analysis.stats import MINIMIZE

KEEP_SHARE = 1 / 3  # the baseline keeps the best third, as successive halving at eta = 3 does at each rung


def early_rank_frame(collection: Collection) -> pd.DataFrame:
    """One row per (completed run evaluated along training, point before its end): family, run, unit, point,
    budget, the objective's name and direction, its value at the point and its final value."""
    frame = curves.along_frame(collection)
    columns = ["family", "run", "unit", "point", "budget", "objective", "direction", "value", "final"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    t = collection.table.set_index("run")
    rows = []
    for row in frame[frame["position"] != curves.END].itertuples(index=False):
        run = t.loc[row.run]
        name = str(run.get("objective_name", ""))
        value = getattr(row, name, math.nan) if name else math.nan
        rows.append({"family": run.get("family"), "run": row.run, "unit": row.along_unit, "point": row.point,
                     "budget": row.along_budget, "objective": name, "direction": run.get("objective_direction"),
                     "value": value, "final": run.get("objective")})
    out = pd.DataFrame(rows, columns=columns)
    return out.dropna(subset=["value", "final"])


def top_k(values: np.ndarray, k: int, direction: str) -> np.ndarray:
    """Indices of the k best values (lowest when minimising), ties broken by position (stable)."""
    order = np.argsort(values if direction == MINIMIZE else -values, kind="stable")
    return order[:k]


def rank_agreement(frame: pd.DataFrame, keep_share: float = KEEP_SHARE) -> pd.DataFrame:
    """Per (family, objective, unit, point) with at least 3 trials: Kendall's tau (and its p) between the trials'
    values at the point and their final values; the baseline that keeps the best ceil(keep_share x n) at the point
    and trains only those on: the best final value among them, the best final value of all, whether it kept the
    best trial, and its compute as a share of training every trial to the end."""
    rows = []
    for (family, name, unit, point), part in frame.groupby(["family", "objective", "unit", "point"], sort=True):
        if len(part) < 3:
            continue
        direction = part["direction"].dropna().iloc[0] if part["direction"].notna().any() else MINIMIZE
        values, final = part["value"].to_numpy(float), part["final"].to_numpy(float)
        tau, p = kendalltau(values, final)
        k = max(1, math.ceil(keep_share * len(part)))
        kept = top_k(values, k, direction)
        best = top_k(final, 1, direction)[0]
        budget = float(part["budget"].median())
        rows.append({"family": family, "objective": name, "unit": unit, "point": float(point), "budget": budget,
                     "trials": len(part), "kendall_tau": float(tau), "p": float(p), "keep": k,
                     "kept_best_final": float(final[kept].min() if direction == MINIMIZE else final[kept].max()),
                     "best_final": float(final[best]), "kept_the_best": bool(best in kept),
                     "cost_share": (len(part) * point + k * (budget - point)) / (len(part) * budget)})
    return pd.DataFrame(rows)
