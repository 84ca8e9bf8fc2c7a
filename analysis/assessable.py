"""Verdicts only where the numbers can carry them: which models a comparison may use, and which of their numbers.

Two failures seen in real reports:

* two models at the uniform-noise level (DCGAN FID 1,328 vs conv VAE 1,331, noise 1,117) were ranked against each
  other: nothing they do is told apart from noise, so no claim about them is assessable;
* a linear GAN collapsed to one blob (classes_covered 1, FID worse than noise) scored precision 0.978, above real
  data's 0.855, and that number decided a claim. Precision and density reward samples that sit in dense real
  regions, however few distinct ones there are (Naeem et al. 2020); coverage is their fix. A collapsed model's
  precision and density are flagged and never decide a verdict.

A third, per data set: a metric on which uniform noise scores at least as well as the real-data floor (in the
runs' own noise_ and floor_ references, as the data set's card shows) cannot tell noise from data there, so it is
flagged and never decides (e.g. a label-free space trained on a user's own images, where noise may sit among
the real codes).

`standing` reads each model's FID against uniform noise and its class / coverage counts; `gate` rewrites one
piece of evidence accordingly; `gated_verdict` words a claim's verdict when some or all of it was gated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable

import pandas as pd

from gvc.facts import MINIMIZE, metric_of, registry

# "Clearly better than noise": even the pessimistic end of the model's FID (mean + 2 standard errors, or its
# one run) is at most this share of uniform noise's FID. Calibration (docs/metrics.md): Gaussian blur at σ = 2
# already scores 97 % of noise's FID, specks on 20 % of the pixels 53 %.
NOISE_FID_SHARE = 0.8
# Collapsed: at most this many classes receive >= class_min_share of the samples, or coverage below this share
# of the real floor's (calibration: one class kept scores coverage 0.10 against the floor's 0.96).
COLLAPSE_MAX_CLASSES = 3
COLLAPSE_COVERAGE_SHARE = 0.25
# Beside the metrics whose spec says a collapsed model can inflate them (gvc/facts.py: precision, density; Naeem et
# al. 2020), the image proxies (one crisp blob repeated has little gray and no specks): they never decide for it.
PROXIES_INFLATED_BY_COLLAPSE = frozenset({"gray_fraction", "speckles"})
NOT_ASSESSABLE = "not assessable"
FLAGGED = "flagged"


def inflated_by_collapse(metric: str) -> bool:
    """Whether a collapsed model's `metric` (a summary key or an image proxy) is set aside rather than deciding."""
    spec = metric_of(metric)
    return spec.inflated_by_collapse if spec is not None else metric in PROXIES_INFLATED_BY_COLLAPSE


@dataclass(frozen=True)
class Standing:
    """What a model's numbers can carry: assessable (clearly better than noise, or FID not measured), collapsed."""

    assessable: bool = True
    collapsed: bool = False
    why: str = ""
    fooled_by_noise: frozenset[str] = frozenset()  # this data set's metrics that score noise as well as real data


def _value(rows: pd.DataFrame, metric: str, column: str = "mean") -> float:
    if column not in rows.columns:  # e.g. results of runs without references
        return math.nan
    match = rows[rows["metric"] == metric]
    return float(match[column].iloc[0]) if len(match) and pd.notna(match[column].iloc[0]) else math.nan


def standing(results: pd.DataFrame) -> dict[str, Standing]:
    """Per model, from the long results table (model, metric, n, mean, std, floor, noise: analysis.tables)."""
    out: dict[str, Standing] = {}
    if results.empty or "model" not in results.columns:
        return out
    fooled = fooled_by_noise(results)
    for model, rows in results.groupby("model"):
        fid_key = "fid" if math.isfinite(_value(rows, "fid")) or not math.isfinite(_value(rows, "ae_fid")) else "ae_fid"
        fid, n, sd, noise = (_value(rows, fid_key, c) for c in ("mean", "n", "std", "noise"))
        pessimistic = fid + (2 * sd / math.sqrt(n) if n > 1 and math.isfinite(sd) else 0.0)
        assessable = not (math.isfinite(fid) and math.isfinite(noise)) or pessimistic <= NOISE_FID_SHARE * noise
        classes, coverage, floor_coverage = (_value(rows, "classes_covered"), _value(rows, "coverage"),
                                             _value(rows, "coverage", "floor"))
        collapsed = (math.isfinite(classes) and classes <= COLLAPSE_MAX_CLASSES) or (
            math.isfinite(coverage) and math.isfinite(floor_coverage)
            and coverage < COLLAPSE_COVERAGE_SHARE * floor_coverage)
        why = []
        if not assessable:
            why.append(f"FID {fid:,.0f} not clearly better than uniform noise's {noise:,.0f}")
        if collapsed:
            why.append(f"collapsed (classes covered {classes:g}, coverage {coverage:.2f})")
        out[str(model)] = Standing(assessable, collapsed, "; ".join(why), fooled)
    return out


