"""The paper's conclusions, each set beside what the measured numbers say.

Each claim is a list of comparisons "model A is better than model B on metric m", each a test on the seeds
(runs) of each model's chosen configuration (analysis.stats.compare_groups: an exact permutation test). A
comparison

* is "not measured" when either side lacks the metric,
* "supports" or "contradicts" the claim when the test finds the difference (p <= 0.05),
* is "not separable" when it does not,
* and is "too few seeds to tell" when no difference, however large, could reach p <= 0.05 with these seeds
  (2 vs 2 seeds: the smallest possible p is 1/3; 4 a side are needed).

Image proxies are measured per run too, so their spread is also over seeds, never over the images of one run.
Every outcome states the number of seeds. A claim's verdict only summarises its comparisons; nothing is
concluded from a metric that is absent.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.assessable import gate, gated_verdict, standing
from analysis.stats import (A_BETTER, ALPHA, B_BETTER, MINIMIZE, NOT_SEPARABLE, TOO_FEW_SEEDS, compare_groups,
                            direction_of)
from analysis.tables import SAME_DRAWS, fmt
from gvc.facts import description_of

RUN_METRIC, IMAGE_STAT = "runs", "images"
REAL_DATA = "real data"  # the image-statistics row measured on MNIST test images
IMAGE_STATS = ("gray_fraction", "speckles")
# How the evidence names what the registry does not hold (the registered metrics: gvc/facts.py `description`).
DESCRIPTIONS = {
    "test_loss": "final test −ELBO (nats)",
    "gray_fraction": "gray share of ink (blur proxy, computed here)",
    "speckles": "isolated bright pixels per image (noise proxy, computed here)",
}
OUTCOME = {A_BETTER: "supports", B_BETTER: "contradicts", NOT_SEPARABLE: "not separable",
           TOO_FEW_SEEDS: TOO_FEW_SEEDS}


def description(metric: str) -> str:
    """How a comparison's evidence names `metric`: the registry's description, else DESCRIPTIONS', else its key."""
    return description_of(metric) or DESCRIPTIONS.get(metric, metric)


@dataclass
class Value:
    """One model's values of one metric: one per run (seed) of its chosen configuration."""

    values: tuple[float, ...]
    kind: str

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    def text(self) -> str:
        spread = f"sd {fmt(float(np.std(self.values, ddof=1)), 2)}, " if self.n > 1 else ""
        per = ", images per run averaged first" if self.kind == IMAGE_STAT else ""
        return f"{fmt(self.mean, 4)} ({spread}{self.n} run{'s' if self.n != 1 else ''}{per})"


@dataclass
class Evidence:
    metric: str
    comparison: str
    values: str
    outcome: str
    seeds: str = ""  # '4 vs 4 seeds': the size of the test behind the outcome (blank where nothing was tested)


@dataclass
class Claim:
    claim: str
    question: str
    evidence: list[Evidence] = field(default_factory=list)
    verdict: str = "not measured"


class Numbers:
    """Per-model values of run metrics (the results table's per-seed `values`) and of the image statistics (one
    row per run: analysis.grids.image_statistics)."""

    def __init__(self, results: pd.DataFrame, image_stats: pd.DataFrame, directions: dict[str, str]):
        self.values: dict[tuple[str, str], Value] = {}
        self.directions = directions
        # model -> its runs' decoder likelihood ('' where unrecorded): bounds of different likelihoods are in
        # different units (nats of different densities) and are never ranked against each other.
        self.likelihoods = {str(r["model"]): str(r.get("likelihood") or "") for _, r in results.iterrows()}
        # model -> the N its metrics were evaluated at: numbers at different N are never ranked (FID falls with N)
        self.sizes = {str(r["model"]): float(r["eval_n"]) for _, r in results.iterrows()
                      if r.get("kind") == "metric" and math.isfinite(float(r.get("eval_n", math.nan)))}
        # model -> how its configuration was chosen, where it was the best of several (selection bias)
        self.selection = {str(r["model"]): str(r.get("selection") or "") for _, r in results.iterrows()
                          if str(r.get("selection") or "")}
        for _, r in results.iterrows():
            values = tuple(v for v in r["values"] if math.isfinite(v))
            if values:
                self.values[(r["model"], r["metric"])] = Value(values, RUN_METRIC)
        self.reference: dict[str, float] = {}  # real data, shown beside the image statistics for scale
        for model, rows in image_stats.groupby("model", sort=False):
            for metric in IMAGE_STATS:
                values = tuple(float(v) for v in rows[metric] if math.isfinite(v))
                if not values:
                    continue
                if model == REAL_DATA:
                    self.reference[metric] = values[0]
                else:
                    self.values[(str(model), metric)] = Value(values, IMAGE_STAT)
        self.models = {m for m, _ in self.values} | set(results["model"])
        self.standing = standing(results)  # which models and numbers may decide (analysis/assessable.py)

    def get(self, model: str, metric: str) -> Value | None:
        return self.values.get((model, metric))

    def direction(self, metric: str) -> str:
        return direction_of(metric, self.directions) or MINIMIZE


