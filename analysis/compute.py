"""The report's "Compute" section: quality against compute, the claims at every budget, best against final
numbers, and the expected best of n trials against trials and against compute.

Reads the Collection only (evals.csv through analysis.collect); the figures are analysis/curves.py's, the
per-budget logic analysis/budgets.py's, the expected best of n analysis/stats.py's estimator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from analysis import budgets, curves, early_rank
from analysis.artifact import Artifact, save
from analysis.collect import Collection
from analysis.conclusions import FAMILY_PAIRS, GAN_PAIRS, VAE_PAIRS
from analysis.document import Block, Heading, Image, Table, Text
from analysis.figures import MIN_TRIALS_FOR_EXPECTED_BEST, _direction_word, _grid, model_colors, styled
from analysis.stats import ALPHA, direction_of, expected_best_of_n
from analysis.tables import (best_configuration_runs, completed_objectives, fmt, models_in_order,
                             objective_directions, objective_frame)

# The claims' model pairs (analysis/conclusions.py: A should be better than B) and the metrics judged per budget.
# Each pair once: a pair two claims share (DCGAN against the conv VAE) is one row.
PAIRS = list(dict.fromkeys([*GAN_PAIRS, ("dcgan", "linear_vae"), ("dcgan", "conv_vae"), *VAE_PAIRS, *FAMILY_PAIRS]))
BUDGET_METRICS = ("fid", "precision", "recall", "coverage", "ae_fid")


# -- the claims at every budget --------------------------------------------------------------------------------
def budget_frame(collection: Collection) -> pd.DataFrame:
    """along_frame restricted to each model's best configuration, with `budget`: the scheduled point, or for the
    end of training the run's budget when it was reached in that unit (else the end's own clock)."""
    frame = curves.along_frame(collection)
    if frame.empty:
        return frame
    chosen = set(best_configuration_runs(collection)["run"])
    frame = frame[frame["run"].isin(chosen)].copy()
    end = frame["position"] == curves.END
    reached = end & (frame["point"] >= frame["along_budget"])
    frame["budget"] = np.where(reached, frame["along_budget"], frame["point"])
    return frame


def claims_per_budget(collection: Collection, compare: budgets.Compare = budgets.paired_test
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one sentence per pair and metric, the verdict at every budget in long form) for the claims' pairs whose
    best configurations were evaluated along training in one budget unit."""
    frame = budget_frame(collection)
    sentences, long = [], []
    if frame.empty:
        return pd.DataFrame(columns=["a", "b", "metric", "unit", "budgets", "answer"]), pd.DataFrame()
    directions = objective_directions(collection)
    for a, b in PAIRS:
        sides = frame[frame["model"].isin([a, b])]
        if set(sides["model"]) != {a, b}:
            continue
        units = sorted(set(sides["along_unit"]))
        if len(units) > 1:
            sentences.append({"a": a, "b": b, "metric": "any", "unit": " / ".join(units), "budgets": 0,
                              "answer": f"not comparable per budget: {a} and {b} were scheduled in different budget "
                                        f"units ({', '.join(units)})"})
            continue
        unit = units[0]
        for metric in [m for m in BUDGET_METRICS if m in sides.columns and sides[m].notna().any()]:
            direction = direction_of(metric, directions) or "minimize"
            tidy = pd.DataFrame({"arm": np.where(sides["model"] == a, budgets.A, budgets.B), "seed": sides["seed"],
                                 "budget": sides["budget"], "value": sides[metric]})
            verdicts = budgets.budget_verdicts(tidy, direction, compare)
            sentences.append({"a": a, "b": b, "metric": metric, "unit": unit, "budgets": len(verdicts),
                              "answer": budgets.describe(verdicts, a, b, metric, direction, unit)})
            long.append(verdicts.assign(a=a, b=b, metric=metric, unit=unit,
                                        winner=verdicts["winner"].map({budgets.A: a, budgets.B: b})))
    long_frame = pd.concat(long, ignore_index=True) if long else pd.DataFrame()
    return pd.DataFrame(sentences, columns=["a", "b", "metric", "unit", "budgets", "answer"]), long_frame


# -- best checkpoint against the final numbers -----------------------------------------------------------------
def best_and_final(collection: Collection) -> pd.DataFrame:
    """Per model (its best configuration): the objective at the end and at the best point along training, both at
    the cheap N (the same scale), beside the final number at the full N (the primary one)."""
    frame = budget_frame(collection)
    if frame.empty:
        return pd.DataFrame()
    t = collection.table.set_index("run")
    rows = []
    for model in models_in_order(collection):
        part = frame[frame["model"] == model]
        if part.empty:
            continue
        runs = t.loc[sorted(set(part["run"]))]
        name = str(runs["objective_name"].iloc[0])
        if name not in part.columns:
            continue
        end = part[part["position"] == curves.END]
        rows.append({
            "model": model, "objective": name, "seeds": len(runs),
            "final (full N)": fmt(float(runs["objective"].median())),
            "end (cheap N)": fmt(float(end[name].median())) if len(end) else "",
            "best point (cheap N)": fmt(float(runs["best_objective"].median())),
            "best point's step": fmt(float(runs["best_step"].median())),
            "final step": fmt(float(runs["steps"].median())),
        })
    return pd.DataFrame(rows)