def fooled_by_noise(results: pd.DataFrame) -> frozenset[str]:
    """Quality metrics whose uniform-noise reference is at least as good as their real-data floor (results: the long
    table's metric, floor and noise columns, or a run table's floor_/noise_ columns)."""
    pairs: dict[str, tuple[float, float]] = {}
    if {"metric", "floor", "noise"} <= set(results.columns):
        for metric, rows in results.groupby("metric"):
            pairs[str(metric)] = (rows["noise"].astype(float).mean(), rows["floor"].astype(float).mean())
    for column in results.columns:
        name = str(column).removeprefix("noise_")
        if column != name and f"floor_{name}" in results.columns:
            pairs[name] = (results[column].astype(float).mean(), results[f"floor_{name}"].astype(float).mean())
    fooled = set()
    for name, (noise, real) in pairs.items():
        metric = registry().get(name)
        if metric is None or not metric.objective or name.startswith("nn_train_dist"):
            continue  # distances to training images rise for noise by design: not quality on their own
        if math.isfinite(noise) and math.isfinite(real) and (noise <= real if metric.direction == MINIMIZE
                                                              else noise >= real):
            fooled.add(name)
    return frozenset(fooled)


def standing_from_runs(table: pd.DataFrame) -> dict[str, Standing]:
    """standing() from a run table (one row per run, summary keys as columns, floor_/noise_ references)."""
    from analysis.stats import describe

    done = table[table["status"] == "completed"] if "status" in table.columns else table.iloc[0:0]
    rows = []
    for model, runs in done.groupby("model"):
        for metric in ("fid", "ae_fid", "classes_covered", "coverage"):
            if metric in runs.columns:
                stats = describe(runs[metric].astype(float))
                refs = {ref: describe(runs[f"{ref}_{metric}"].astype(float))["mean"]
                        if f"{ref}_{metric}" in runs.columns else math.nan for ref in ("floor", "noise")}
                rows.append({"model": model, "metric": metric, **stats, **refs})
    return standing(pd.DataFrame(rows, columns=["model", "metric", "n", "mean", "std", "min", "max", "floor", "noise"]))


def gate(evidence: Any, metric: str, a: str, b: str, standings: dict[str, Standing]) -> Any:
    """The evidence "a better than b on metric", with its outcome replaced where the numbers cannot carry it."""
    if evidence is None or evidence.outcome == "not measured":
        return evidence
    weak = [m for m in (a, b) if not standings.get(m, Standing()).assessable]
    if weak:
        return replace(evidence, outcome=f"{NOT_ASSESSABLE} ({' and '.join(weak)}: not clearly better than "
                                         f"uniform noise)")
    if any(metric in standings.get(m, Standing()).fooled_by_noise for m in (a, b)):
        return replace(evidence, outcome=f"{FLAGGED}: uniform noise scores {metric} as well as real data on this data "
                                         "set, so it does not decide")
    collapsed = [m for m in (a, b) if standings.get(m, Standing()).collapsed]
    if collapsed and inflated_by_collapse(metric):
        return replace(evidence, outcome=f"{FLAGGED}: {' and '.join(collapsed)} collapsed, so its {metric} is "
                                         f"inflated (Naeem et al. 2020) and does not decide")
    # A collapsed model never wins a comparison that decides: where it comes out better, the evidence is flagged.
    winner = a if evidence.outcome.startswith("supports") else b if evidence.outcome.startswith("contradicts") else ""
    if winner in collapsed:
        return replace(evidence, outcome=f"{FLAGGED}: {winner} collapsed, and a collapsed model's better {metric} "
                                         "does not decide")
    return evidence


def gated_verdict(evidence: list, verdict: Callable[[list], str]) -> str:
    """verdict(evidence) over the evidence that may decide, worded for what was set aside."""
    weak = [e for e in evidence if e.outcome.startswith(NOT_ASSESSABLE)]
    flagged = [e for e in evidence if e.outcome.startswith(FLAGGED)]
    text = verdict([e for e in evidence if e not in weak and e not in flagged])
    if text == "not measured" and weak:
        return f"{NOT_ASSESSABLE}: the models compared are not clearly better than uniform noise"
    if text == "not measured" and flagged:
        return (f"{NOT_ASSESSABLE}: only a collapsed model's precision, density, image proxies or better numbers "
                "spoke, and they do not decide")
    notes = []
    if weak:
        notes.append(f"{len(weak)} comparison{'s' if len(weak) > 1 else ''} not assessable (at the noise level)")
    if flagged:
        notes.append(f"{len(flagged)} flagged (a collapsed model's numbers, or a metric noise fools)")
    return text + (f" — {'; '.join(notes)}" if notes else "")