PROXY_LABELS = frozenset(DESCRIPTIONS[m] for m in IMAGE_STATS)
# Bounds in nats of the model's own decoder likelihood (the paper's: Bernoulli).
LIKELIHOOD_BOUNDS = frozenset({"test_loss", "test_nelbo", "test_nll_iw"})


def compare(numbers: Numbers, metric: str, a: str, b: str) -> Evidence | None:
    """Evidence for "a is better than b on metric"; None when neither model has the metric (nothing to say)."""
    va, vb = numbers.get(a, metric), numbers.get(b, metric)
    label = description(metric)
    if va is None and vb is None:
        return None
    if va is None or vb is None:
        return Evidence(label, f"{a} vs {b}", f"{a if va is None else b}: not measured for it", "not measured")
    values = f"{a} {va.text()}; {b} {vb.text()}"
    if metric in numbers.reference:
        values += f"; real data {fmt(numbers.reference[metric], 3)}"
    la, lb = numbers.likelihoods.get(a, ""), numbers.likelihoods.get(b, "")
    if metric in LIKELIHOOD_BOUNDS and (la or "bernoulli") != (lb or "bernoulli"):
        return Evidence(label, f"{a} vs {b}", f"{values} ({a}: {la or 'bernoulli'}, {b}: {lb or 'bernoulli'})",
                        "not comparable: bounds of different likelihoods")
    na, nb = numbers.sizes.get(a, math.nan), numbers.sizes.get(b, math.nan)
    if va.kind == RUN_METRIC and metric not in LIKELIHOOD_BOUNDS and math.isfinite(na + nb) and na != nb:
        return Evidence(label, f"{a} vs {b}", f"{values} ({a}: N = {na:,.0f}, {b}: N = {nb:,.0f})",
                        "not comparable: evaluated at different N")
    c = compare_groups(va.values, vb.values, numbers.direction(metric))
    relation = f"{a} {'<' if va.mean < vb.mean else '>' if va.mean > vb.mean else '='} {b}"
    return Evidence(label, relation, values, f"{OUTCOME[c.verdict]} ({c.text()})", c.seeds)


def verdict(evidence: list[Evidence]) -> str:
    """A claim's verdict from its comparisons' outcomes (their first words), saying what could not tell."""
    outcomes = Counter(e.outcome.split(" (")[0] for e in evidence)
    measured = [e for e in evidence if e.outcome != "not measured"]
    proxies_only = bool(measured) and all(e.metric in PROXY_LABELS for e in measured)
    sup, con, flat, few = (outcomes[o] for o in ("supports", "contradicts", "not separable", TOO_FEW_SEEDS))
    if sup + con + flat + few == 0:
        return "not measured"
    if sup + con + flat == 0:
        return (f"{TOO_FEW_SEEDS}: with these seeds no difference, however large, can reach p ≤ {ALPHA:g} (an exact "
                "test needs at least 4 seeds a side)")
    if sup and con:
        text = "mixed"
    elif sup:
        text = "supported" if not flat else "partly supported (some differences within noise)"
    elif con:
        text = "contradicted" if not flat else "partly contradicted (some differences within noise)"
    else:
        text = "not separable: differences within run-to-run noise"
    if few:
        text += f" — {few} comparison{'s' if few > 1 else ''} with too few seeds to tell"
    return text + (" — by the image proxies alone (no evaluated metric)" if proxies_only else "")


GAN_PAIRS = [("dcgan", "linear_gan")]
VAE_PAIRS = [("conv_vae", "linear_vae")]
FAMILY_PAIRS = [("linear_gan", "linear_vae"), ("dcgan", "conv_vae")]
QUALITY = ["fid", "kid_mean", "precision", "recall", "density", "coverage"]


