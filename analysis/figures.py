"""Plots of the comparison (matplotlib Figures without pyplot, seaborn styling; PNG files).

Each function returns the Artifacts it wrote, or an empty list when its data is absent (no swept pair, no
per-epoch metrics, ...), so a partial set of runs yields a partial but valid report.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from analysis.artifact import Artifact, save
from analysis.collect import LOSS_COLUMNS, Collection, _cell_key, swept_parameters
from analysis.stats import MINIMIZE
from analysis.tables import (COMPLETED, DRAW_SEEDS, _sort_values, best_runs, completed_objectives, fmt,
                             models_in_order, objective_frame)

MAX_PANELS_PER_ROW = 4
MIN_TRIALS_FOR_EXPECTED_BEST = 3  # below it the curve is one or two points: nothing to read off
MAX_CATEGORIES = 8  # more distinct values of a numeric parameter than this (Optuna's) are binned or plotted on an axis
BINS = 5
LOG_RATIO = 10.0  # a positive parameter spanning this factor or more (learning rates) goes on a log axis
# `orientation` replaced boxplot's `vert` in matplotlib 3.10; older versions only know `vert` (default vertical).
VERTICAL = {"orientation": "vertical"} if "orientation" in inspect.signature(Axes.boxplot).parameters else {}


@contextmanager
def styled() -> Iterator[None]:
    # Temporary styling: importing or calling analysis must not change a caller's matplotlib defaults.
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.85):
        yield


def model_colors(models: list[str]) -> dict[str, tuple[float, float, float]]:
    return dict(zip(models, sns.color_palette("deep", max(len(models), 1))))


def _grid(n: int, width: float = 4.0, height: float = 3.0) -> tuple[Figure, list]:
    cols = min(n, MAX_PANELS_PER_ROW)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel()).tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _direction_word(direction: str) -> str:
    return "lower is better" if direction == MINIMIZE else "higher is better"


def _curves(collection: Collection, columns: list[str], x: str, path: Path, title: str, caption: str,
            ylabel: Callable[[str], str] = str) -> list[Artifact]:
    history = collection.history
    models = models_in_order(collection)
    colors = model_colors(models)
    best = best_runs(collection)
    with styled():
        fig, axes = _grid(len(columns))
        drawn: set[str] = set()
        for ax, column in zip(axes, columns):
            for (run, model), rows in history.groupby(["run", "model"], sort=False):
                rows = rows[[x, column]].dropna()
                if rows.empty:
                    continue
                drawn.add(model)
                bold = best.get(model) == run
                ax.plot(rows[x], rows[column], color=colors[model], lw=2.0 if bold else 0.9,
                        alpha=1.0 if bold else 0.35, marker="o", ms=3 if bold else 2, zorder=3 if bold else 2)
            ax.set_title(column)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel(x.replace("_", " "))
            ax.set_ylabel(ylabel(column))
        handles = [axes[0].plot([], [], color=colors[m], lw=2, label=m)[0] for m in models if m in drawn]
        fig.legend(handles=handles, loc="outside lower center", ncols=max(len(handles), 1), frameon=False)
        fig.suptitle(title)
        save(fig, path)
    return [Artifact(path, title, caption)]


# history.csv's test_loss and summary.json's test_nelbo are both the test -ELBO, measured differently; wherever
# both appear, say how.
TEST_LOSS_NOTE = ("The VAEs' test_loss here is history.csv's per-epoch test −ELBO: over the first data.test_subset "
                  "test images (all by default), one posterior draw per image, in the training's numeric path. The "
                  "verdict's test −ELBO (summary.json's test_nelbo) is measured once at the end by the evaluation: "
                  "over eval.nll_images images of its fixed test subset, averaged over eval.iw_samples draws, in fp32. "
                  "Both estimate the same quantity, so they differ by sampling noise and by the images used.")


def training_curves(collection: Collection, out: Path) -> list[Artifact]:
    """Every loss against epoch, all models overlaid; each model's best run bold, its other runs faint."""
    history = collection.history
    columns = [c for c in LOSS_COLUMNS if c in history.columns and history[c].notna().any()]
    if not columns:
        return []
    return _curves(collection, columns, "epoch", out / "training_curves.png", "Training curves",
                   "Epoch-mean training losses (and, for VAEs, the test −ELBO and its parts, nats/image) of every "
                   "run. Each model's best run by its objective is drawn bold, its other runs faint. " + TEST_LOSS_NOTE,
                   ylabel=lambda c: "nats / image" if c in ("loss", "bce", "kl") or c.startswith("test_") else "")


