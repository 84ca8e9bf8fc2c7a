"""build_report: runs -> tables, figures, image grids -> report.md and a self-contained report.html.

Where the report goes: by default `report/` inside the single input directory, or inside the common parent
of several inputs; never inside a run directory (a run's report is `report_RUN/` beside it). A directory that already holds something is never silently replaced:

* a gvc report built from the same inputs is refreshed in place (it is the same report, regenerated);
* any other non-empty directory leaves it untouched and writes a fresh `report-YYYYmmdd-HHMMSS/` beside it;
* `force=True` replaces an existing gvc report built from other inputs, but never a directory that is not a
  gvc report (recognised by its `.gvc-report.json` marker).

The report is built in a hidden temporary directory and moved into place at the end, so an interrupted build
leaves no half-written report.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd

from analysis import compute, figures, grids
from analysis.artifact import Artifact
from analysis.collect import Collection, collect, default_inputs
from analysis.conclusions import claims_per_objective, paper_claims
from analysis.datasets import build_by_data, evaluator_notes
from analysis.document import Block, Bullets, Heading, Image, Table, Text, anchor, to_html, to_md
from analysis.objectives import objective_comparisons, objective_ranking
from analysis.protocol import departure_summary, departures_long, departures_table, epochs_trained_text
from analysis.stats import ALPHA
from analysis.tables import (COMPLETED, models_in_order, objective_directions,
                             overview_table, problems_table, results_table, results_wide, runs_display_table, sensitivity_table,
                             best_configuration_runs, configuration_table, evaluation_size_note, per_class_table,
                             write_table)
from analysis.spaces import class_effects, space_agreement
from analysis.verdict import (collapsed_models, headline_directions, no_better_than_noise, noise_fooled_metrics,
                              verdict_numbers, verdict_table)
from gvc.config import ROOT
from gvc.trial import rundir

log = logging.getLogger(__name__)

MARKER = ".gvc-report.json"
# The evaluators' card (what each metric detects, calibrated on known corruptions): copied into every report.
METRIC_CARD_SOURCE, METRIC_CARD = ROOT / "docs" / "metrics.md", "metric_card.md"
MAX_INLINE_RUNS = 60  # longer run lists stay in tables/runs.md and runs.csv only


class ReportError(RuntimeError):
    """The report cannot be written where asked."""


# -- where ---------------------------------------------------------------------------------------------------
def default_out(inputs: list[Path]) -> Path:
    if len(inputs) == 1:
        base = inputs[0] if inputs[0].is_dir() else inputs[0].parent
    else:
        base = Path(os.path.commonpath([str(p) for p in inputs]))
    run = next((d for d in (base, *base.parents) if rundir.is_run_dir(d)), None)
    if run is not None:  # never inside a run directory: beside it
        return run.parent / f"report_{run.name}"
    return base / "report"


def choose_out(out: Path, inputs: list[Path], force: bool) -> Path:
    """The directory to write (see the module docstring for the rules)."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return out
    if not out.is_dir():
        raise ReportError(f"{out} exists and is not a directory; choose another --out")
    marker = out / MARKER
    if marker.is_file():
        try:
            previous = json.loads(marker.read_text()).get("inputs")
        except (json.JSONDecodeError, OSError, AttributeError):
            previous = None
        if force or previous == [str(p) for p in inputs]:
            return out
    elif force:
        raise ReportError(f"{out} is not a gvc report (no {MARKER}); refusing to replace it even with --force. "
                          "Choose another --out.")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    fresh = out.with_name(f"{out.name}-{stamp}")
    k = 2
    while fresh.exists():
        fresh = out.with_name(f"{out.name}-{stamp}-{k}")
        k += 1
    log.warning("%s already holds a different report or other files; writing %s instead (--force replaces a "
                "gvc report)", out, fresh)
    return fresh


def _move_into_place(tmp: Path, out: Path) -> None:
    if out.exists():
        trash = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.replace(out, trash / out.name)
        os.replace(tmp, out)
        shutil.rmtree(trash)
    else:
        os.replace(tmp, out)


