"""Quality against compute: every configuration's evaluations along training (evals.csv) as measured curves.

The points of a run are its `eval.along` rows at the cheap N (the end's full-N row is the run's final number and
stays out: FID at another N is another scale). The seeds of a configuration are summarised point by point: the
median of the metric and of the compute axis, and the seeds' spread (their minimum and maximum). A point is
identified by its scheduled budget value (`point`, in the run's budget unit), so with a time or CPU budget the
seeds' rows at one point were measured at slightly different clocks; the end of training is its own point.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.artifact import Artifact, save
from analysis.collect import Collection
from analysis.figures import _grid, model_colors, styled
from analysis.tables import COMPLETED, ONE_CONFIGURATION, configuration_labels, models_in_order

# Panels: a family of metrics on one scale (title -> metrics, log y axis). FIDs span noise (about 1,000) to the
# floor (a few): a log axis; rates in [0, 1] and counts: linear.
METRIC_FAMILIES: dict[str, tuple[tuple[str, ...], bool]] = {
    "FID": (("fid", "fid_class_matched"), True),
    "KID": (("kid_mean",), False),
    "precision, recall, coverage": (("precision", "recall", "coverage"), False),
    "density": (("density",), False),
    "FID (autoencoder space)": (("ae_fid",), True),
    "precision, recall, coverage (autoencoder space)": (("ae_precision", "ae_recall", "ae_coverage"), False),
    "classes covered": (("classes_covered",), False),
    "test −ELBO and NLL bound (nats)": (("test_nelbo", "test_nll_iw"), False),
}
COMPUTE_AXES = {"cpu_s": "CPU-seconds of training", "images": "training images seen"}
END = np.inf  # the `position` of a run's end-of-training row at the cheap N
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D")


def along_frame(collection: Collection) -> pd.DataFrame:
    """One row per (completed run, point at its cheap N): evals.csv's columns with run, model, configuration, seed
    and `position` (the scheduled point; END for the end of training)."""
    e = collection.evals
    if e.empty or "n_samples" not in e.columns:
        return pd.DataFrame()
    t = collection.table.assign(configuration=configuration_labels(collection).values)
    info = t.set_index("run")[["configuration", "seed", "status", "along_unit", "along_n_samples", "along_budget"]]
    e = e.join(info, on="run")
    e = e[(e["status"] == COMPLETED) & (e["n_samples"] == e["along_n_samples"])].copy()
    e["position"] = np.where(e["final"] > 0, END, e["point"])
    return e.reset_index(drop=True)


def seed_summary(frame: pd.DataFrame, metric: str, x: str) -> pd.DataFrame:
    """Per (model, configuration, position): the seeds' median of `metric` and of `x`, their min and max, and n."""
    rows = frame.dropna(subset=[metric, x])
    if rows.empty:
        return pd.DataFrame(columns=["model", "configuration", "position", "x", "median", "low", "high", "seeds"])
    grouped = rows.groupby(["model", "configuration", "position"], sort=True)
    out = grouped.agg(x=(x, "median"), median=(metric, "median"), low=(metric, "min"), high=(metric, "max"),
                      seeds=("run", "nunique"))
    return out.reset_index()


def _reference(frame: pd.DataFrame, prefix: str, metric: str) -> float | None:
    column = f"{prefix}{metric}"
    if column not in frame.columns:
        return None
    values = frame[column].dropna()
    return float(values.median()) if len(values) else None


def _label(model: str, configuration: str) -> str:
    return model if configuration == ONE_CONFIGURATION else f"{model} ({configuration})"


def quality_vs_compute(collection: Collection, out: Path) -> list[Artifact]:
    """One figure per compute axis (CPU-seconds, images seen): a panel per metric family, a line per configuration
    (one colour per model across panels, one line style per metric), measured points only."""
    frame = along_frame(collection)
    if frame.empty:
        return []
    families = [(title, [m for m in metrics if m in frame.columns and frame[m].notna().any()], log_y)
                for title, (metrics, log_y) in METRIC_FAMILIES.items()]
    families = [f for f in families if f[1]]
    models = models_in_order(collection)
    colors = model_colors(models)
    n_samples = ", ".join(str(int(n)) for n in sorted(frame["n_samples"].unique()))
    artifacts = []
    for x, x_label in COMPUTE_AXES.items():
        if frame[x].dropna().empty:
            continue
        with styled():
            fig, axes = _grid(len(families), width=4.6, height=3.5)
            for ax, (title, metrics, log_y) in zip(axes, families):
                _panel(ax, frame, metrics, x, colors, log_y)
                ax.set_xlabel(x_label)
                ax.set_title(title)
            fig.suptitle(f"Quality against compute ({x_label}; evaluations along training at N = {n_samples})")
            path = save(fig, out / f"quality_vs_{x}.png")
        artifacts.append(Artifact(
            path, f"Quality against compute: {x_label}",
            "Each marker is a measured evaluation along training (evals.csv, eval.along) at the cheap N, no "
            "smoothing: the median over a configuration's seeds, with bars from the seeds' lowest to highest value; "
            "the last marker of a line is the end of training. Log compute axis (the points are log-spaced). Dashed: "
            "the real-data floor; dotted: uniform noise, at the same N. Numbers at this N are comparable with each "
            "other, not with the final evaluation at the full N (FID is biased upwards at small N).",
            section="compute"))
    return artifacts


