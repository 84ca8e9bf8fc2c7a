"""Quality against compute in the report: curves from evals.csv, the claims at every budget, expected best of n."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import budgets, collect, compute, curves
from analysis.budgets import A, B, Comparison, Crossover
from gvc.trial import rundir
BUDGETS = [1.0, 2.0, 4.0, 8.0]


def tidy(a_values: list[list[float]], b_values: list[list[float]], budgets_: list[float] = BUDGETS) -> pd.DataFrame:
    """One row per (arm, seed, budget): a_values[seed][k] is side A's value at budgets_[k]."""
    rows = [{"arm": arm, "seed": seed, "budget": budget, "value": value}
            for arm, per_seed in ((A, a_values), (B, b_values))
            for seed, values in enumerate(per_seed) for budget, value in zip(budgets_, values)]
    return pd.DataFrame(rows)


# FIDs: A starts worse and ends better; the curves cross between budgets 2 and 4 for every seed.
A_FID = [[100, 80, 40, 20], [105, 78, 42, 21], [98, 82, 39, 19]]
B_FID = [[60, 50, 45, 44], [62, 52, 46, 43], [61, 49, 44, 45]]


def test_a_pair_whose_curves_cross_at_a_known_budget_is_reported_crossing_there():
    verdicts = budgets.budget_verdicts(tidy(A_FID, B_FID), "minimize")
    assert list(verdicts["winner"]) == [B, B, A, A] and list(verdicts["text"]) == ["3 of 3 seeds agree"] * 4
    assert budgets.crossovers(verdicts) == [Crossover(B, A, 2.0, 4.0, 3, 3)]
    sentence = budgets.describe(verdicts, "dcgan", "linear_gan", "fid", "minimize", "cpu_s")
    assert sentence == "dcgan's fid falls below linear_gan's between 2 CPU-s and 4 CPU-s; 3 of 3 seeds agree; seeds 0, 1, 2"


def test_a_seed_that_disagrees_leaves_its_budget_undecided_and_widens_the_crossing():
    a = [row[:] for row in A_FID]
    a[1][2] = 50  # seed 1 at budget 4: A is worse there
    verdicts = budgets.budget_verdicts(tidy(a, B_FID), "minimize")
    assert list(verdicts["winner"].fillna("-")) == [B, B, "-", A]
    assert verdicts["text"].iloc[2] == "2 of 3 seeds agree"
    assert budgets.crossovers(verdicts) == [Crossover(B, A, 2.0, 8.0, 3, 3)]


def test_a_claim_that_holds_throughout_says_so_with_its_budget_range():
    frame = tidy(A_FID, B_FID)
    verdicts = budgets.budget_verdicts(frame[frame["budget"] <= 2], "minimize")  # before the crossing: B wins
    assert budgets.crossovers(verdicts) == []
    answer = budgets.describe(verdicts, "dcgan", "linear_gan", "fid", "minimize", "steps")
    assert answer == ("linear_gan better than dcgan on fid holds at every budget from 1 steps to 2 steps "
                      "(3 of 3 seeds agree); seeds 0, 1, 2")


def test_only_budgets_every_shared_seed_reached_on_both_sides_are_judged():
    frame = tidy(A_FID, B_FID)
    frame = frame[~((frame["arm"] == B) & (frame["seed"] == 2) & (frame["budget"] == 8.0))]  # one B seed stopped early
    extra = pd.DataFrame([{"arm": A, "seed": 7, "budget": 1.0, "value": 1.0}])  # a seed only A has: not paired
    verdicts = budgets.budget_verdicts(pd.concat([frame, extra]), "minimize")
    assert list(verdicts["budget"]) == [1.0, 2.0, 4.0] and set(verdicts["n"]) == {3}


def test_the_per_budget_comparison_is_pluggable():
    calls = []

    def always_undecided(a: np.ndarray, b: np.ndarray, direction: str) -> Comparison:
        calls.append((len(a), direction))
        return Comparison(None, 0, len(a), "a test of its own")

    verdicts = budgets.budget_verdicts(tidy(A_FID, B_FID), "minimize", compare=always_undecided)
    assert calls == [(3, "minimize")] * 4 and verdicts["winner"].isna().all()
    assert "undecided at every budget" in budgets.describe(verdicts, "x", "y", "fid", "minimize", "images")