# -- the expected best of n trials -------------------------------------------------------------------------------
def expected_best_curve(values: np.ndarray, cpu_s: np.ndarray, direction: str) -> pd.DataFrame:
    """For n = 1..N: the expected best of n trials drawn without replacement from the N (Tang et al. 2020's unbiased
    form of Dodge et al. 2019's expected validation performance; analysis.stats.expected_best_of_n) and the
    expected compute of those n trials, n x the mean CPU-seconds of a trial (exact for draws without replacement;
    NaN where no trial recorded its CPU-seconds, as runs of an older gvc: their values still count)."""
    keep = np.isfinite(values)
    values, cpu_s = values[keep], cpu_s[keep][np.isfinite(cpu_s[keep])]
    mean, _ = expected_best_of_n(values, direction)
    n = np.arange(1, len(mean) + 1)
    return pd.DataFrame({"n": n, "expected_best": mean,
                         "expected_cpu_s": n * float(np.mean(cpu_s)) if len(cpu_s) else np.nan})


def expected_best_table(collection: Collection) -> pd.DataFrame:
    """Per model with at least MIN_TRIALS_FOR_EXPECTED_BEST completed trials: the curve, in long form."""
    done = completed_objectives(objective_frame(collection))
    cpu = collection.table.set_index("run")["train_cpu_s"]
    parts = []
    for (family, model, name), part in done.groupby(["family", "model", "objective_name"], sort=False):
        if len(part) < MIN_TRIALS_FOR_EXPECTED_BEST:
            continue
        curve = expected_best_curve(part["value"].to_numpy(float), cpu.loc[part["run"]].to_numpy(float),
                                    part["direction"].iloc[0])
        parts.append(curve.assign(family=family, model=model, objective=name, trials=len(part),
                                  direction=part["direction"].iloc[0]))
    if not parts:
        return pd.DataFrame()
    columns = ["family", "model", "objective", "direction", "trials", "n", "expected_best", "expected_cpu_s"]
    return pd.concat(parts, ignore_index=True)[columns]


def expected_best_figure(table: pd.DataFrame, models: list[str], out: Path) -> list[Artifact]:
    """Per (family, objective) a column of two panels: expected best against trials n and against compute."""
    if table.empty:
        return []
    groups = list(table.groupby(["family", "objective"], sort=False))
    colors = model_colors(models)
    with styled():
        fig, axes = _grid(2 * len(groups), width=4.4, height=3.3)
        for k, ((family, objective), part) in enumerate(groups):
            for ax, x, label in ((axes[2 * k], "n", "number of trials n"),
                                 (axes[2 * k + 1], "expected_cpu_s", "expected CPU-seconds of n trials")):
                for model, curve in part.groupby("model", sort=False):
                    ax.plot(curve[x], curve["expected_best"], color=colors.get(model), marker="o", ms=3.5,
                            label=f"{model} (N = {int(curve['trials'].iloc[0])})")
                if x == "n":
                    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_xlabel(label)
                ax.set_ylabel(f"expected best {objective}")
                ax.set_title(f"{family.upper()}s: {objective} ({_direction_word(part['direction'].iloc[0])})")
                ax.legend(fontsize="x-small")
        fig.suptitle("Expected best of n trials, against trials and against compute")
        path = save(fig, out / "expected_best_vs_compute.png")
    return [Artifact(path, "Expected best of n trials against trials and against compute",
                     "For each n, the expected best objective of n of a model's N completed trials drawn at random "
                     "without replacement (the unbiased estimator of Tang et al. 2020 for Dodge et al. 2019's expected "
                     "validation performance, computed exactly), against n and against the expected CPU-seconds of "
                     "those n trials (n times the mean CPU-seconds of a trial). Markers are the estimator's values, no "
                     "band. A curve still falling at n = N says more trials would likely help; models compared at equal "
                     "n are compared at equal tuning budget. "
                     f"Models with fewer than {MIN_TRIALS_FOR_EXPECTED_BEST} completed trials are left out.",
                     section="compute")]


