"""Verdicts per budget: "A is better than B on a metric" answered at every budget both reached, crossovers named.

Pure functions over a tidy DataFrame with the columns `arm` (which side: the names passed as a and b), `seed`,
`budget` (a point of the runs' common budget unit) and `value` (the metric there). A budget is judged only where
every seed both arms share has a value on both sides. How one budget's paired per-seed values are judged is
pluggable (`compare`): `seed_agreement` counts the seeds that agree ("k of n seeds agree") and decides only when
all do; `paired_test` (the report's) decides by analysis/stats.py's compare_groups paired by seed, with the seeds'
agreement beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats import A_BETTER, B_BETTER, MINIMIZE, better, compare_groups, pairing_can_tell
from analysis.tables import plain

A, B = "a", "b"


@dataclass(frozen=True)
class Comparison:
    winner: str | None  # A, B, or None (undecided)
    agree: int  # seeds on the winner's side (on the larger side when undecided)
    n: int  # seeds measured on both sides
    text: str  # e.g. "3 of 3 seeds agree"
    leader: str | None = None  # the side every seed has better, decided or not (None: the seeds split)
    why: str = ""  # why an undecided budget is undecided, e.g. "too few seeds to tell (3 vs 3 seeds)"


Compare = Callable[[np.ndarray, np.ndarray, str], Comparison]


def seed_agreement(a: np.ndarray, b: np.ndarray, direction: str) -> Comparison:
    """Paired by seed: A wins when every seed has A better, B when every seed has B better; else undecided."""
    a_wins = sum(better(x, y, direction) for x, y in zip(a, b))
    b_wins = sum(better(y, x, direction) for x, y in zip(a, b))
    n = len(a)
    winner = A if n and a_wins == n else B if n and b_wins == n else None
    agree = max(a_wins, b_wins)
    return Comparison(winner, agree, n, f"{agree} of {n} seeds agree", leader=winner,
                      why="" if winner else "the seeds split")


def paired_test(a: np.ndarray, b: np.ndarray, direction: str) -> Comparison:
    """compare_groups over the seeds both sides share: a sign-flip test of the per-seed differences where it can
    reach ALPHA (six seeds or more), else the two-group permutation test (4 vs 4 can tell); A or B when it
    separates them, else undecided; the text names the test, gives p, why it is undecided, and the agreement."""
    agreement = seed_agreement(a, b, direction)
    paired = pairing_can_tell(len(a))
    test = compare_groups(a, b, direction, paired=paired)
    winner = {A_BETTER: A, B_BETTER: B}.get(test.verdict)
    why = "" if winner else f", {test.verdict}"
    name = "paired sign-flip test" if paired else "permutation test"
    reason = "" if winner else f"{test.verdict}: {name} over {len(a)} vs {len(b)} seeds"
    return Comparison(winner, agreement.agree, agreement.n, f"{name} p = {test.p:.2g}{why}; {agreement.text}",
                      leader=agreement.winner, why=reason)


def budget_verdicts(frame: pd.DataFrame, direction: str, compare: Compare = seed_agreement) -> pd.DataFrame:
    """One row per budget that every shared seed reached on both sides, in budget order: budget, winner (A, B or
    None), agree, n, text, each side's median and the seeds paired."""
    columns = ["budget", "winner", "agree", "n", "text", "median_a", "median_b", "seeds", "leader", "why"]
    frame = frame.dropna(subset=["value"])
    seeds = sorted(set(frame.loc[frame["arm"] == A, "seed"]) & set(frame.loc[frame["arm"] == B, "seed"]))
    if not seeds:
        return pd.DataFrame(columns=columns)
    table = frame[frame["seed"].isin(seeds)].pivot_table(index=["budget", "seed"], columns="arm", values="value",
                                                         aggfunc="first")
    rows = []
    for budget, part in table.groupby(level="budget", sort=True):
        if A not in part or B not in part or len(part) < len(seeds) or part[[A, B]].isna().any().any():
            continue  # a seed of one side did not reach this budget (or was not measured there)
        result = compare(part[A].to_numpy(), part[B].to_numpy(), direction)
        rows.append({"budget": float(budget), "winner": result.winner, "agree": result.agree, "n": result.n,
                     "text": result.text, "median_a": float(part[A].median()), "median_b": float(part[B].median()),
                     "seeds": ", ".join(_seed_text(seed) for seed in seeds), "leader": result.leader,
                     "why": result.why})
    return pd.DataFrame(rows, columns=columns)


def _seed_text(seed: float) -> str:
    return str(int(seed)) if float(seed).is_integer() else str(seed)  # never rounded: 1234 stays 1234