# -- tables --------------------------------------------------------------------------------------------------
def _write_table(frame: pd.DataFrame, directory: Path, name: str, index: bool = False) -> list[Path]:
    return write_table(frame, directory, name, index)  # CSV, Markdown and LaTeX (booktabs)


# Evaluation settings that change what a metric measures (sample counts bias FID and KID): if they differ
# between the evaluated runs, their metrics are not directly comparable, and the report says so.
EVAL_SETTINGS = ("eval.n_samples", "eval.kid_subset_size", "eval.pr_k", "eval.dc_k", "eval.nll_images",
                 "eval.iw_samples")


def evaluation_setting_notes(collection: Collection) -> list[str]:
    t = collection.table
    measured = t[t["status"] == COMPLETED]
    if collection.metric_names:
        measured = measured[measured[collection.metric_names].notna().any(axis=1)]
    notes = []
    for key in EVAL_SETTINGS:
        if key in measured.columns:
            values = sorted({str(v) for v in measured[key].dropna()})
            if len(values) > 1:
                notes.append(f"**Evaluated with different settings** ({key}: {', '.join(values)}): metrics such as "
                             "FID and KID depend on them, so compare runs evaluated alike.")
    return notes


# -- the document --------------------------------------------------------------------------------------------
DEPARTURES = "How these runs depart from the paper"
VERDICT_CAPTION = (
    "Each model's mean ± standard deviation (sample, ddof = 1) over the seeds of one configuration, its chosen one "
    "('runs' counts those completed seeds; n where fewer of them measured a metric), framed by **uniform noise** (the same metrics for images of uniform noise: what a model "
    "that learned nothing scores) and **real data (floor)** (training images against test images: what a perfect "
    "model scores). {directions}; "
    "test −ELBO (VAEs only, nats per image): lower is better. 'not measured': the runs did not record it (e.g. noise "
    "in runs of an older gvc). Numbers: [tables/verdict_numbers.csv](tables/verdict_numbers.csv).")
CONFIGURATION_CAPTION = (
    " Where a model's runs hold several configurations (a sweep of objectives, learning rates, budgets, ...), its row "
    "is its best configuration's seeds (best mean objective; the Configurations section lists them all): a mean is "
    "never taken across different configurations.")


RESULTS_CAPTION = (
    "One configuration per model row: mean ± standard deviation (sample, ddof = 1) over the seeds of the model's "
    "chosen configuration (its best mean objective; the Configurations section lists every configuration), with n "
    "the number of those seeds that measured the metric — never a mean across configurations; **uniform noise** is "
    "the metric for images of uniform noise, what a model that learned nothing scores; **real data (floor)** is the "
    "metric computed between real images, the value a perfect model would reach (either row is absent when the runs "
    "did not measure it). Long form with the configuration, its seeds and values, and the best run: "
    "[tables/results.csv](tables/results.csv).")


def _chosen_text(results: pd.DataFrame) -> str:
    """' Chosen configurations: dcgan: optimizer.lr=0.0002 (best of 3 configurations, 2 seeds); ...' where a model
    has more than one configuration."""
    parts = []
    for model, rows in results.groupby("model", sort=False):
        r = rows.iloc[0]
        if r["configurations"] > 1:
            parts.append(f"{model}: {r['configuration']} ({r['selection']}; "
                         f"{int(rows['n'].max())} seed{'s' if rows['n'].max() != 1 else ''})")
    return f" Chosen configurations: {'; '.join(parts)}." if parts else ""