def expected_best_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The small table: per model, the expected best of 1 trial, of about half of them, and of all of them."""
    rows = []
    for (family, model, objective), part in table.groupby(["family", "model", "objective"], sort=False):
        at = {1, max(1, len(part) // 2), len(part)}
        row = {"family": family, "model": model, "objective": objective, "trials": len(part)}
        for n in sorted(at):
            r = part[part["n"] == n].iloc[0]
            row[f"n = {n}"] = f"{fmt(r['expected_best'])} ({fmt(r['expected_cpu_s'])} CPU-s)"
        rows.append(row)
    return pd.DataFrame(rows)


# -- the section -----------------------------------------------------------------------------------------------
def glance(headline: list, sentences: pd.DataFrame) -> list[Block]:
    """For the report's first screen: FID against compute and the FID claims answered at every budget."""
    b: list[Block] = [Image(a) for a in headline]
    metric = next((m for m in curves.HEADLINE_METRICS if len(sentences) and (sentences["metric"] == m).any()), None)
    if metric is not None:
        rows = sentences[sentences["metric"] == metric]
        b.append(Text(f"**The claims' pairs on {metric} at every budget both reached** (the Compute section has the "
                      "other metrics and how a budget is decided):"))
        b.append(Table(pd.DataFrame({"pair": [f"{a} vs {b_}" for a, b_ in zip(rows["a"], rows["b"])],
                                     "answer along training": rows["answer"].str.split(": ", n=1).str[-1]})))
    return b


def section(collection: Collection, root: Path, write_table) -> tuple[list[Block], list[Path], list[Block]]:
    """The report's blocks, the files written (figures under root/figures, tables via write_table) and the blocks
    for the report's first screen (glance)."""
    tables_dir, figures_dir = root / "tables", root / "figures"
    headline = curves.headline_figure(collection, figures_dir)
    figures = curves.quality_vs_compute(collection, figures_dir)
    sentences, per_budget = claims_per_budget(collection)
    best = best_and_final(collection)
    expected = expected_best_table(collection)
    figures += expected_best_figure(expected, models_in_order(collection), figures_dir)
    files = [a.path for a in headline + figures]
    curve_numbers = curves.curves_table(collection)
    ranks = early_rank.rank_agreement(early_rank.early_rank_frame(collection))
    for frame, name in ((curve_numbers, "quality_vs_compute"), (sentences, "claims_per_budget"),
                        (per_budget, "claims_per_budget_long"), (best, "best_and_final"),
                        (expected, "expected_best_vs_compute"), (ranks, "early_rank")):
        if len(frame):
            files += write_table(frame, tables_dir, name)
    if not figures and sentences.empty:
        return [], files, []
    along = len(curve_numbers) > 0
    b: list[Block] = [Heading(2, "Compute"), Text(
        "Quality along training (evals.csv, `eval.along`): each run evaluated at log-spaced points of its budget at a "
        "cheap N, off the budget's clock. Numbers at the cheap N are compared with each other only; the final numbers "
        "at the full N above stay the primary ones. [tables/quality_vs_compute.csv](tables/quality_vs_compute.csv)."
        if along else "No completed run was evaluated along training (`eval.along`), so there are no curves against "
                      "compute here.")]
    b += [Image(a) for a in figures if "expected best" not in a.title.lower()]
    if len(sentences):
        b += [Heading(3, "The claims at every budget"),
              Text("Each pair of the paper's claims (A should be better than B), each model at its best configuration, "
                   "judged at every budget both reached on every shared seed, paired by seed: a budget is decided by a "
                   f"sign-flip test of the per-seed differences (analysis/stats.py compare_groups, p <= {ALPHA:g}; it "
                   "needs six shared seeds or more), with how many seeds agree beside it, and a change of the "
                   "decided side between two budgets is named as a crossover. "
                   "[tables/claims_per_budget_long.csv](tables/claims_per_budget_long.csv) has every budget."),
              Table(sentences[["a", "b", "metric", "budgets", "answer"]])]
    if len(best):
        b += [Heading(3, "Best point along training against the final numbers"),
              Text("The run's objective at its best point along training (whose weights are checkpoints/best.pt) and "
                   "at the end, both at the cheap N, medians over the best configuration's seeds; the final number "
                   "at the full N is the primary one."), Table(best)]
    if len(ranks):
        shown = ranks.assign(kendall_tau=ranks["kendall_tau"].round(2), p=ranks["p"].map(lambda v: f"{v:.2g}"),
                             cost_share=ranks["cost_share"].round(2))
        b += [Heading(3, "Does early rank predict final rank?"),
              Text("Per family, the trials (each run: a configuration and a seed) ordered by their objective at each "
                   "point along training (cheap N) against their order by the final objective (full N): Kendall's "
                   "tau (1: the same order, 0: unrelated) with its p. Beside it the baseline a multi-fidelity search "
                   "must beat (Egele et al. 2023): keep the best third at that point, train only those to the end: "
                   "the best final value it keeps, the best final value of all trials, whether it kept the best "
                   "trial, and its compute as a share of training every trial to the end. "
                   "[tables/early_rank.csv](tables/early_rank.csv)."),
              Table(shown[["family", "objective", "unit", "point", "trials", "kendall_tau", "p", "keep",
                           "kept_best_final", "best_final", "kept_the_best", "cost_share"]])]
    if len(expected):
        b += [Heading(3, "Expected best of n trials against compute")]
        b += [Image(a) for a in figures if "expected best" in a.title.lower()]
        b.append(Table(expected_best_summary(expected)))
    return b, files, glance(headline, sentences)
