"""The report's opening verdict: each model's headline metrics, framed by uniform noise and by real data.

One row per model (mean ± sample std over its completed runs), between a "uniform noise" row (what a model
that learned nothing scores: the runs' noise_<metric>) and a "real data (floor)" row (what a perfect model
scores: floor_<metric>), so a reader sees at once where each model stands between the two.

Built from a run table (Collection.table, or any subset of its rows such as the runs of one data set), so that
a report over several data sets can build one verdict per data set; nothing here mixes rows it is not given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from analysis.assessable import fooled_by_noise, inflated_by_collapse, standing_from_runs
from analysis.collect import FLOOR_PREFIX, NOISE_PREFIX
from analysis.stats import describe
from analysis.tables import (COMPLETED, FLOOR_ROW, NOISE_ROW, evaluation_size, fmt, mean_std, order_models,
                             size_text)
from gvc.facts import AE_PREFIX, AUTOENCODER, CLASSIFIER, MAXIMIZE, MINIMIZE, label_of, metric_of, registered


@dataclass(frozen=True)
class Headline:
    """One verdict column: its label, the summary.json keys that measure it (first measured wins), and whether
    it exists only for VAEs (and has no noise or floor value)."""

    label: str
    keys: tuple[str, ...]
    vae_only: bool = False


# The VAEs' headline: the evaluator's test -ELBO where the runs were evaluated; else the trainer's last per-epoch
# test -ELBO (a loss, not a registered metric, hence named here).
ELBO_HEADLINE = Headline("test −ELBO (nats)", ("test_nelbo", "test_loss"), vae_only=True)
NOT_MEASURED, NOT_APPLICABLE = "not measured", "n/a"


def space_headlines(space: str) -> tuple[Headline, ...]:
    """The registry's headline metrics of one space (gvc/facts.py `headline`), in its order, then the ELBO."""
    return (*(Headline(label_of(m.name), (m.name,)) for m in registered()
              if m.headline and m.space == space and m.family is None), ELBO_HEADLINE)


def headlines(done: pd.DataFrame) -> tuple[Headline, ...]:
    """The classifier space's headline metrics, or the label-free space's where no run has the classifier's (a
    user's own images without a classifier)."""
    def measured(key: str) -> bool:
        return key in done.columns and bool(done[key].notna().any())

    def any_measured(found: tuple[Headline, ...]) -> bool:
        return any(measured(k) for h in found if not h.vae_only for k in h.keys)

    classifier, label_free = space_headlines(CLASSIFIER), space_headlines(AUTOENCODER)
    return label_free if not any_measured(classifier) and any_measured(label_free) else classifier


def _words(names: list[str]) -> str:
    return " and ".join(filter(None, (", ".join(names[:-1]), names[-1]))) if names else ""


def headline_directions(columns: Iterable[str]) -> str:
    """'FID: lower is better; precision, recall, coverage and classes covered: higher is better': the classifier
    space's headline metrics (gvc/facts.py), by their classifier-space names, for either space's verdict; one the
    autoencoder's space has no twin of (classes covered) only where it is a column."""
    shown = set(columns)
    parts = []
    for direction, word in ((MINIMIZE, "lower"), (MAXIMIZE, "higher")):
        names = [label_of(m.name) for m in registered() if m.headline and m.space == CLASSIFIER
                 and m.direction == direction and (label_of(m.name) in shown or metric_of(AE_PREFIX + m.name))]
        if names:
            parts.append(f"{_words(names)}: {word} is better")
    return "; ".join(parts)


NUMBER_COLUMNS = ["row", "kind", "metric", "key", "n", "mean", "std", "min", "max"]


def _numbers(values: pd.Series) -> dict[str, float]:
    return describe(values.astype(float))


def verdict_numbers(table: pd.DataFrame) -> pd.DataFrame:
    """Long form, one row per (row, metric): kind (noise / model / floor), the summary key used, and n, mean,
    std, min, max over the completed runs in `table` that measured it. A model row counts only its completed
    runs; the noise and floor rows average the references those runs carry (identical for runs evaluated alike).
    Metrics nobody measured are left out; a measured metric a row lacks is a row with n = 0."""
    done = table[table["status"] == COMPLETED] if "status" in table.columns else table.iloc[0:0]
    models = order_models(table["model"]) if "model" in table.columns else []
    rows = []
    for h in headlines(done):
        keys = [k for k in h.keys if k in done.columns and done[k].notna().any()]
        if not keys:
            continue  # nobody measured it: no column
        for kind, label, prefix in (("noise", NOISE_ROW, NOISE_PREFIX), ("floor", FLOOR_ROW, FLOOR_PREFIX)):
            if h.vae_only:
                continue
            column = prefix + keys[0]
            stats = _numbers(done[column]) if column in done.columns else _numbers(pd.Series([], dtype=float))
            rows.append({"row": label, "kind": kind, "metric": h.label, "key": column, **stats})
        for model in models:
            runs = done[done["model"] == model]
            families = table.loc[table["model"] == model, "family"] if "family" in table.columns else pd.Series(dtype=object)
            if h.vae_only and not (families == "vae").any():
                continue  # a GAN's ELBO does not exist: its cell stays "n/a"
            # per model, the first key its runs measured: never a mean over two different measurements
            key = next((k for k in keys if runs[k].notna().any()), keys[0])
            rows.append({"row": model, "kind": "model", "metric": h.label, "key": key, **_numbers(runs[key])})
    return pd.DataFrame(rows, columns=NUMBER_COLUMNS)