def _panel(ax, frame: pd.DataFrame, metrics: list[str], x: str, colors: dict[str, str], log_y: bool) -> None:
    """One panel: per configuration and metric, the seeds' median at each measured point with their range as bars,
    the real-data floor (dashed) and uniform noise (dotted) at the same N; log compute axis."""
    for style, metric in enumerate(metrics):
        summary = seed_summary(frame, metric, x)
        for (model, configuration), line in summary.groupby(["model", "configuration"], sort=False):
            line = line.sort_values("position")
            label = _label(model, configuration) + (f": {metric}" if len(metrics) > 1 else "")
            ax.errorbar(line["x"], line["median"], yerr=[line["median"] - line["low"], line["high"] - line["median"]],
                        color=colors.get(model), ls=LINESTYLES[style % 4], marker=MARKERS[style % 4], ms=3.5, lw=1.1,
                        capsize=2, elinewidth=0.8, label=label)
        floor, noise = _reference(frame, "floor_", metric), _reference(frame, "noise_", metric)
        if floor is not None:
            ax.axhline(floor, color="0.25", ls="--", lw=0.8, label="real data (floor)" if style == 0 else None)
        if noise is not None:
            ax.axhline(noise, color="0.6", ls=":", lw=1.0, label="uniform noise" if style == 0 else None)
    ax.set_xscale("log")
    if log_y and (frame[list(metrics)] > 0).all().all():
        ax.set_yscale("log")
    ax.legend(fontsize="x-small")


HEADLINE_METRICS = ("fid", "ae_fid")  # the first of these the runs measured along training heads the report


def headline_figure(collection: Collection, out: Path) -> list[Artifact]:
    """The report's first screen: one panel, FID (or, without it, the label-free FID) against CPU-seconds of
    training, a line per configuration, for a reader who looks at nothing else."""
    frame = along_frame(collection)
    metric = next((m for m in HEADLINE_METRICS if not frame.empty and m in frame.columns and frame[m].notna().any()),
                  None)
    if metric is None or frame["cpu_s"].dropna().empty:
        return []
    colors = model_colors(models_in_order(collection))
    n_samples = ", ".join(str(int(n)) for n in sorted(frame["n_samples"].unique()))
    with styled():
        fig, axes = _grid(1, width=6.4, height=3.8)
        _panel(axes[0], frame, [metric], "cpu_s", colors, log_y=True)
        axes[0].set_xlabel(COMPUTE_AXES["cpu_s"])
        axes[0].set_ylabel(f"{metric} at N = {n_samples} (lower is better)")
        axes[0].set_title(f"{metric} along training")
        path = save(fig, out / f"{metric}_vs_compute.png")
    return [Artifact(path, f"{metric} against compute",
                     f"Each marker a measured evaluation along training at N = {n_samples} (the seeds' median, bars "
                     "from their lowest to highest value; the last marker is the end of training), against the run's "
                     "CPU-seconds of training; dashed: real data, dotted: uniform noise at the same N. All metrics "
                     "and the images-seen axis: the Compute section.", section="lead")]


def curves_table(collection: Collection, metrics: tuple[str, ...] = ("fid", "precision", "recall", "coverage"),
                 ) -> pd.DataFrame:
    """The figures' numbers: per configuration and point, the seeds' median CPU-seconds, images and metrics."""
    frame = along_frame(collection)
    if frame.empty:
        return pd.DataFrame()
    present = [m for m in metrics if m in frame.columns]
    grouped = frame.groupby(["model", "configuration", "along_unit", "position"], sort=True)
    out = grouped.agg(seeds=("run", "nunique"), cpu_s=("cpu_s", "median"), images=("images", "median"),
                      **{m: (m, "median") for m in present}).reset_index()
    out["point"] = [("end" if p == END else p) for p in out.pop("position")]
    return out[["model", "configuration", "along_unit", "point", "seeds", "cpu_s", "images", *present]]