def metrics_vs_epoch(collection: Collection, out: Path) -> list[Artifact]:
    """Evaluated metrics logged during training (extra history columns), against epoch."""
    history = collection.history
    columns = [c for c in collection.history_metric_names if history[c].notna().any()]
    if not columns:
        return []
    return _curves(collection, columns, "epoch", out / "metrics_vs_epoch.png", "Metrics during training",
                   "Quality metrics evaluated during training, at the epochs where they were measured, "
                   "for every run (best run per model bold).")


def objective_distribution(collection: Collection, out: Path) -> list[Artifact]:
    """Box and strip plot of the objective per model over all its completed trials."""
    obj = objective_frame(collection)
    done = completed_objectives(obj)
    if done.empty:
        return []
    names = list(dict.fromkeys(done["objective_name"]))
    models = models_in_order(collection)
    colors = model_colors(models)
    with styled():
        fig, axes = _grid(len(names), width=max(3.0, 1.4 * done["model"].nunique() + 1.5), height=3.4)
        for ax, name in zip(axes, names):
            part = done[done["objective_name"] == name]
            order = [m for m in models if m in set(part["model"])]
            data = [part.loc[part["model"] == m, "value"].to_numpy() for m in order]
            # matplotlib directly: seaborn 0.13's boxplot passes `vert`, deprecated since matplotlib 3.11.
            boxes = ax.boxplot(data, positions=range(len(order)), widths=0.6, showfliers=False, patch_artist=True,
                               medianprops={"color": "black"}, **VERTICAL)
            for patch, model in zip(boxes["boxes"], order):
                patch.set_facecolor(colors[model])
                patch.set_alpha(0.5)
            rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
            for k, values in enumerate(data):
                ax.scatter(k + rng.uniform(-0.15, 0.15, len(values)), values, color="black", s=12, zorder=3)
            ax.set_xticks(range(len(order)), order)
            ax.set_ylabel(f"{name} ({_direction_word(part['direction'].iloc[0])})")
            ax.set_xlabel("")
        fig.suptitle("Objective per model across trials")
        path = save(fig, out / "objective_by_model.png")
    failed = obj[obj["status"] != COMPLETED].groupby("model").size()
    note = ("; not completed (not shown): " + ", ".join(f"{m} {n}" for m, n in failed.items())) if len(failed) else ""
    return [Artifact(path, "Objective per model across trials",
                     "Each dot is one completed trial (seeds and hyperparameter settings together); boxes span the "
                     f"quartiles{note}.")]


def quality_vs_time(collection: Collection, out: Path) -> list[Artifact]:
    """Objective against training time: per-epoch trajectories where logged, and every run's final value."""
    obj = objective_frame(collection)
    done = obj[(obj["status"] == COMPLETED) & np.isfinite(obj["value"]) & np.isfinite(obj["train_time_s"])]
    if done.empty:
        return []
    names = list(dict.fromkeys(done["objective_name"]))
    models = models_in_order(collection)
    colors = model_colors(models)
    history = collection.history
    with styled():
        fig, axes = _grid(len(names), width=4.5, height=3.4)
        for ax, name in zip(axes, names):
            part = done[done["objective_name"] == name]
            if name in history.columns and "elapsed_s" in history.columns:
                for run, rows in history[history["run"].isin(part["run"])].groupby("run", sort=False):
                    rows = rows[["elapsed_s", name]].dropna()
                    model = part.loc[part["run"] == run, "model"].iloc[0]
                    ax.plot(rows["elapsed_s"], rows[name], color=colors[model], lw=0.8, alpha=0.4)
            for model in [m for m in models if m in set(part["model"])]:
                rows = part[part["model"] == model]
                ax.scatter(rows["train_time_s"], rows["value"], color=colors[model], s=22, label=model, zorder=3)
            ax.set_xlabel("training time (s)")
            ax.set_ylabel(f"{name} ({_direction_word(part['direction'].iloc[0])})")
            ax.legend(fontsize="small")
        fig.suptitle("Quality against training time")
        path = save(fig, out / "quality_vs_time.png")
    return [Artifact(path, "Quality against training time",
                     "Each point is a completed run's final objective against its training time (evaluation "
                     "excluded); thin lines follow a run's per-epoch value where the history logs it.")]