def _reference_cell(r: pd.Series) -> str:
    if r["n"] == 0:
        return NOT_MEASURED
    if r["max"] - r["min"] > 1e-9 * max(1.0, abs(r["max"])):
        return f"{fmt(r['min'])}–{fmt(r['max'])}"  # runs evaluated with different settings: show the range
    return fmt(r["mean"])


def verdict_table(table: pd.DataFrame) -> pd.DataFrame:
    """The verdict as the report shows it: rows uniform noise, each model, real data (floor); a 'runs' column
    (completed runs) and one column per measured headline metric, 'mean ± std' (with n where fewer runs
    measured it). Empty when no run measured any headline metric."""
    numbers = verdict_numbers(table)
    if numbers.empty:
        return pd.DataFrame()
    metrics = list(dict.fromkeys(numbers["metric"]))
    done = table[table["status"] == COMPLETED]
    models = order_models(table["model"])
    collapsed = collapsed_models(table)
    fooled = fooled_by_noise(done)
    out = pd.DataFrame(index=[NOISE_ROW, *models, FLOOR_ROW], columns=["runs", "N", *metrics], dtype=object)
    out["runs"] = out["N"] = ""
    for model in models:
        out.loc[model, "runs"] = str(int((done["model"] == model).sum()))
        out.loc[model, "N"] = size_text(evaluation_size(done[done["model"] == model]))[4:]  # the evaluation size
    if not out["N"].any():
        out = out.drop(columns="N")  # runs of an older gvc, or unevaluated: their captions say N is not recorded
    out[metrics] = NOT_APPLICABLE  # e.g. test -ELBO of a GAN, or of noise
    for _, r in numbers.iterrows():
        if r["kind"] != "model":
            cell = _reference_cell(r)
        elif r["n"] == 0:
            cell = NOT_MEASURED
        else:
            runs = int(out.loc[r["row"], "runs"])
            cell = mean_std(r["mean"], r["std"]) + (f" (n={r['n']})" if r["n"] != runs else "")
        if r["kind"] == "model" and r["row"] in collapsed and inflated_by_collapse(r["key"]):
            cell += " ⚠ collapsed"  # inflated by collapse (Naeem et al. 2020): see analysis/assessable.py
        if r["kind"] == "model" and r["key"] in fooled:
            cell += " ⚠ noise scores as well"  # on this data set it cannot tell noise from data: decides nothing
        out.loc[r["row"], r["metric"]] = cell
    out.index.name = "model"
    return out


def no_better_than_noise(table: pd.DataFrame) -> list[str]:
    """Models whose mean FID is no better than uniform noise's: by FID, not yet told apart from noise."""
    numbers = verdict_numbers(table)
    fid = numbers[numbers["metric"].isin(["FID", label_of("ae_fid")])].set_index("row")
    if NOISE_ROW not in fid.index or not fid.loc[NOISE_ROW, "n"]:
        return []
    noise = float(fid.loc[NOISE_ROW, "mean"])
    return [m for m, r in fid[fid["kind"] == "model"].iterrows() if r["n"] and math.isfinite(noise)
            and r["mean"] >= noise]


def collapsed_models(table: pd.DataFrame) -> dict[str, str]:
    """Models whose runs collapsed (few classes or little coverage), with why: their precision / density mislead."""
    return {model: s.why for model, s in standing_from_runs(table).items() if s.collapsed}


def noise_fooled_metrics(table: pd.DataFrame) -> list[str]:
    """The verdict's metrics on which uniform noise scores at least as well as real data in these runs."""
    done = table[table["status"] == COMPLETED] if "status" in table.columns else table.iloc[0:0]
    fooled = fooled_by_noise(done)
    return [label_of(k) for h in headlines(done) for k in h.keys if k in fooled]