# Six seeds: a paired sign-flip test can reach p = 2 / 2^6 = 0.031 <= 0.05 when every seed agrees.
A_FID_6 = [*A_FID, [101, 79, 41, 20], [99, 81, 40, 22], [103, 77, 43, 18]]
B_FID_6 = [*B_FID, [59, 51, 45, 46], [63, 50, 47, 44], [60, 53, 44, 42]]


def test_the_paired_test_decides_a_budget_only_when_the_shared_seeds_can_tell():
    six = budgets.budget_verdicts(tidy(A_FID_6, B_FID_6), "minimize", compare=budgets.paired_test)
    assert list(six["winner"]) == [B, B, A, A]
    assert six["text"].iloc[0] == "paired sign-flip test p = 0.031; 6 of 6 seeds agree"
    # Four pairs cannot reach p <= 0.05 paired (2 / 2^4), but the two-group test over them can (4 vs 4: 0.029).
    four = budgets.budget_verdicts(tidy(A_FID_6[:4], B_FID_6[:4]), "minimize", compare=budgets.paired_test)
    assert list(four["winner"]) == [B, B, A, A]
    assert four["text"].iloc[0] == "permutation test p = 0.029; 4 of 4 seeds agree"
    three = budgets.budget_verdicts(tidy(A_FID, B_FID), "minimize", compare=budgets.paired_test)
    assert three["winner"].isna().all()  # 3 of 3 agree, but 3 vs 3 cannot reach p <= 0.05 (its smallest: 0.1)
    assert set(three["text"]) == {"permutation test p = 0.1, too few seeds to tell; 3 of 3 seeds agree"}
    # Undecided, but the direction every seed shares, and where it changes, is still said (never as decided).
    assert budgets.describe(three, "dcgan", "linear_gan", "fid", "minimize", "cpu_s") == (
        "dcgan vs linear_gan on fid: undecided at every budget from 1 CPU-s to 8 CPU-s (too few seeds to tell: "
        "permutation test over 3 vs 3 seeds); with all 3 seeds agreeing on each side, dcgan's fid falls below "
        "linear_gan's between 2 CPU-s and 4 CPU-s; seeds 0, 1, 2")


def test_undecided_budgets_say_which_side_every_seed_has_better_and_where_the_seeds_split():
    a = [row[:] for row in A_FID]
    a[1][1] = 40  # seed 1 at budget 2: A already better there, the other seeds not: the seeds split
    frame = tidy(a, B_FID)
    early = budgets.budget_verdicts(frame[frame["budget"] <= 2], "minimize", compare=budgets.paired_test)
    assert list(early["leader"].fillna("-")) == [B, "-"]
    assert budgets.describe(early, "dcgan", "linear_gan", "fid", "minimize", "steps").endswith(
        "; all 3 seeds have linear_gan better than dcgan at 1 of the 2 budgets (the seeds split at the others), "
        "at 1 steps; seeds 0, 1, 2")
    split = budgets.budget_verdicts(frame[frame["budget"] == 2], "minimize", compare=budgets.paired_test)
    assert budgets.describe(split, "x", "y", "fid", "minimize", "steps").endswith(
        "; the seeds split at every budget; seeds 0, 1, 2")


def test_the_expected_best_of_n_trials_matches_a_hand_computed_case():
    # Three trials, higher is better: 0.3, 0.9, 0.5 at 10, 20 and 30 CPU-s.
    # n = 1: the mean, 1.7 / 3; n = 2: the pairs' maxima 0.9, 0.5, 0.9, so 2.3 / 3; n = 3: 0.9.
    curve = compute.expected_best_curve(np.array([0.3, 0.9, 0.5]), np.array([10.0, 20.0, 30.0]), "maximize")
    assert curve["expected_best"].tolist() == pytest.approx([1.7 / 3, 2.3 / 3, 0.9])
    assert curve["expected_cpu_s"].tolist() == pytest.approx([20.0, 40.0, 60.0])  # n x the mean trial's
    lower = compute.expected_best_curve(np.array([0.3, 0.9, 0.5]), np.array([10.0, 20.0, 30.0]), "minimize")
    assert lower["expected_best"].tolist() == pytest.approx([1.7 / 3, 1.1 / 3, 0.3])  # pairs' minima 0.3, 0.3, 0.5