@dataclass(frozen=True)
class Crossover:
    before: str  # the winner up to `low`
    after: str  # the winner from `high` on
    low: float  # the last budget `before` won
    high: float  # the first budget `after` won
    agree: int  # seeds agreeing at `high`
    n: int


def crossovers(verdicts: pd.DataFrame, side: str = "winner") -> list[Crossover]:
    """Where the decided winner (side="winner"), or the side every seed has better (side="leader"), changes from
    one judged budget to a later one (budgets in between without one widen the interval, they do not end it)."""
    out, last = [], None
    for budget, who, agree, n in zip(verdicts["budget"], verdicts[side], verdicts["agree"], verdicts["n"]):
        if not _is_side(who):
            continue
        if last is not None and who != last[1]:
            out.append(Crossover(last[1], who, last[0], float(budget), int(agree), int(n)))
        last = (float(budget), who)
    return out


def _is_side(who: object) -> bool:
    return who in (A, B)


def _unit_text(value: float, unit: str) -> str:
    return f"{plain(value)} {UNIT_WORDS.get(unit, unit)}"


UNIT_WORDS = {"cpu_s": "CPU-s", "train_s": "s of training", "steps": "steps", "images": "images"}


def describe(verdicts: pd.DataFrame, a: str, b: str, metric: str, direction: str, unit: str) -> str:
    """One sentence: the claim "a better than b on metric" across the budgets, with any crossover named, ending
    with the seeds paired."""
    if verdicts.empty:
        return f"{a} vs {b} on {metric}: no budget that both reached (or no seed measured on both sides)"
    span = f"from {_unit_text(verdicts['budget'].iloc[0], unit)} to {_unit_text(verdicts['budget'].iloc[-1], unit)}"
    seeds = f"; seeds {verdicts['seeds'].iloc[0]}" if "seeds" in verdicts else ""
    names = {A: a, B: b}
    decided = verdicts[verdicts["winner"].map(_is_side)]
    if decided.empty:
        leaning = _leaning(verdicts, a, b, metric, direction, unit)
        return f"{a} vs {b} on {metric}: undecided at every budget {span} ({_reasons(verdicts)}){leaning}{seeds}"
    found = crossovers(verdicts)
    if not found:
        first = decided["winner"].iloc[0]
        winner, loser = names[first], names[B if first == A else A]
        agreement = ", ".join(sorted(set(decided["text"])))
        if len(decided) == len(verdicts):
            return f"{winner} better than {loser} on {metric} holds at every budget {span} ({agreement}){seeds}"
        return (f"{winner} better than {loser} on {metric} where decided ({len(decided)} of the "
                f"{len(verdicts)} budgets {span}: {agreement}); undecided at the others{seeds}")
    moved = "falls below" if direction == MINIMIZE else "rises above"
    text_at = dict(zip(verdicts["budget"], verdicts["text"]))
    parts = [f"{names[c.after]}'s {metric} {moved} {names[c.before]}'s between {_unit_text(c.low, unit)} and "
             f"{_unit_text(c.high, unit)}; {text_at[c.high]}" for c in found]
    return "; then ".join(parts) + seeds


def _reasons(verdicts: pd.DataFrame) -> str:
    """Each distinct reason the budgets are undecided, once, in budget order."""
    column = verdicts["why"] if "why" in verdicts and verdicts["why"].astype(bool).any() else verdicts["text"]
    return "; ".join(dict.fromkeys(str(v) for v in column if v))


def _leaning(verdicts: pd.DataFrame, a: str, b: str, metric: str, direction: str, unit: str) -> str:
    """For budgets no test decides: where every seed has the same side better, and where that side changes. A
    direction every seed shares is what few seeds can say; it is reported as that, never as a decided verdict."""
    if "leader" not in verdicts:
        return ""
    led = verdicts[verdicts["leader"].map(_is_side)]
    if led.empty:
        return "; the seeds split at every budget"
    names = {A: a, B: b}
    n = int(led["n"].iloc[0])
    found = crossovers(verdicts, side="leader")
    if found:
        moved = "falls below" if direction == MINIMIZE else "rises above"
        parts = [f"{names[c.after]}'s {metric} {moved} {names[c.before]}'s between {_unit_text(c.low, unit)} and "
                 f"{_unit_text(c.high, unit)}" for c in found]
        return f"; with all {n} seeds agreeing on each side, " + "; then ".join(parts)
    leader = led["leader"].iloc[0]
    where = ("every budget" if len(led) == len(verdicts)
             else f"{len(led)} of the {len(verdicts)} budgets (the seeds split at the others)")
    first, last = _unit_text(led["budget"].iloc[0], unit), _unit_text(led["budget"].iloc[-1], unit)
    span = f"at {first}" if first == last else f"from {first} to {last}"
    return f"; all {n} seeds have {names[leader]} better than {names[B if leader == A else A]} at {where}, {span}"
