"""The comparison as tables: per-model results, hyperparameter sensitivity, run overview and problems.

Statistics are over *completed* runs only (failed, diverged and unfinished runs are counted and listed, but
their last numbers are not results). "std" is the sample standard deviation (ddof=1), blank for one run.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.collect import FLOOR_PREFIX, NOISE_PREFIX, Collection, _cell_key, swept_parameters
from analysis.stats import MINIMIZE, describe, direction_of

COMPLETED = "completed"
# The two reference rows that frame every table of model metrics: learned nothing, and perfect.
NOISE_ROW, FLOOR_ROW = "uniform noise", "real data (floor)"


# -- formatting ----------------------------------------------------------------------------------------------
def fmt(value: Any, digits: int = 3) -> str:
    """Numbers to short plain text with `digits` significant digits (350, 0.0002, 1.25; never 3.5e+02);
    NaN/None to a blank cell."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if float(value).is_integer() and abs(value) < 1e9:
            return str(int(value))
        return plain(float(value), digits)
    return str(value)


def plain(value: float, digits: int = 3) -> str:
    """`value` rounded to `digits` significant digits, written without an exponent (down to 1e-6)."""
    if value == 0 or not 1e-6 <= abs(value) < 1e15:
        return f"{value:.{digits}g}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    text = f"{rounded:.{max(decimals, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def mean_std(mean: float, std: float, digits: int = 3) -> str:
    if not math.isfinite(mean):
        return ""
    return f"{fmt(mean, digits)} ± {fmt(std, 2)}" if math.isfinite(std) else fmt(mean, digits)


def to_markdown(df: pd.DataFrame, index: bool = False) -> str:
    """A GitHub-flavoured Markdown table (no tabulate dependency); cells are formatted with fmt()."""
    if index:
        df = df.reset_index()
    header = [str(c) for c in df.columns]
    rows = [[fmt(v).replace("|", "\\|").replace("\n", " ") for v in row] for row in df.itertuples(index=False)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
LATEX_TEXT = {"±": r"$\pm$", "−": "-", "–": "--", "≤": r"$\leq$", "≥": r"$\geq$", "⚠": "(!)", "β": r"$\beta$",
              "×": r"$\times$"}


def latex_cell(value: Any) -> str:
    """A table cell as LaTeX text: fmt() for numbers, special characters escaped, ± and the like as math."""
    text = fmt(value).replace("\n", " ")
    text = "".join(LATEX_SPECIALS.get(ch, ch) for ch in text)
    for plain_text, latex in LATEX_TEXT.items():
        text = text.replace(plain_text, latex)
    return text


def to_latex(df: pd.DataFrame, index: bool = False) -> str:
    """A booktabs tabular (\\usepackage{booktabs}): \\toprule, header, \\midrule, rows, \\bottomrule; no
    jinja2 or pandas Styler needed."""
    if index:
        df = df.reset_index()
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in df.columns)
    lines = [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
             " & ".join(latex_cell(str(c)) for c in df.columns) + r" \\", "\\midrule"]
    lines += [" & ".join(latex_cell(v) for v in row) + r" \\" for row in df.itertuples(index=False)]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines)


def write_table(frame: pd.DataFrame, directory: Path, name: str, index: bool = False) -> list[Path]:
    """`name`.csv (for reuse), .md (for reading) and .tex (booktabs, for a paper) in `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    csv, md, tex = (directory / f"{name}.{ext}" for ext in ("csv", "md", "tex"))
    frame.to_csv(csv, index=index)
    md.write_text(to_markdown(frame, index=index) + "\n")
    tex.write_text(to_latex(frame, index=index) + "\n")
    return [csv, md, tex]


# -- objectives ----------------------------------------------------------------------------------------------
def objective_directions(collection: Collection) -> dict[str, str]:
    """metric name -> direction, as the runs' own summaries state it (for their objectives)."""
    t = collection.table
    pairs = Counter(zip(t["objective_name"], t["objective_direction"]))
    out: dict[str, str] = {}
    for (name, direction), _ in pairs.most_common():
        if name and direction and name not in out:
            out[name] = direction
    return out


def model_objective(collection: Collection, model: str) -> tuple[str, str]:
    """The objective a model's runs were optimised for (the most common among its completed runs)."""
    rows = collection.table[collection.table["model"] == model]
    pool = rows[rows["status"] == COMPLETED] if (rows["status"] == COMPLETED).any() else rows
    names = [n for n in pool["objective_name"] if n]
    if not names:
        return "", MINIMIZE
    name = Counter(names).most_common(1)[0][0]
    return name, direction_of(name, objective_directions(collection)) or MINIMIZE


def objective_frame(collection: Collection) -> pd.DataFrame:
    """One row per run: its model's objective (name, direction) and the run's value of it."""
    t = collection.table
    rows = []
    for model in models_in_order(collection):
        name, direction = model_objective(collection, model)
        for _, r in t[t["model"] == model].iterrows():
            value = r[name] if name and name in t.columns else math.nan
            if (not isinstance(value, float) or math.isnan(value)) and r["objective_name"] == name:
                value = r["objective"]
            rows.append({"run": r["run"], "model": model, "family": r["family"], "status": r["status"],
                         "objective_name": name, "direction": direction, "value": float(value),
                         "train_time_s": r["train_time_s"]})
    return pd.DataFrame(rows, columns=["run", "model", "family", "status", "objective_name", "direction", "value",
                                       "train_time_s"])


def completed_objectives(obj: pd.DataFrame) -> pd.DataFrame:
    """The rows of `objective_frame` that count in statistics: completed runs with a finite objective."""
    return obj[(obj["status"] == COMPLETED) & np.isfinite(obj["value"])]


PAPER_ORDER = ("linear_gan", "dcgan", "linear_vae", "conv_vae")


def models_in_order(collection: Collection) -> list[str]:
    """The paper's order first, then any other model by name."""
    return order_models(collection.table["model"])


def order_models(names: Any) -> list[str]:
    """Distinct model names: the paper's order first, then any other model by name."""
    present = list(dict.fromkeys(names))
    return [m for m in PAPER_ORDER if m in present] + sorted(m for m in present if m not in PAPER_ORDER)


def best_runs(collection: Collection) -> dict[str, str]:
    """model -> its best completed run by the model's objective (the run whose curves are drawn bold)."""
    obj = objective_frame(collection)
    done = completed_objectives(obj)
    t = collection.table
    size_of = dict(zip(t["run"], evaluation_size(t)))
    main = {model: main_size(rows) for model, rows in t.groupby("model")}
    # runs evaluated at another N than the model's main one are never ranked against it
    done = done[[not math.isfinite(main[m]) or size_of[r] == main[m] for r, m in zip(done["run"], done["model"])]]
    out = {}
    for model, rows in done.groupby("model", sort=False):
        i = rows["value"].idxmin() if rows["direction"].iloc[0] == MINIMIZE else rows["value"].idxmax()
        out[model] = rows.loc[i, "run"]
    return out


# -- configurations ------------------------------------------------------------------------------------------
# Runs that differ only in their seed are repeats of one configuration; runs that differ in anything else the
# schema says changes the result (model, objective and its knobs, optimizer, budget, data, precision,
# evaluation) are different configurations. Statistics are taken within a configuration, never across them.
SEED = "trainer.seed"
# The evaluation's draw of latents: runs evaluated with different eval.seed are the same models measured on other
# draws (held-out re-evaluations), not other configurations.
DRAW_SEEDS = (SEED, "eval.seed")
SAME_DRAWS = "selected and reported on the same draws"  # a chosen configuration without held-out re-evaluations
ONE_CONFIGURATION = "(one configuration)"


def configuration_labels(collection: Collection) -> pd.Series:
    """Per run (the table's index): what identifies its configuration among its model's runs — the values of
    the model's swept parameters other than the seed, nulls left out; the same label means the same config."""
    t = collection.table
    labels = pd.Series(ONE_CONFIGURATION, index=t.index, dtype=object)
    for model in t["model"].unique():
        rows = t["model"] == model
        params = [p for p in swept_parameters(collection, model) if p not in DRAW_SEEDS]
        if not params:
            continue
        labels[rows] = [", ".join(f"{p}={fmt(r[p]) if not isinstance(r[p], str) else r[p]}" for p in params
                                  if _cell_key(r[p]) != "null") or "defaults"
                        for _, r in t.loc[rows, params].iterrows()]
    return labels


# -- evaluation size -----------------------------------------------------------------------------------------
EVAL_N = "eval.n_samples"  # generated images per evaluation, compared with as many test images


def evaluation_size(table: pd.DataFrame) -> pd.Series:
    """Per run, the N its metrics were measured at (NaN where not recorded, or evaluation was off)."""
    if EVAL_N not in table.columns:
        return pd.Series(np.nan, index=table.index)
    size = pd.to_numeric(table[EVAL_N], errors="coerce")
    if "eval.enabled" in table.columns:
        size = size.where(table["eval.enabled"].map(lambda v: v is not False and str(v).lower() != "false"))
    return size


def main_size(table: pd.DataFrame) -> float:
    """The N at which most of these completed runs were evaluated (ties: the larger N); NaN if none recorded."""
    done = table[table["status"] == COMPLETED] if "status" in table.columns else table
    counts = evaluation_size(done).value_counts()
    return float(max(counts.index, key=lambda n: (counts[n], n))) if len(counts) else math.nan


def size_text(sizes: Any) -> str:
    """'N = 1,000' (or 'N = 1,000 and 10,000' for runs evaluated at several N); '' when none is recorded."""
    values = sorted({int(v) for v in sizes if isinstance(v, (int, float)) and math.isfinite(v)})
    return ("N = " + " and ".join(f"{v:,}" for v in values)) if values else ""


def evaluation_size_note(table: pd.DataFrame) -> str:
    """One sentence stating the evaluation size of these runs' metrics, and what the reference set gave."""
    done = table[table["status"] == COMPLETED] if "status" in table.columns else table
    sizes = evaluation_size(done)
    if not sizes.notna().any():
        return "The evaluation size N is not recorded by these runs (runs of an older gvc, or not evaluated)."
    text = (f"Metrics evaluated at {size_text(sizes)} generated images per run, each compared with as many test "
            "images")
    try:
        from gvc import datasets

        names = sorted({str(v) for v in done.get("data.name", pd.Series(["mnist"])).dropna()}) or ["mnist"]
        limit = min(datasets.get(n).n_images(train=False) for n in names)
    except (ImportError, KeyError, ValueError):
        return text + "."
    over = sorted({int(n) for n in sizes.dropna() if n > limit})
    if over:  # an older gvc accepted it: the reference set had fewer images than the samples
        text += (f"; at N = {', '.join(f'{n:,}' for n in over)} the test set gave only {limit:,} reference images, "
                 "so those numbers are not FIDs at that N")
    if sizes.nunique() > 1:
        text += "; runs at different N are never ranked together (FID and KID fall with N)"
    return text + "."


def best_configurations(collection: Collection) -> dict[str, str]:
    """model -> its configuration with the best mean objective over its completed runs (the search's pick), among
    those evaluated at the model's main N (FID falls with N: configurations at different N are never ranked)."""
    obj = objective_frame(collection).set_index("run")
    labels = configuration_labels(collection)
    t = collection.table.assign(configuration=labels.values)
    out = {}
    for model in models_in_order(collection):
        runs = t[t["model"] == model]
        n = main_size(runs)
        if math.isfinite(n):
            runs = runs[evaluation_size(runs) == n]
        values = obj.loc[runs["run"]].assign(configuration=runs["configuration"].values)
        done = completed_objectives(values.reset_index())
        if done.empty:
            out[model] = str(runs["configuration"].iloc[0])
            continue
        means = done.groupby("configuration", sort=False)["value"].mean()
        out[model] = str(means.idxmin() if done["direction"].iloc[0] == MINIMIZE else means.idxmax())
    return out


def best_configuration_runs(table_or_collection: Collection) -> pd.DataFrame:
    """The runs table restricted to each model's best configuration: what the verdict's mean ± std is over.

    A configuration chosen as the best of several on its metrics is optimistic on those same draws (selection
    bias). Where every chosen run has a re-evaluation with another eval.seed at the same evaluation settings
    (gvc.evaluate's evaluations/*.json: other latent draws), those held-out metrics replace the chosen runs'; the
    `selection` column says which happened (selection_text)."""
    collection = table_or_collection
    labels = configuration_labels(collection)
    best = best_configurations(collection)
    t = collection.table
    chosen = t[[labels[i] == best.get(m) for i, m in zip(t.index, t["model"])]].copy()
    chosen["selection"] = ""
    for model in chosen["model"].unique():
        count = labels[t["model"] == model].nunique()
        rows = chosen.index[(chosen["model"] == model) & (chosen["status"] == COMPLETED)]
        if count < 2 or not len(rows):
            continue
        held = {i: held_out_evaluation(collection.run(chosen.loc[i, "run"])) for i in rows}
        if all(h is not None for h in held.values()):
            for i, h in held.items():
                for key, value in h["metrics"].items():
                    chosen.loc[i, key] = float(value) if isinstance(value, (int, float)) else np.nan
            seeds = sorted({int(h["eval"]["seed"]) for h in held.values()})
            chosen.loc[rows, "selection"] = (f"best of {count} configurations; re-measured on held-out draws "
                                             f"(eval.seed={', '.join(map(str, seeds))}: other latents, the same "
                                             "reference images)")
        else:
            chosen.loc[rows, "selection"] = f"best of {count} configurations, {SAME_DRAWS}"
    return chosen


def held_out_evaluation(run: Any) -> dict[str, Any] | None:
    """The run's newest re-evaluation (RUN/evaluations/) drawn with another eval.seed than the one its metrics
    came from, at the same evaluation settings (N, KID subsets, k): held-out draws of the same model. None if
    it has none."""
    from gvc.trial import rundir
    own = run.config.get("eval") or {}
    try:
        evaluations = rundir.read_evaluations(run.path)
    except (OSError, ValueError):
        return None
    settings = ("n_samples", "kid_subsets", "kid_subset_size", "pr_k", "dc_k")
    for e in reversed(evaluations):
        other = e.get("eval") or {}
        # both draws recorded and different (a run that does not record its eval.seed cannot tell held-out draws)
        if (isinstance(e.get("metrics"), dict) and None not in (other.get("seed"), own.get("seed"))
                and other.get("seed") != own.get("seed") and all(other.get(k) == own.get(k) for k in settings)):
            return e
    return None


CONFIGURATION_METRICS = ("fid", "ema_fid", "precision", "recall", "coverage", "test_loss")


def configuration_table(collection: Collection) -> pd.DataFrame:
    """One row per (model, configuration): its objective, seeds (completed runs), mean ± std over those seeds of
    the headline metrics, and whether it is the model's best configuration."""
    t = collection.table
    labels = configuration_labels(collection)
    best = best_configurations(collection)
    metrics = [m for m in CONFIGURATION_METRICS if m in t.columns and t[m].notna().any()]
    rows = []
    for model in models_in_order(collection):
        runs = t[t["model"] == model].assign(configuration=labels[t["model"] == model])
        for label, part in runs.groupby("configuration", sort=False):
            done = part[part["status"] == COMPLETED]
            row = {"model": model, "configuration": label,
                   "objective": " / ".join(dict.fromkeys(str(v) for v in part.get("objective_label", []) if v)) or "",
                   "seeds": len(done), "N": size_text(evaluation_size(done))[4:],
                   "best": "yes" if best.get(model) == label else ""}
            for m in metrics:
                s = describe(done[m]) if m in done else {"n": 0}
                row[m] = mean_std(s["mean"], s["std"]) + (f" (n={s['n']})" if s["n"] != len(done) else "") \
                    if s["n"] else ""
            rows.append(row)
    return pd.DataFrame(rows, columns=["model", "configuration", "objective", "seeds", "N", "best", *metrics])


# -- results -------------------------------------------------------------------------------------------------
RESULT_COLUMNS = ["model", "metric", "kind", "direction", "configuration", "configurations", "n", "mean", "std",
                  "seeds", "values", "best", "best_run", "floor", "noise", "likelihood", "selection", "eval_n"]


def results_table(collection: Collection) -> pd.DataFrame:
    """Long format: one row per (model, metric), each about one configuration and one run, and saying which:
    n, mean, std over the seeds of the model's chosen configuration (`configuration`, best mean objective among
    `configurations`; never a mean across configurations), those seeds and their values (in seed order, what the
    tests of analysis.stats take), and `best`, the metric of one run, `best_run`: the model's best run by its
    objective (the same run for every metric, never each metric's own best). Also the real-data floor and the
    uniform-noise value (NaN where the runs did not measure them)."""
    t = collection.table
    directions = objective_directions(collection)
    chosen = best_configuration_runs(collection)  # held-out metrics where the runs have them
    labels, picked, top = configuration_labels(collection), best_configurations(collection), best_runs(collection)
    rows = []
    for model in models_in_order(collection):
        runs = t[t["model"] == model]
        every = runs[runs["status"] == COMPLETED]
        done = chosen[(chosen["model"] == model) & (chosen["status"] == COMPLETED)].sort_values("seed", kind="stable")
        selection = str(done["selection"].iloc[0]) if len(done) else ""
        best_run = top.get(model, "")
        for kind, names in (("metric", collection.metric_names), ("loss", collection.loss_names)):
            for metric in names:
                if metric not in t.columns or runs[metric].isna().all() or metric not in done.columns:
                    continue
                stats = describe(done[metric])
                direction = direction_of(metric, directions)
                measured = done[np.isfinite(done[metric].astype(float))]
                best = float(every.loc[every["run"] == best_run, metric].iloc[0]) if best_run else math.nan
                floor, noise = (reference_value(runs, prefix + metric) for prefix in (FLOOR_PREFIX, NOISE_PREFIX))
                # the decoder likelihood(s) of the chosen runs: -ELBOs of different likelihoods are other units
                likelihood = ", ".join(sorted({str(v) for v in done.get("likelihood", []) if v}))
                rows.append({"model": model, "metric": metric, "kind": kind, "direction": direction or "",
                             "configuration": picked.get(model, ""), "configurations": labels[runs.index].nunique(),
                             "n": stats["n"], "mean": stats["mean"], "std": stats["std"],
                             "seeds": tuple(measured["seed"].astype(float)),
                             "values": tuple(measured[metric].astype(float)), "best": best,
                             "best_run": best_run, "floor": floor, "noise": noise, "likelihood": likelihood,
                             "selection": selection, "eval_n": main_size(done) if kind == "metric" else math.nan})
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def reference_value(runs: pd.DataFrame, column: str) -> float:
    """The mean of a reference column (floor_<metric>, noise_<metric>) over the runs that measured it; NaN if
    none did. Runs evaluated alike share one value; evaluation_setting_notes flags runs that were not."""
    return describe(runs[column])["mean"] if column in runs.columns else math.nan


PER_CLASS = re.compile(r"^(?P<metric>.+)_class_(?P<cls>\d+)$")  # fid_class_3: FID within predicted class 3


def per_class_table(results: pd.DataFrame) -> pd.DataFrame:
    """The per-class numbers (`fid_class_<c>`, ...) in their own table: one row per (metric, model), plus the
    real-data floor, one column per class in class order, 'mean ± std (n)' over the chosen configuration's seeds."""
    part = results[results["metric"].map(lambda m: bool(PER_CLASS.match(str(m))))] if len(results) else results
    if part.empty:
        return pd.DataFrame()
    part = part.assign(base=[PER_CLASS.match(m)["metric"] for m in part["metric"]],
                       cls=[int(PER_CLASS.match(m)["cls"]) for m in part["metric"]])
    classes = sorted(part["cls"].unique())
    rows = []
    for base, group in part.groupby("base", sort=False):
        for model, r in group.groupby("model", sort=False):
            by = r.set_index("cls")
            rows.append({"metric": base, "model": model,
                         **{f"class {c}": f"{mean_std(by.loc[c, 'mean'], by.loc[c, 'std'])} (n={by.loc[c, 'n']})"
                            if c in by.index and by.loc[c, "n"] else "" for c in classes}})
        floor = group.groupby("cls")["floor"].mean()
        if floor.notna().any():
            rows.append({"metric": base, "model": FLOOR_ROW, **{f"class {c}": fmt(floor.get(c)) for c in classes}})
    return pd.DataFrame(rows, columns=["metric", "model", *[f"class {c}" for c in classes]])


def results_wide(results: pd.DataFrame, kind: str, value: str = "mean_std") -> pd.DataFrame:
    """Models as rows, metrics as columns: 'mean ± std (n)' over the chosen configuration's seeds, or (value="best")
    the metrics of one run, the model's best by its objective, named in a 'run' column; framed by a 'uniform
    noise' row and a 'real data (floor)' row where the runs measured them. Per-class numbers are left to
    per_class_table."""
    part = results[(results["kind"] == kind) & ~results["metric"].map(lambda m: bool(PER_CLASS.match(str(m))))]
    if part.empty:  # per-class numbers have their own table (per_class_table)
        return pd.DataFrame()
    metrics = list(dict.fromkeys(part["metric"]))
    models = list(dict.fromkeys(part["model"]))
    table = pd.DataFrame(index=models, columns=metrics, dtype=object)
    if value == "best":  # one run per row, named: the model's best run by its objective
        table.insert(0, "run", "")
    if kind == "metric" and "eval_n" in part.columns and part["eval_n"].notna().any():  # each table states its N
        table.insert(0, "N", "")
    for _, r in part.iterrows():
        if "N" in table.columns:
            table.loc[r["model"], "N"] = size_text([r["eval_n"]])[4:]
        if value == "best":
            cell = fmt(r["best"])
            table.loc[r["model"], "run"] = r["best_run"]
        else:
            cell = f"{mean_std(r['mean'], r['std'])} (n={r['n']})" if r["n"] else "not measured"
        table.loc[r["model"], r["metric"]] = cell
    for label, column in ((NOISE_ROW, "noise"), (FLOOR_ROW, "floor")):
        values = part.groupby("metric", sort=False)[column].mean()
        if values.notna().any():
            table.loc[label] = [""] * (len(table.columns) - len(metrics)) + [fmt(values.get(m, math.nan)) for m in metrics]
    order = [r for r in (NOISE_ROW,) if r in table.index] + models + [r for r in (FLOOR_ROW,) if r in table.index]
    table = table.loc[order].fillna("")
    table.index.name = "model"
    return table


# -- runs ----------------------------------------------------------------------------------------------------
def overview_table(collection: Collection) -> pd.DataFrame:
    """Per model: how many runs in each state, epochs trained, training time, size."""
    t = collection.table
    rows = []
    for model in models_in_order(collection):
        runs = t[t["model"] == model]
        counts = Counter(runs["status"])
        epochs = runs["epochs"].dropna()
        rows.append({
            "model": model, "family": runs["family"].iloc[0], "runs": len(runs), "completed": counts[COMPLETED],
            "failed": counts["failed"], "diverged": counts["diverged"], "running": counts["running"],
            "other": sum(v for k, v in counts.items() if k not in (COMPLETED, "failed", "diverged", "running")),
            "epochs": (f"{fmt(epochs.min())}–{fmt(epochs.max())}" if epochs.min() != epochs.max() else fmt(epochs.min()))
            if len(epochs) else "",
            "train time (s, total)": float(runs["train_time_s"].sum(min_count=1)),
            "parameters": float(runs["params.total"].max()) if "params.total" in runs else math.nan,
        })
    return pd.DataFrame(rows)


def problems_table(collection: Collection) -> pd.DataFrame:
    """Every run that did not complete, with its status and reason."""
    t = collection.table
    bad = t[t["status"] != COMPLETED]
    columns = ["run", "model", "status", "reason", "epochs", "run_dir"]
    return bad[columns].reset_index(drop=True) if len(bad) else pd.DataFrame(columns=columns)


RUN_COLUMNS = ["run", "model", "status", "seed", "objective_name", "objective", "epochs", "steps", "images_seen",
               "stopped_by", "train_time_s", "images_per_s"]
NOT_RECORDED = "not recorded"  # a summary written by a gvc that did not record the field yet


def runs_display_table(collection: Collection) -> pd.DataFrame:
    """The per-run table for the report: identity, status, objective, timing and every swept parameter."""
    t = collection.table
    swept = list(dict.fromkeys(p for m in models_in_order(collection) for p in swept_parameters(collection, m)
                               if p != "trainer.seed"))
    shown = t[[c for c in RUN_COLUMNS + swept if c in t.columns]].copy()
    if "stopped_by" in shown.columns:  # which budget ended the run: blank only where it was never recorded
        shown.loc[(shown["status"] == COMPLETED) & (shown["stopped_by"] == ""), "stopped_by"] = NOT_RECORDED
    return shown


# -- sensitivity ---------------------------------------------------------------------------------------------
def _sort_values(values: list[Any]) -> list[Any]:
    """Numbers by value, then text, then null (the config's "not set")."""
    def order(v: Any) -> tuple[int, float, str]:
        if _cell_key(v) == "null":
            return (2, 0.0, "")
        try:
            return (0, float(v), "")
        except (TypeError, ValueError):
            return (1, 0.0, str(v))

    return sorted(values, key=order)


def sensitivity_table(collection: Collection) -> pd.DataFrame:
    """For each model and each swept parameter: the objective over completed runs at each value."""
    objectives = objective_frame(collection).set_index("run")
    t = collection.table
    rows = []
    for model in models_in_order(collection):
        runs = t[t["model"] == model]
        for param in (p for p in swept_parameters(collection, model) if p not in DRAW_SEEDS):  # repeats, no knobs
            keys = runs[param].map(_cell_key)
            distinct: dict[str, Any] = {}
            for v in runs[param]:
                distinct.setdefault(_cell_key(v), v)  # NaN != NaN: deduplicate by key, not by value
            for key in _sort_values(list(distinct.values())):
                at = runs[keys == _cell_key(key)]
                obj = objectives.loc[at["run"]]
                done = obj[obj["status"] == COMPLETED]
                stats = describe(done["value"])
                direction = obj["direction"].iloc[0]
                best = stats["min"] if direction == MINIMIZE else stats["max"]
                rows.append({"model": model, "parameter": param, "value": "null" if _cell_key(key) == "null" else fmt(key),
                             "runs": len(at), "completed": int((at["status"] == COMPLETED).sum()),
                             "objective": obj["objective_name"].iloc[0], "direction": direction,
                             "mean": stats["mean"], "std": stats["std"], "best": best})
    return pd.DataFrame(rows, columns=["model", "parameter", "value", "runs", "completed", "objective", "direction",
                                       "mean", "std", "best"])