def hyperparameter_axes(collection: Collection, model: str) -> list[str]:
    """The swept parameters a figure may use as axes: evaluation settings (eval.*) say how a run was measured,
    not what it learned, and the seeds are repeats, not knobs (as in the sensitivity table), so neither is one."""
    return [p for p in swept_parameters(collection, model) if not p.startswith("eval.") and p not in DRAW_SEEDS]


def _numbers(values: pd.Series) -> np.ndarray | None:
    """The values as floats when every one is a number (bools excluded), else None."""
    if any(isinstance(v, (bool, np.bool_)) for v in values):
        return None
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers.to_numpy(dtype=float) if numbers.notna().all() else None


def is_log_scaled(numbers: np.ndarray) -> bool:
    return bool(len(numbers)) and numbers.min() > 0 and numbers.max() / numbers.min() >= LOG_RATIO


def is_continuous(values: pd.Series) -> bool:
    numbers = _numbers(values)
    return numbers is not None and len(np.unique(numbers)) > MAX_CATEGORIES


def levels(values: pd.Series) -> tuple[pd.Series, list[str], list[str]]:
    """Each run's level key of one parameter, the levels' labels and keys in order: the distinct values for a
    few of them, else BINS bins (log-spaced for a parameter spanning a factor of LOG_RATIO, such as lr)."""
    if not is_continuous(values):
        distinct = _sort_values(list({_cell_key(v): v for v in values}.values()))
        return values.map(_cell_key), [fmt(v) or "null" for v in distinct], [_cell_key(v) for v in distinct]
    numbers = _numbers(values)
    log = is_log_scaled(numbers)
    scaled = np.log10(numbers) if log else numbers
    edges = np.linspace(scaled.min(), scaled.max(), BINS + 1)
    index = np.clip(np.searchsorted(edges, scaled, side="right") - 1, 0, BINS - 1)
    bounds = 10 ** edges if log else edges
    labels = [f"{fmt(bounds[k], 2)}–{fmt(bounds[k + 1], 2)}" for k in range(BINS)]
    used = sorted(set(index.tolist()))
    return pd.Series([f"bin{k}" for k in index], index=values.index), [labels[k] for k in used], \
        [f"bin{k}" for k in used]


LOSS_KEY = "loss.name"


def follows(runs: pd.DataFrame, param: str, axis: str) -> bool:
    """Whether `param` takes one value at each value of `axis` across these runs: an objective's own knobs
    (wgan_gp's gp_weight, iwae's k) vary only with the objective, so they are no second axis."""
    if param not in runs or axis not in runs:
        return False
    return bool(runs[param].map(_cell_key).groupby(runs[axis].map(_cell_key)).nunique(dropna=False).max() <= 1)


def _pair(params: list[str], runs: pd.DataFrame) -> tuple[str, str] | None:
    # lr x batch size when both were swept (the usual grid); the objective against the first parameter that
    # varies independently of it (an objectives sweep); otherwise the first two swept parameters.
    # params are hyperparameter_axes: the seeds are never among them.
    if "optimizer.lr" in params and "data.batch_size" in params:
        return "optimizer.lr", "data.batch_size"
    if LOSS_KEY in params:
        free = [p for p in params if p != LOSS_KEY and not follows(runs, p, LOSS_KEY)]
        return (LOSS_KEY, free[0]) if free else None
    return (params[0], params[1]) if len(params) >= 2 else None