def own_data_card_note(collection: Collection) -> str | None:
    """For runs on a user's own images, where their own metric card comes from (the shipped card is MNIST's and
    Fashion-MNIST's); None for a registered data set."""
    from analysis.datasets import data_of
    from gvc.datasets.own import NAME

    names = sorted({data_of(r) for r in collection.runs if NAME.match(data_of(r))})
    paths = sorted({str(((r.summary.get("data_set") or {}).get("path")) or "DIR") for r in collection.runs
                    if NAME.match(data_of(r))})
    if not names:
        return None
    kind = names[0].split("-")[0]
    return (f"What each metric detects on these images (blur, specks, noise, copies of training images, and class "
            f"corruptions where there are labels): their own card, made by `python -m gvc.evaluation.calibrate "
            f"--data {kind} data.path={paths[0]}`; the shipped card ({METRIC_CARD}) is MNIST's and Fashion-MNIST's.")


def _lead(collection: Collection, artifacts: list[Artifact], compute_glance: list[Block] = ()) -> list[Block]:
    """What a reader looks at first: every model's final samples side by side, the verdict table, then FID against
    compute and the claims at every budget (where the runs were evaluated along training)."""
    t = best_configuration_runs(collection)  # mean ± std over one configuration's seeds, never across configs
    b: list[Block] = [Heading(2, "At a glance")]
    b += [Image(a) for a in artifacts if a.section == "lead"]
    verdict = verdict_table(t)
    if verdict.empty:
        b.append(Text("**No quality metrics** (FID, precision, recall, …) were measured in these runs, so there is no "
                      "verdict table; see the training losses and image statistics below."))
        return b
    selections = t.loc[t["selection"] != "", ["model", "selection"]].drop_duplicates("model")
    chosen = "".join(f" **{m}**: {sel}." for m, sel in selections.itertuples(index=False))
    caption = VERDICT_CAPTION.format(directions=headline_directions(verdict.columns))
    b += [Table(verdict, index=True),
          Text(caption + CONFIGURATION_CAPTION + chosen + " " + evaluation_size_note(t))]
    own = own_data_card_note(collection)
    if own:
        b.append(Text(own))
    elif METRIC_CARD_SOURCE.is_file():
        b.append(Text(f"What each metric detects, measured on known corruptions (blur, specks, noise, mode drops, a "
                      f"skewed class histogram, copies of training images): the evaluators' card, "
                      f"[{METRIC_CARD}]({METRIC_CARD}), section \"What each metric detects\"."))
    numbers = verdict_numbers(t)
    if not (numbers["kind"] == "noise").any() or not numbers.loc[numbers["kind"] == "noise", "n"].any():
        b.append(Text("Uniform noise was not measured by these runs (they predate gvc's `noise_<metric>` keys), so "
                      "only the real-data floor frames the models."))
    for model, why in collapsed_models(t).items():
        b.append(Text(f"**{model}: {why}.** Its precision and density are flagged: a collapsed model can score "
                      "them above real data (Naeem et al. 2020); read coverage and classes covered instead."))
    fooled = noise_fooled_metrics(t)
    if fooled:  # e.g. a label-free space trained on a user's own images
        b.append(Text(f"**{', '.join(fooled)}: uniform noise scores at least as well as real data on this data set** "
                      "(the noise row against the real-data floor), so these are marked ⚠ and decide no verdict."))
    blank = no_better_than_noise(t)
    if blank:
        b.append(Text(f"**{', '.join(blank)}: mean FID no better than uniform noise's.** By FID, "
                      f"{'this model is' if len(blank) == 1 else 'these models are'} not yet told apart from noise at "
                      "this budget; the samples above and the other columns show how far each got."))
    b += list(compute_glance)
    return b


def _objectives_compared(collection: Collection) -> list[Block]:
    """Per architecture trained with several objectives: their ranking with ties, and every pairwise test."""
    ranking = objective_ranking(collection)
    if ranking.empty:
        return []
    return [Heading(2, "Objectives compared"),
            Text("Per architecture, each objective (at its best configuration) against every other on the model's "
                 "objective metric, by the same test as the claims (analysis.stats.compare_groups), paired by seed "
                 "where both objectives ran the same seeds, six or more (fewer pairs cannot reach p ≤ 0.05). "
                 "Objectives the test cannot tell apart share a rank "
                 "('too few seeds to tell' or 'not separable'). [tables/objective_ranking.csv]"
                 "(tables/objective_ranking.csv), [tables/objective_comparisons.csv]"
                 "(tables/objective_comparisons.csv)."),
            Table(ranking),
            Table(objective_comparisons(collection)[["model", "metric", "objective_a", "objective_b", "verdict"]])]


