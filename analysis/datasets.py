"""Reports across data sets: runs are grouped by data set and never compared across groups.

Each data set's metrics are measured in the feature space of its own evaluator (a classifier of that data
set), so an FID on MNIST and an FID on Fashion-MNIST are different quantities. With one data set the report is
the usual one (with a note naming the data set and its evaluator). With several, every data set gets its own
full report in `<data set>/` and the top-level report holds one section per data set and a table that sets
each of the paper's claims, as judged on each data set, side by side: verdicts are compared, numbers never.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.collect import Collection, Run, _tabulate
from analysis.document import Block, Bullets, Heading, Table, Text, to_html, to_md
from analysis.tables import COMPLETED, results_table, results_wide, write_table

UNKNOWN = "unknown"


def data_of(run: Run) -> str:
    """The data set a run trained on: summary.json's `data`, else its config's data.name (runs before there
    were data sets: mnist)."""
    name = run.summary.get("data") or (run.config.get("data") or {}).get("name")
    return str(name) if name else ("mnist" if run.config or run.summary else UNKNOWN)


def title_of(name: str) -> str:
    try:
        from gvc import datasets

        return datasets.get(name).title
    except (ImportError, KeyError):
        return name


def by_data(collection: Collection) -> dict[str, Collection]:
    """One Collection per data set (the paper's MNIST first, then by name); run names stay those of the whole."""
    groups: dict[str, list[Run]] = {}
    for run in collection.runs:
        groups.setdefault(data_of(run), []).append(run)
    return {name: _tabulate(groups[name], collection.inputs, collection.duplicates) for name in sorted(groups, key=lambda n: (n != "mnist", n))}


def evaluator_notes(collection: Collection) -> list[str]:
    """Which data set and evaluator measured these runs' metrics (read from summary.json)."""
    names = sorted({data_of(r) for r in collection.runs})
    evaluators = sorted({(e.get("data", ""), e.get("space", "classifier"), e.get("sha256", "")[:12])
                         for r in collection.runs if isinstance(e := r.summary.get("evaluator"), dict)})
    note = (f"Data set: {', '.join(title_of(n) for n in names)}. Metrics are measured in the feature space of that "
            "data set's own evaluator")
    if evaluators:  # an unlabelled data set's is its label-free autoencoder, trained on its own training images
        note += " (" + ", ".join(f"{title_of(d)} {space}, SHA-256 {s}…" for d, space, s in evaluators) + ")"
    return [note + "; they are not comparable with numbers measured on another data set."]


def claims_side_by_side(claims: dict[str, list]) -> pd.DataFrame:
    """One row per paper claim, one verdict column per data set (the numbers behind each are in its report)."""
    order: list[str] = []
    verdicts: dict[str, dict[str, str]] = {}
    for name, found in claims.items():
        for claim in found:
            if claim.claim not in verdicts:
                order.append(claim.claim)
                verdicts[claim.claim] = {}
            verdicts[claim.claim][title_of(name)] = claim.verdict
    columns = [title_of(name) for name in claims]
    rows = [{"claim": c, **{col: verdicts[c].get(col, "not measured") for col in columns}} for c in order]
    return pd.DataFrame(rows, columns=["claim", *columns])


def build_by_data(collection: Collection, root: Path, build: Callable[[Collection, Path], list]) -> None:
    """The report in `root`: `build(collection, directory)` (which returns the paper's claims) once per data set.

    One data set: that report, in `root`. Several: each in `root/<data set>/`, and an overview in `root`.
    """
    groups = by_data(collection)
    if len(groups) == 1:
        build(collection, root)
        return
    claims = {name: build(group, root / name) for name, group in groups.items()}
    table = claims_side_by_side(claims)
    write_table(table, root / "tables", "claims_by_dataset")
    blocks = overview(collection, groups, table)
    (root / "report.md").write_text(to_md(blocks, root))
    (root / "report.html").write_text(to_html(blocks, "GAN vs VAE across data sets"))


def overview(collection: Collection, groups: dict[str, Collection], claims: pd.DataFrame) -> list[Block]:
    titles = [title_of(n) for n in groups]
    b: list[Block] = [
        Heading(1, "GAN vs VAE across data sets"),
        Text(f"{len(collection.runs)} runs on {len(groups)} data sets ({', '.join(titles)}), from "
             + ", ".join(f"`{p}`" for p in collection.inputs) + "."),
        Text("**Runs are grouped by data set and never compared across data sets.** Each data set's metrics are "
             "measured in the feature space of its own evaluator (a classifier of that data set's classes), and its "
             "real-data floor and noise level too: an FID on MNIST and an FID on Fashion-MNIST are different "
             "quantities. What can be compared across data sets is whether each of the paper's conclusions holds "
             "(the verdicts below), not the numbers."),
        Heading(2, "The paper's conclusions on each data set"),
        Text("Each verdict comes from that data set's own comparisons (each a test over seeds: analysis.stats."
             "compare_groups); the evidence is in each data set's report."),
        Table(claims),
    ]
    for name, group in groups.items():
        t = group.table
        completed = int((t["status"] == COMPLETED).sum())
        b += [Heading(2, title_of(name)),
              Text(f"{len(t)} runs of {t['model'].nunique()} models ({completed} completed). Full report: "
                   f"[{name}/report.md]({name}/report.md) ([html]({name}/report.html))."),
              Bullets(evaluator_notes(group))]
        metrics = results_wide(results_table(group), "metric")
        if not metrics.empty:
            b += [Text("Quality metrics, mean ± std (n), in this data set's evaluator space:"), Table(metrics, index=True)]
    return b