# -- the report's section, from run directories ---------------------------------------------------------------
def fake_run(path, model: str, family: str, seed: int, fids: list[float], cpu_per_point: float = 10.0) -> None:
    """A completed run directory evaluated along training at BUDGETS (in CPU-s) and at the end (budget 16)."""
    rows = [{"point": p, "final": 0, "n_samples": 200, "epoch": 1, "step": 10 * p, "images": 1280 * p,
             "train_s": p, "cpu_s": p + 0.01 * seed, "eval_s": 0.5, "fid": f, "precision": 1 / f,
             "floor_fid": 5.0, "noise_fid": 900.0} for p, f in zip(BUDGETS, fids[:-1])]
    rows.append({**rows[-1], "point": 16.0, "final": 1, "step": 160, "images": 1280 * 16, "cpu_s": 16.0,
                 "fid": fids[-1], "precision": 1 / fids[-1]})
    rows.append({**rows[-1], "n_samples": 1000, "fid": fids[-1] / 2})
    rundir.write_evals(path, rows)
    best = min(rows[:-1], key=lambda r: r["fid"])
    rundir.write_summary(path, {
        "model": model, "family": family, "data": "mnist", "status": "completed", "seed": seed,
        "config": {"model": {"name": model}, "trainer": {"seed": seed, "cpu_budget_s": 16.0}},
        "metrics": {"fid": fids[-1] / 2, "floor_fid": 3.0, "noise_fid": 1000.0},
        "objective": {"name": "fid", "direction": "minimize", "value": fids[-1] / 2},
        "steps": 160, "train_cpu_s": 16.0 + seed, "train_time_s": 16.0,
        "along": {"unit": "cpu_s", "budget": 16.0, "points": BUDGETS, "n_samples": 200,
                  "best": {"value": best["fid"], "step": best["step"]}}})


def crossing(tmp_path, a_fids: list[list[float]], b_fids: list[list[float]]):
    for seed, (a, b) in enumerate(zip(a_fids, b_fids)):
        fake_run(tmp_path / f"dcgan_{seed}", "dcgan", "gan", seed, [*a, 10.0])
        fake_run(tmp_path / f"linear_gan_{seed}", "linear_gan", "gan", seed, [*b, 40.0])
    return collect([tmp_path])


@pytest.fixture()
def crossing_runs(tmp_path):
    return crossing(tmp_path, A_FID, B_FID)


@pytest.fixture()
def six_seed_crossing_runs(tmp_path):
    return crossing(tmp_path, A_FID_6, B_FID_6)


def fid_answer(collection) -> str:
    sentences, _ = compute.claims_per_budget(collection)
    fid = sentences[(sentences["a"] == "dcgan") & (sentences["b"] == "linear_gan") & (sentences["metric"] == "fid")]
    return fid["answer"].iloc[0]


def test_the_report_names_the_crossing_of_two_models_evaluated_along_training(six_seed_crossing_runs):
    sentences, long = compute.claims_per_budget(six_seed_crossing_runs)
    fid = sentences[(sentences["a"] == "dcgan") & (sentences["b"] == "linear_gan") & (sentences["metric"] == "fid")]
    assert fid["answer"].iloc[0] == ("dcgan's fid falls below linear_gan's between 2 CPU-s and 4 CPU-s; "
                                     "paired sign-flip test p = 0.031; 6 of 6 seeds agree; seeds 0, 1, 2, 3, 4, 5")
    assert fid["budgets"].iloc[0] == 5  # the four points and the end (16 CPU-s), which every run reached
    assert set(long["winner"]) == {"dcgan", "linear_gan"}


def test_the_reports_per_budget_verdict_is_the_paired_test_with_the_seeds_agreement_beside_it(crossing_runs):
    # Three seeds all agree at every budget, yet no test over 3 vs 3 seeds can separate the models.
    assert fid_answer(crossing_runs) == (
        "dcgan vs linear_gan on fid: undecided at every budget from 1 CPU-s to 16 CPU-s (too few seeds to tell: "
        "permutation test over 3 vs 3 seeds); with all 3 seeds agreeing on each side, dcgan's fid falls below "
        "linear_gan's between 2 CPU-s and 4 CPU-s; seeds 0, 1, 2")


def test_curves_are_the_seeds_median_and_spread_at_each_point_at_the_cheap_n(crossing_runs):
    frame = curves.along_frame(crossing_runs)
    assert set(frame["n_samples"]) == {200}  # the full-N end row is the final number, not a curve point
    summary = curves.seed_summary(frame[frame["model"] == "dcgan"], "fid", "cpu_s")
    first = summary[summary["position"] == 1.0].iloc[0]
    assert (first["median"], first["low"], first["high"], first["seeds"]) == (100, 98, 105, 3)
    assert first["x"] == pytest.approx(1.01)  # the seeds' median CPU-seconds at that point