def _second_opinions(results: pd.DataFrame) -> list[Block]:
    """Class effects on FID and the label-free space's ranking, where the runs measured them (analysis/spaces.py)."""
    classes, agreement = class_effects(results), space_agreement(results)
    if classes.empty and agreement.empty:
        return []
    b: list[Block] = [Heading(2, "Second opinions: class balance and a label-free feature space")]
    if len(classes):
        b += [Heading(3, "FID and class balance"),
              Text("The evaluator is a classifier, so FID in its space falls when the samples' class histogram "
                   "matches the test set's, without better images (Kynkäänniemi et al. 2023). **class-matched FID** "
                   "resamples the samples to the test set's histogram of predicted classes; **worst class FID** is the "
                   "largest FID within one predicted class (per-class FIDs are at about N/10 images a side and biased "
                   "upwards: compare them with `floor_fid_class_<c>`). Per class: tables/results.csv."),
              Table(classes.round(3))]
    if len(agreement):
        b += [Heading(3, "Do two feature spaces agree?"),
              Text("The same samples measured in a second space, a convolutional autoencoder's code learned without "
                   "labels (`ae_*`). Kendall's tau compares the models' order in the two spaces (1: the same, −1: "
                   "reversed); a pair listed as ordered differently is one whose ranking depends on the ruler."),
              Table(agreement.round(3))]
    return b


def _duplicates(collection: Collection) -> list[Block]:
    """The completed runs set aside as copies of a kept run (analysis.collect.set_aside_duplicates)."""
    d = collection.duplicates
    if d.empty:
        return []
    text = (f"**{len(d)} duplicate run{'s' if len(d) != 1 else ''} set aside**: the same configuration and seed as a "
            "kept run (they differ at most in keys that change nothing trained or measured, such as trainer.threads "
            "or data.root), so each counts once, never as another seed. Where they were, and the run each repeats: "
            "[tables/duplicates.csv](tables/duplicates.csv).")
    return [Text(text), Table(d[["run", "duplicate_of", "seed", "same_metrics", "run_dir"]])] if len(d) <= \
        MAX_INLINE_RUNS else [Text(text)]


def decoder_means_note(table: pd.DataFrame) -> str:
    """What a VAE's pictured images are, for the decoder likelihoods these runs used (blank: an older gvc's
    Bernoulli)."""
    vae = table[table["family"] == "vae"] if "family" in table.columns else table.iloc[0:0]
    kinds = {str(v) or "bernoulli" for v in vae.get("likelihood", pd.Series(dtype=object)).fillna("")}
    if kinds <= {"bernoulli"}:
        return "VAE images are decoder means (Bernoulli means), as in the paper."
    means = {"bernoulli": "Bernoulli decoders: the Bernoulli means, as in the paper",
             "continuous_bernoulli": "continuous-Bernoulli decoders: the distribution's mean E[x], not its parameter λ",
             "gaussian": "Gaussian decoders: the Gaussian mean"}
    models = {k: sorted(set(vae.loc[vae["likelihood"].fillna("").replace("", "bernoulli") == k, "model"]))
              for k in sorted(kinds)}
    return ("VAE images are decoder means — " + "; ".join(f"{means.get(k, k + ' decoders: their mean')} "
                                                          f"({', '.join(models[k])})" for k in sorted(kinds)) + ".")