def heatmaps(collection: Collection, out: Path) -> list[Artifact]:
    """Per model: mean objective over two swept parameters (averaged over seeds and any other swept values)."""
    obj = objective_frame(collection).set_index("run")
    t = collection.table
    artifacts = []
    for model in models_in_order(collection):
        params = hyperparameter_axes(collection, model)
        runs = t[t["model"] == model]
        pair = _pair(params, runs)
        if pair is None:
            continue
        x, y = pair
        x_of, x_labels, x_keys = levels(runs[x])
        y_of, y_labels, y_keys = levels(runs[y])
        values = np.full((len(y_keys), len(x_keys)), np.nan)
        labels = np.full((len(y_keys), len(x_keys)), "", dtype=object)
        for i, yk in enumerate(y_keys):
            for j, xk in enumerate(x_keys):
                at = runs[(x_of == xk) & (y_of == yk)]
                if at.empty:
                    continue
                o = obj.loc[at["run"]]
                ok = o[(o["status"] == COMPLETED) & np.isfinite(o["value"])]["value"]
                if len(ok):
                    values[i, j] = ok.mean()
                    labels[i, j] = f"{fmt(ok.mean(), 3)}\n(n={len(ok)})"
                else:
                    labels[i, j] = f"failed\n({len(at)})"
        if np.isnan(values).all():
            continue
        name, direction = obj.loc[runs["run"].iloc[0], ["objective_name", "direction"]]
        tied = [p for p in params if p not in pair and LOSS_KEY in pair and follows(runs, p, LOSS_KEY)]
        repeats = [p for p in swept_parameters(collection, model) if p in DRAW_SEEDS]  # averaged over, never axes
        others = [p for p in params if p not in pair and p not in tied] + repeats
        with styled():
            fig = Figure(figsize=(1.3 * len(x_keys) + 2.5, 0.8 * len(y_keys) + 1.8), layout="constrained")
            ax = fig.subplots()
            frame = pd.DataFrame(values, index=y_labels, columns=x_labels)
            sns.heatmap(frame, annot=labels, fmt="", cmap="viridis_r" if direction == MINIMIZE else "viridis",
                        ax=ax, cbar_kws={"label": f"mean {name} ({_direction_word(direction)})"}, linewidths=0.5,
                        annot_kws={"fontsize": 8})
            ax.grid(False)
            for i, j in zip(*np.nonzero(np.isnan(values) & (labels != ""))):
                # heatmap leaves NaN cells (runs, but none completed) blank: hatch and label them instead
                ax.add_patch(Rectangle((j, i), 1, 1, fill=False, hatch="//", edgecolor="0.6", lw=0))
                ax.text(j + 0.5, i + 0.5, labels[i, j], ha="center", va="center", fontsize=8, color="0.25")
            ax.set_xlabel(x)
            ax.set_ylabel(y)
            ax.set_title(model)
            path = save(fig, out / f"heatmap_{model}.png")
        averaged = f" (averaged over {', '.join(others)})" if others else ""
        if tied:
            averaged += f"; {', '.join(tied)} {'go' if len(tied) > 1 else 'goes'} with the objective ({LOSS_KEY})"
        binned = [p for p in (x, y) if is_continuous(runs[p])]
        bins = (f" {' and '.join(binned)} took many values and {'are' if len(binned) > 1 else 'is'} binned "
                f"({BINS} bins, log-spaced for a parameter spanning a factor of {LOG_RATIO:g} or more).") if binned else ""
        artifacts.append(Artifact(path, f"{model}: {name} over {x} × {y}",
                                  f"Mean {name} of {model}'s completed runs at each {x} × {y} setting{averaged}; n is "
                                  f"the number of completed runs; 'failed' cells had runs but none completed.{bins}"))
    return artifacts