def _claim(claim: str, question: str, numbers: Numbers, pairs: list[tuple[str, str]], metrics: list[str]) -> Claim:
    c = Claim(claim, question)
    absent = [(a, b) for a, b in pairs if a not in numbers.models or b not in numbers.models]
    for a, b in absent:  # one line per pair, not one per metric, when a model has no runs at all
        missing = " and ".join(m for m in (a, b) if m not in numbers.models)
        c.evidence.append(Evidence("any", f"{a} vs {b}", f"no {missing} runs", "not measured"))
    for metric in metrics:
        for a, b in pairs:
            e = compare(numbers, metric, a, b) if (a, b) not in absent else None
            if e is not None:
                c.evidence.append(gate(e, metric, a, b, numbers.standing))
    c.verdict = gated_verdict(c.evidence, verdict)
    sizes = list(dict.fromkeys(e.seeds for e in c.evidence if e.seeds))
    if sizes and c.verdict != "not measured":  # every claim says how many seeds its tests had
        c.verdict += f" — on {' / '.join(sizes)}"
    chosen = [m for m in dict.fromkeys(x for pair in pairs for x in pair) if SAME_DRAWS in numbers.selection.get(m, "")]
    if chosen and c.verdict != "not measured":  # name the selection the numbers could not be freed of
        c.verdict += " — " + "; ".join(f"{m}: {numbers.selection[m]}" for m in chosen)
    return c


def paper_claims(results: pd.DataFrame, image_stats: pd.DataFrame, directions: dict[str, str]) -> list[Claim]:
    numbers = Numbers(results, image_stats, directions)
    others = sorted(m for m in numbers.models if m != "dcgan") or ["linear_gan", "linear_vae", "conv_vae"]
    return [
        _claim("DCGAN produces the sharpest images.",
               "Is DCGAN better than every other model on fidelity metrics and the blur proxy?",
               numbers, [("dcgan", m) for m in others], ["fid", "kid_mean", "precision", "density", "gray_fraction"]),
        _claim("The linear models are noisy.",
               "Do the linear models have more isolated specks and lower precision than their convolutional "
               "counterparts?", numbers, GAN_PAIRS + VAE_PAIRS, ["speckles", "precision"]),
        _claim("Convolution helps.",
               "Is each convolutional model better than its linear counterpart (DCGAN vs linear GAN, conv VAE vs "
               "linear VAE)?", numbers, GAN_PAIRS + VAE_PAIRS,
               QUALITY + ["test_nll_iw", "test_nelbo", "test_loss"]),
        _claim("VAEs are blurrier than GANs.",
               "Does each GAN have less gray ink (the blur proxy), and better FID and precision, than the VAE of "
               "the same architecture type?", numbers, FAMILY_PAIRS, ["gray_fraction", "fid", "precision"]),
    ]


# -- the claims per objective ---------------------------------------------------------------------------------
def _paper_label(family: str) -> str:
    from gvc.training.losses import PAPER_LOSS

    return PAPER_LOSS.get(family, "")


def claims_per_objective(collection, directions: dict[str, str]) -> pd.DataFrame:
    """Each of the paper's claims judged once per objective: the runs of one family trained with that objective
    against the other family trained with the paper's objective (e.g. "VAEs are blurrier" with β = 0.5 VAEs
    against the paper's GANs; "DCGAN is sharpest" with hinge GANs against the paper's VAEs). Within each
    comparison a model's numbers are those of its best configuration (results_table). Run metrics only: the
    image proxies are computed for the report's representative runs, not per objective.

    One row per (family, objective, claim): verdict and the evidence in one line each.
    """
    from analysis.collect import subset
    from analysis.tables import results_table

    t = collection.table
    if "objective_label" not in t.columns:
        return pd.DataFrame(columns=["family", "objective", "claim", "verdict", "evidence"])
    labels = t["objective_label"].fillna("")
    rows = []
    for family, other in (("gan", "vae"), ("vae", "gan")):
        mine = t[(t["family"] == family) & (labels != "")]
        baseline = t[(t["family"] == other) & (labels == _paper_label(other))]
        for label in dict.fromkeys(mine["objective_label"]):
            runs = list(mine.loc[mine["objective_label"] == label, "run"]) + list(baseline["run"])
            results = results_table(subset(collection, runs))
            for c in paper_claims(results, pd.DataFrame(columns=["model"]), directions):
                measured = [e for e in c.evidence if e.outcome != "not measured"]
                rows.append({"family": family, "objective": label, "claim": c.claim, "verdict": c.verdict,
                             "evidence": "; ".join(f"{e.metric}: {e.comparison} ({e.outcome})" for e in measured)})
    return pd.DataFrame(rows, columns=["family", "objective", "claim", "verdict", "evidence"])