def _link(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return f"[{rel}]({rel})"


def _document(collection: Collection, root: Path, artifacts: list[Artifact], results: pd.DataFrame,
              image_stats: pd.DataFrame, claims: list, sensitivity: pd.DataFrame, notes: list[str],
              files: list[Path], reps: dict, extra: list[Block] = (), glance: list[Block] = ()) -> list[Block]:
    t = collection.table
    counts = Counter(t["status"])
    b: list[Block] = [Heading(1, "GAN vs VAE: comparison report")]
    copies = len(collection.duplicates)
    b.append(Text(f"{len(t)} runs of {t['model'].nunique()} models "
                  f"({', '.join(f'{n} {s}' for s, n in counts.most_common())}"
                  + (f"; {copies} duplicate{'s' if copies != 1 else ''} set aside" if copies else "") + ") from "
                  + ", ".join(f"`{p}`" for p in collection.inputs)
                  + f". Generated {dt.datetime.now().isoformat(timespec='seconds')}."))

    reevaluated = [r for r in collection.runs if r.summary.get("evaluation")]
    if reevaluated:  # --metrics latest: say whose numbers are not training's
        b.append(Text(f"**These metrics are re-evaluations**: {len(reevaluated)} of {len(collection.runs)} runs' "
                      "metrics come from their newest `python -m gvc.evaluate` (RUN/evaluations/*.json, named in "
                      "tables/runs.csv's `evaluation` column), not from the evaluation at the end of training"
                      + ("; the others have none and keep training's." if len(reevaluated) < len(collection.runs)
                         else ".")))
    b.append(Text(departure_summary(t) + f" Details: [{DEPARTURES}](#{anchor(DEPARTURES)})."))
    b += _lead(collection, artifacts, glance)
    b += [Heading(2, DEPARTURES),
          Text("Each run's own config set beside the paper's protocol (Adam with PyTorch's default betas, the model's "
               "own learning rate and batch size from `model.paper`, 100 epochs of the full training set, fp32, the "
               "family's objective, and every model and objective knob at the paper's value as its schema declares it). Only "
               "settings in which some model departs, or that some run does not record, are listed; a cell lists the "
               "values of all the model's runs. 'stopped by' names the budget that ended each completed run, with the "
               "number of runs. Per model and setting: [tables/departures_long.csv](tables/departures_long.csv).")]
    departures = departures_table(t)
    b.append(Table(departures, index=True) if len(departures) else Text("No departures."))
    b += [Heading(2, "Runs"), Table(overview_table(collection))]
    problems = problems_table(collection)
    if len(problems):
        b += [Text("**Runs that did not complete** (listed, and left out of every statistic):"), Table(problems)]
    b += _duplicates(collection)
    runs = runs_display_table(collection)
    if len(runs) <= MAX_INLINE_RUNS:
        b += [Text("Every run (swept parameters as columns; the full table with all config values, metrics and "
                   "paths is [tables/runs.csv](tables/runs.csv)):"), Table(runs)]
    else:
        b.append(Text(f"{len(runs)} runs: see [tables/runs.md](tables/runs.md) and [tables/runs.csv](tables/runs.csv)."))

    b += [Heading(2, "Results"),
          Text(RESULTS_CAPTION + _chosen_text(results) + " " + evaluation_size_note(collection.table))]
    metrics = results_wide(results, "metric")
    if metrics.empty:
        b.append(Text("**No quality metrics** (FID, KID, precision, recall, …) were measured in these runs (their "
                      "summary.json `metrics` is empty), so only training losses and the image statistics below can "
                      "be compared."))
    else:
        b += [Heading(3, "Quality metrics: mean ± std (n)"), Table(metrics, index=True),
              Heading(3, "Quality metrics: each model's best run"),
              Text("One run per row, named: the model's best run by its own objective, with all its metrics (not "
                   "each metric's own best). A single run chosen as the best of many is optimistic."),
              Table(results_wide(results, "metric", "best"), index=True)]
    per_class = per_class_table(results)
    if len(per_class):
        b += [Heading(3, "Per class"),
              Text("The metrics measured within each predicted class (e.g. `fid_class_<c>`: FID within class c, at "
                   "about N/10 images a side and so biased upwards: compare with the real-data row), one column per "
                   "class in class order; mean ± std (n) over the chosen configuration's seeds. "
                   "[tables/results_per_class.csv](tables/results_per_class.csv)."),
              Table(per_class)]
    losses = results_wide(results, "loss")
    if not losses.empty:
        b += [Heading(3, "Final training losses: mean ± std (n)"),
              Text("The last epoch's losses. GAN losses measure the generator against its own discriminator and are "
                   "not comparable between runs as quality; the VAEs' test_loss is the test −ELBO in nats per image "
                   "(lower is better)."), Table(losses, index=True)]
    if len(image_stats):
        b += [Heading(3, "Image statistics (computed here)"),
              Text("Two simple proxies measured on samples regenerated (shared latent vectors) from each run of "
                   "each model's chosen configuration that has a checkpoint, and on real test images: **gray_fraction**, the share of ink pixels "
                   "(> 0.25) that are mid-gray (0.25–0.75) — blur spreads ink into gray (images with no ink are left "
                   "out; gray_fraction_n counts the rest); **speckles**, the number of bright pixels (≥ 0.5) per "
                   "image with no bright 4-neighbour — isolated specks are noise. Both are lower for crisp images; "
                   "compare each with the real-data row. One row per run (the seeds of each model's chosen "
                   "configuration that have a checkpoint); se is over that run's images and says how well one run's "
                   "value is known, while the conclusions compare models over their runs (seeds), never over "
                   "images. They are proxies, not standard metrics."),
              Table(image_stats)]

    configurations = configuration_table(collection)
    if len(configurations) > t["model"].nunique():
        b += [Heading(2, "Configurations"),
              Text("One row per configuration (everything but the seed: model, objective and its knobs, optimizer, "
                   "budget, data, precision, evaluation); mean ± std over its seeds. 'best' marks the configuration "
                   "each model's verdict and claims use (best mean objective). A critic's Wasserstein estimate and "
                   "gradient penalty are training curves (history.csv), never quality numbers; VAEs' test −ELBOs "
                   "are in nats of each run's own decoder likelihood, so −ELBOs of different likelihoods are not "
                   "ranked against each other. [tables/configurations.csv](tables/configurations.csv)."),
              Table(configurations)]
    b += _objectives_compared(collection)
    b += _second_opinions(results)
    b += [Heading(2, "The paper's conclusions against the numbers"),
          Text("Each claim is checked by comparisons of the form 'A is better than B on a metric', each a test over "
               "the runs (seeds) of the two models' chosen configurations: an exact permutation test of the "
               f"difference of means at p ≤ {ALPHA:g} (analysis.stats.compare_groups), whose outcome states p and "
               "the number of seeds. With few seeds no difference can reach that level (2 vs 2 seeds: the smallest "
               "possible p is 1/3; 3 vs 3: 0.1; 4 a side are needed): such a comparison says 'too few seeds to "
               "tell', not a direction. Image proxies are compared over runs too, never over one run's images. "
               "Missing metrics say 'not measured' and are not evidence either way. A comparison with a model "
               "whose FID is not clearly better than uniform noise's is 'not assessable', and a collapsed model's "
               "precision, density and image proxies, or any number by which it comes out better, are flagged "
               "and do not decide (analysis/assessable.py).")]
    for claim in claims:
        b += [Heading(3, claim.claim), Text(f"*{claim.question}* **Verdict: {claim.verdict}.**")]
        if claim.evidence:
            b.append(Table(pd.DataFrame([vars(e) for e in claim.evidence])))
    per_objective = claims_per_objective(collection, objective_directions(collection))
    if per_objective["objective"].nunique() > 2:
        b += [Heading(3, "The claims per objective"),
              Text("Each claim again, once per objective: that objective's runs of one family against the other "
                   "family trained with the paper's objective (each model at its best configuration; run metrics "
                   "only). [tables/claims_per_objective.csv](tables/claims_per_objective.csv)."),
              Table(per_objective[["family", "objective", "claim", "verdict"]])]
    trained = epochs_trained_text(t)
    if trained:
        b.append(Text(f"These verdicts describe these runs only: the completed runs trained for {trained}."))

    figs = [a for a in artifacts if a.section == "figures"]
    images = [a for a in artifacts if a.section == "images"]  # the lead's samples are shown once, at the top
    if figs:
        b.append(Heading(2, "Figures"))
        b += [Image(a) for a in figs]
    if images:
        b += [Heading(2, "Images"),
              Text("Each model is represented by one run: "
                   + "; ".join(f"{m}: {r.run.name} ({r.why})" for m, r in reps.items()) + ".")]
        b += [Image(a) for a in images]

    if len(sensitivity):
        b += [Heading(2, "Hyperparameter sensitivity"),
              Text("For each model, each parameter that takes more than one value across its runs: the model's "
                   "objective over the completed runs at each value (other parameters may vary too).")]
        for model in models_in_order(collection):
            part = sensitivity[sensitivity["model"] == model]
            for param, rows in part.groupby("parameter", sort=False):
                b += [Heading(3, f"{model}: {param}"),
                      Table(rows.drop(columns=["model", "parameter"]).reset_index(drop=True))]

    b += list(extra)  # the Compute section (analysis/compute.py)
    b += [Heading(2, "Notes"),
          Bullets(notes + [
              "Statistics use completed runs only; failed, diverged and unfinished runs are counted and listed above.",
              "Images come from checkpoints (weights only, on the CPU) or the runs' saved sample grids; nothing is "
              "retrained. " + decoder_means_note(t),
          ])]
    b += [Heading(2, "Files"), Bullets([_link(p, root) for p in files])]
    return b


# -- the whole report ----------------------------------------------------------------------------------------
def build_report(paths: list[Path] | list[str] | None = None, out: Path | str | None = None, *, force: bool = False,
                 z_seed: int = 0, metrics: str = "training") -> Path:
    """Collect the runs under `paths` (None or [] = the latest multirun, else the newest run of each model under
    ./outputs), write the report directory, and return it. Raises NoRunsError if there are no runs."""
    inputs = [Path(p).expanduser().resolve() for p in paths] if paths else default_inputs()
    collection = collect(inputs, metrics)  # metrics="latest": each run's newest re-evaluation (gvc.evaluate)
    inputs = collection.inputs
    target = choose_out(Path(out).expanduser().resolve() if out else default_out(inputs), inputs, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        build_by_data(collection, tmp, lambda group, root: _build(group, root, z_seed))  # one report per data set
        (tmp / MARKER).write_text(json.dumps({"inputs": [str(p) for p in inputs], "runs": len(collection.runs),
                                              "created": dt.datetime.now().isoformat(timespec="seconds")}, indent=2))
        _move_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("report: %s", target / "report.html")
    return target


def _proxy_runs(collection: Collection, chosen: pd.DataFrame, reps: dict) -> dict[str, list]:
    """Per model, the runs whose samples the image proxies measure: the completed seeds of its chosen configuration
    that have a checkpoint (their spread is the proxies' uncertainty); else its pictured run, if it has one."""
    out = {}
    for model in models_in_order(collection):
        names = chosen.loc[(chosen["model"] == model) & (chosen["status"] == COMPLETED), "run"]
        runs = [r for r in map(collection.run, names) if r.checkpoint is not None]
        if not runs and model in reps and reps[model].run.checkpoint is not None:
            runs = [reps[model].run]
        if runs:
            out[model] = runs
    return out


def _build(collection: Collection, root: Path, z_seed: int) -> list:
    """The report of one data set's runs in `root`; returns the paper's claims as judged on them."""
    tables_dir, figures_dir, images_dir = root / "tables", root / "figures", root / "images"
    log.info("%d runs collected; writing tables", len(collection.runs))
    results = results_table(collection)
    sensitivity = sensitivity_table(collection)
    files = []
    files += _write_table(collection.table, tables_dir, "runs")
    files += _write_table(overview_table(collection), tables_dir, "overview")
    files += _write_table(problems_table(collection), tables_dir, "problems")
    if len(collection.duplicates):
        files += _write_table(collection.duplicates, tables_dir, "duplicates")
    files += _write_table(results, tables_dir, "results")
    for kind, name in (("metric", "results_metrics"), ("loss", "results_losses")):
        wide = results_wide(results, kind)
        if not wide.empty:
            files += _write_table(wide, tables_dir, name, index=True)
            files += _write_table(results_wide(results, kind, "best"), tables_dir, f"{name}_best", index=True)
    if len(per_class := per_class_table(results)):
        files += _write_table(per_class, tables_dir, "results_per_class")
    files += _write_table(sensitivity, tables_dir, "sensitivity")
    if METRIC_CARD_SOURCE.is_file():  # absent from a wheel without docs/
        shutil.copyfile(METRIC_CARD_SOURCE, root / METRIC_CARD)
        files.append(root / METRIC_CARD)
    chosen = best_configuration_runs(collection)
    verdict = verdict_table(chosen)
    if not verdict.empty:
        files += _write_table(verdict, tables_dir, "verdict", index=True)
        files += _write_table(verdict_numbers(chosen), tables_dir, "verdict_numbers")
    files += _write_table(configuration_table(collection), tables_dir, "configurations")
    ranking = objective_ranking(collection)
    if len(ranking):
        files += _write_table(ranking, tables_dir, "objective_ranking")
        files += _write_table(objective_comparisons(collection), tables_dir, "objective_comparisons")
    files += _write_table(claims_per_objective(collection, objective_directions(collection)), tables_dir,
                          "claims_per_objective")
    files += _write_table(departures_table(collection.table), tables_dir, "departures", index=True)
    files += _write_table(departures_long(collection.table), tables_dir, "departures_long")
    if not collection.history.empty:
        collection.history.to_csv(tables_dir / "history.csv", index=False)
        files.append(tables_dir / "history.csv")

    log.info("drawing figures")
    artifacts = figures.all_figures(collection, figures_dir)
    log.info("drawing image grids")
    notes: list[str] = []
    reps = grids.representatives(collection)
    models = grids.Models()
    test = grids.TestImages(collection)
    artifacts += grids.final_samples(collection, reps, models, images_dir, z_seed, notes)
    artifacts += grids.samples_over_epochs(collection, reps, images_dir, notes)
    artifacts += grids.reconstructions(reps, models, test, images_dir, notes)
    artifacts += grids.interpolations(reps, models, test, images_dir, z_seed, notes)
    image_stats = grids.image_statistics(_proxy_runs(collection, chosen, reps), models, test, z_seed)
    if len(image_stats):
        files += _write_table(image_stats, tables_dir, "image_statistics")
    elif test.problem:
        notes.append(f"Image statistics skipped: {test.problem}.")

    notes += evaluator_notes(collection) + evaluation_setting_notes(collection)
    claims = paper_claims(results, image_stats, objective_directions(collection))
    conclusions = pd.DataFrame([{"claim": c.claim, "verdict": c.verdict, **vars(e)}
                                for c in claims for e in (c.evidence or [None]) if e is not None]
                               + [{"claim": c.claim, "verdict": c.verdict} for c in claims if not c.evidence],
                               columns=["claim", "verdict", "metric", "comparison", "values", "outcome"])
    files += _write_table(conclusions, tables_dir, "conclusions")
    files += [a.path for a in artifacts]
    compute_blocks, compute_files, glance = compute.section(collection, root, _write_table)  # against compute
    files += compute_files

    blocks = _document(collection, root, artifacts, results, image_stats, claims, sensitivity, notes, files, reps,
                       compute_blocks, glance)
    (root / "report.md").write_text(to_md(blocks, root))
    (root / "report.html").write_text(to_html(blocks, "GAN vs VAE: comparison report"))
    return claims


__all__ = ["build_report", "choose_out", "default_out", "ReportError"]