def sensitivity(collection: Collection, out: Path) -> list[Artifact]:
    """Per model: the objective against each swept parameter (dots = runs, line = mean over completed runs)."""
    obj = objective_frame(collection).set_index("run")
    t = collection.table
    artifacts = []
    colors = model_colors(models_in_order(collection))
    for model in models_in_order(collection):
        params = hyperparameter_axes(collection, model)
        if not params:
            continue
        runs = t[t["model"] == model]
        name, direction = obj.loc[runs["run"].iloc[0], ["objective_name", "direction"]]
        rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
        with styled():
            fig, axes = _grid(len(params), width=3.6, height=3.0)
            for ax, param in zip(axes, params):
                if is_continuous(runs[param]):
                    _continuous_sensitivity(ax, runs, param, obj, colors[model])
                else:
                    _categorical_sensitivity(ax, runs, param, obj, colors[model], rng)
                ax.set_xlabel(param)
                ax.set_ylabel(name)
            fig.suptitle(f"{model}: {name} ({_direction_word(direction)}) per swept parameter")
            path = save(fig, out / f"sensitivity_{model}.png")
        artifacts.append(Artifact(path, f"{model}: sensitivity to each swept parameter",
                                  f"{name} of every completed {model} run against each parameter that varies across "
                                  "its runs (other parameters vary too); the black line joins the means (of bins, for "
                                  "a parameter with many values, on a log axis where it spans a factor of "
                                  f"{LOG_RATIO:g} or more, as learning rates do)."))
    return artifacts


def _completed(obj: pd.DataFrame, runs: pd.DataFrame) -> pd.Series:
    o = obj.loc[runs["run"]]
    return o[(o["status"] == COMPLETED) & np.isfinite(o["value"])]["value"]


def _categorical_sensitivity(ax: Axes, runs: pd.DataFrame, param: str, obj: pd.DataFrame, color, rng) -> None:
    """A few values: one column each (in order), the runs as dots, the means joined by a line."""
    values = _sort_values(list({_cell_key(v): v for v in runs[param]}.values()))
    means, ticks = [], []
    for k, v in enumerate(values):
        at = runs[runs[param].map(_cell_key) == _cell_key(v)]
        ok = _completed(obj, at).to_numpy()
        ax.scatter(k + rng.uniform(-0.08, 0.08, len(ok)), ok, color=color, s=14, alpha=0.7)
        means.append(ok.mean() if len(ok) else np.nan)
        bad = len(at) - len(ok)
        ticks.append((fmt(v) or "null") + (f"\n({bad} failed)" if bad else ""))
    ax.plot(range(len(values)), means, color="black", marker="_", ms=14, lw=1)
    ax.set_xticks(range(len(values)), ticks)


def _continuous_sensitivity(ax: Axes, runs: pd.DataFrame, param: str, obj: pd.DataFrame, color) -> None:
    """Many values (a search's): the runs at their values (log axis for lr-like ranges), the means of bins joined."""
    ok = _completed(obj, runs)
    x = pd.to_numeric(runs.set_index("run").loc[ok.index, param]).to_numpy(dtype=float)
    ax.scatter(x, ok.to_numpy(), color=color, s=14, alpha=0.7)
    if is_log_scaled(pd.to_numeric(runs[param]).to_numpy(dtype=float)):
        ax.set_xscale("log")
    of, _, keys = levels(runs.set_index("run").loc[ok.index, param])
    centres = [np.exp(np.log(x[(of == k).to_numpy()]).mean()) if ax.get_xscale() == "log" else x[(of == k).to_numpy()].mean()
               for k in keys]
    means = [ok[(of == k).to_numpy()].mean() for k in keys]
    ax.plot(centres, means, color="black", marker="_", ms=14, lw=1)
    failed = len(runs) - len(ok)
    if failed:
        ax.set_title(f"({failed} failed, not shown)", fontsize="small")


# The expected best of n trials is drawn in the Compute section (analysis/compute.py), against trials and compute.
ALL = (training_curves, metrics_vs_epoch, objective_distribution, quality_vs_time, heatmaps, sensitivity)


def all_figures(collection: Collection, out: Path) -> list[Artifact]:
    artifacts: list[Artifact] = []
    for make in ALL:
        artifacts += make(collection, out)
    return artifacts