def test_the_compute_section_draws_a_figure_per_compute_axis_and_shows_best_and_final(crossing_runs, tmp_path):
    written = []

    def write_table(frame, directory, name):
        written.append(name)
        return [directory / f"{name}.csv"]

    blocks, files, glance = compute.section(crossing_runs, tmp_path / "report", write_table)
    assert {p.name for p in files if p.suffix == ".png"} == {"quality_vs_cpu_s.png", "quality_vs_images.png",
                                                             "expected_best_vs_compute.png", "fid_vs_compute.png"}
    # The first screen: FID against compute and the FID pairs answered along training.
    assert [type(b).__name__ for b in glance] == ["Image", "Text", "Table"]
    assert glance[0].artifact.path.name == "fid_vs_compute.png"
    pairs = glance[2].frame.set_index("pair")["answer along training"]
    assert "dcgan's fid falls below linear_gan's between 2 CPU-s and 4 CPU-s" in pairs["dcgan vs linear_gan"]
    assert all((tmp_path / "report" / "figures" / p.name).is_file() for p in files if p.suffix == ".png")
    assert {"claims_per_budget", "best_and_final", "expected_best_vs_compute"} <= set(written)
    best = compute.best_and_final(crossing_runs).set_index("model")
    assert best.loc["dcgan", "final (full N)"] == "5" and best.loc["dcgan", "best point (cheap N)"] == "10"


@pytest.mark.slow  # a whole report (figures, tables) of six fake runs
def test_the_report_has_a_compute_section_naming_the_crossing(six_seed_crossing_runs, tmp_path):
    from analysis import build_report

    report = build_report([tmp_path], tmp_path / "report")
    text = (report / "report.md").read_text()
    compute_part = text[text.index("## Compute"):text.index("## Notes")]
    first_screen = text[text.index("## At a glance"):text.index("## How these runs depart")]
    assert "figures/fid_vs_compute.png" in first_screen and "falls below linear_gan's" in first_screen
    assert ("dcgan's fid falls below linear_gan's between 2 CPU-s and 4 CPU-s; paired sign-flip test p = 0.031; "
            "6 of 6 seeds agree; seeds 0, 1, 2, 3, 4, 5") in compute_part
    assert "figures/quality_vs_cpu_s.png" in compute_part and (report / "tables" / "claims_per_budget.csv").is_file()


def test_early_rank_measures_how_well_a_points_order_predicts_the_final_order(tmp_path):
    from analysis import early_rank

    # Six GAN trials; final FIDs (fake_run halves the last value) 10, 20, ..., 60 for trials 0..5. At 1 CPU-s their
    # order is reversed, at 2 CPU-s it is the final one, at 4 and 8 CPU-s each pair (0, 1), (2, 3), (4, 5) swaps.
    for i in range(6):
        final = 20.0 * (i + 1)
        fake_run(tmp_path / f"t{i}", "linear_gan" if i % 2 else "dcgan", "gan", i,
                 [600.0 - 10 * i, 300.0 + 10 * i, 200.0 + 10 * (i ^ 1), 100.0 + 10 * (i ^ 1), final])
    ranks = early_rank.rank_agreement(early_rank.early_rank_frame(collect([tmp_path]))).set_index("point")
    assert ranks.loc[1.0, "kendall_tau"] == pytest.approx(-1.0) and ranks.loc[2.0, "kendall_tau"] == pytest.approx(1.0)
    assert ranks.loc[4.0, "kendall_tau"] == pytest.approx(0.6)  # 3 of the 15 pairs swapped: (12 - 3) / 15
    assert set(ranks["trials"]) == {6} and set(ranks["keep"]) == {2}
    # Keeping the best third at 1 CPU-s keeps the two worst trials (finals 50, 60); at 2 CPU-s the best (10).
    assert (ranks.loc[1.0, "kept_best_final"], ranks.loc[1.0, "kept_the_best"]) == (50.0, False)
    assert (ranks.loc[2.0, "kept_best_final"], ranks.loc[2.0, "kept_the_best"]) == (10.0, True)
    assert ranks.loc[4.0, "kept_the_best"]  # the swap stays inside the kept pair
    # Compute: 6 trials to the point, 2 of them on to the budget (16 CPU-s), against 6 to the budget.
    assert ranks.loc[2.0, "cost_share"] == pytest.approx((6 * 2 + 2 * 14) / (6 * 16))
