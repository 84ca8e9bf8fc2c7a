"""The statistics behind the report's claims (issue 28): runs counted once, rows that say what they pool, tests
that fit the number of seeds, uncertainty from runs, the selection named, objectives compared, N stated.

Hand-made run directories only (tests/test_analysis.py's make_run): fast, and every number known."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from omegaconf import OmegaConf

from analysis.collect import collect
from analysis.tables import configuration_table, results_table
from gvc.trial import rundir
from tests.test_analysis import make_run


def small_sweep(root, fids=((0, 12.0), (1, 14.0)), lrs=(2e-4, 4e-4)):
    """DCGAN at two learning rates x seeds: FID = base + 10 per lr step."""
    for j, lr in enumerate(lrs):
        for seed, fid in fids:
            make_run(root / f"{j}{seed}_dcgan", "dcgan", lr=lr, seed=seed,
                     metrics={"fid": fid + 10 * j, "floor_fid": 1.5, "noise_fid": 400.0})
    return root


def set_config(path, key, value):
    config = OmegaConf.load(path / rundir.HYDRA_CONFIG)
    OmegaConf.update(config, key, value, force_add=True)
    OmegaConf.save(config, path / rundir.HYDRA_CONFIG)


# -- 1. one run counts once ----------------------------------------------------------------------------------
def test_two_copies_of_one_sweep_give_the_numbers_of_one(tmp_path):
    sweep = small_sweep(tmp_path / "grid")
    shutil.copytree(sweep, tmp_path / "copy")
    one, two = collect([sweep]), collect([sweep, tmp_path / "copy"])
    pd.testing.assert_frame_equal(results_table(one).drop(columns="best_run"),
                                  results_table(two).drop(columns="best_run"))
    assert list(configuration_table(two)["seeds"]) == [2, 2]
    assert len(two.duplicates) == 4 and set(two.duplicates["same_metrics"]) == {"yes"}
    assert all(str(tmp_path / "copy") in d for d in two.duplicates["run_dir"])


def test_reruns_that_differ_only_in_execution_keys_are_one_run(tmp_path):
    for i, (key, value) in enumerate([("trainer.threads", 1), ("trainer.threads", 2), ("data.root", "/elsewhere")]):
        run = make_run(tmp_path / f"run{i}", "dcgan", seed=0, metrics={"fid": 12.0})
        set_config(run, key, value)
    make_run(tmp_path / "seed1", "dcgan", seed=1, metrics={"fid": 13.0})
    c = collect([tmp_path])
    assert sorted(c.table["seed"]) == [0, 1]
    assert len(c.duplicates) == 2 and set(c.duplicates["duplicate_of"]) == {"run0"}


def test_a_run_of_another_configuration_or_seed_is_no_duplicate(tmp_path):
    make_run(tmp_path / "a", "dcgan", seed=0, metrics={"fid": 12.0})
    make_run(tmp_path / "b", "dcgan", seed=0, lr=1e-3, metrics={"fid": 12.0})
    make_run(tmp_path / "c", "dcgan", seed=1, metrics={"fid": 12.0})
    assert collect([tmp_path]).duplicates.empty


# -- 2. every row is one configuration or one run, and says which --------------------------------------------
def test_results_rows_name_their_configuration_and_the_best_run_row_is_one_run(tmp_path):
    root = tmp_path / "sweep"
    make_run(root / "a0", "dcgan", lr=2e-4, seed=0, metrics={"fid": 10.0, "precision": 0.5})
    make_run(root / "a1", "dcgan", lr=2e-4, seed=1, metrics={"fid": 12.0, "precision": 0.6})
    make_run(root / "b0", "dcgan", lr=4e-4, seed=0, metrics={"fid": 20.0, "precision": 0.9})  # best precision
    results = results_table(collect([root])).set_index("metric")
    assert results.loc["fid", "configuration"] == "optimizer.lr=0.0002" and results.loc["fid", "configurations"] == 2
    assert results.loc["fid", "values"] == (10.0, 12.0) and results.loc["fid", "seeds"] == (0.0, 1.0)
    # one run: a0 (best FID, the objective) for every metric, never b0's precision in a0's row
    assert results.loc["precision", "best"] == 0.5 and set(results["best_run"]) == {"a0"}
    from analysis.tables import results_wide

    assert results_wide(results.reset_index(), "metric", "best").loc["dcgan", "run"] == "a0"


def test_the_results_caption_says_it_is_one_configurations_seeds(tmp_path):
    from analysis import build_report

    root = small_sweep(tmp_path / "grid")
    md = (build_report([root], tmp_path / "report") / "report.md").read_text()
    assert "seeds and trials together" not in md
    assert ("dcgan: optimizer.lr=0.0002 (best of 2 configurations, selected and reported on the same draws; "
            "2 seeds)") in md


# -- 3. a test that fits the number of seeds ------------------------------------------------------------------
def test_compare_groups_exact_permutation_p_and_its_smallest_possible_value():
    from scipy import stats as sps

    from analysis.stats import A_BETTER, TOO_FEW_SEEDS, compare_groups

    two = compare_groups([10.0, 10.1], [10.5, 10.6], "minimize")
    assert two.verdict == TOO_FEW_SEEDS and two.min_p == pytest.approx(1 / 3) and two.p == pytest.approx(1 / 3)
    assert two.welch_p < 0.05  # Welch's t alone would have called it: the permutation test refuses with 2 seeds
    assert compare_groups([1.0, 2.0, 3.0], [7.0, 8.0, 9.0], "minimize").verdict == TOO_FEW_SEEDS  # min p = 0.1
    four = compare_groups([10.0, 10.1, 10.05, 10.02], [10.5, 10.6, 10.55, 10.52], "minimize")
    assert four.verdict == A_BETTER and four.p == pytest.approx(2 / 70) and four.seeds == "4 vs 4 seeds"
    welch = sps.ttest_ind([10.0, 10.1, 10.05, 10.02], [10.5, 10.6, 10.55, 10.52], equal_var=False)
    assert four.welch_p == pytest.approx(welch.pvalue) and four.ci[0] < four.effect < four.ci[1] < 0
    assert compare_groups([10.0, 10.1, 10.05, 10.02], [10.5, 10.6, 10.55, 10.52], "maximize").verdict == "b better"
    paired = compare_groups([1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7.1], "minimize", paired=True)
    assert paired.verdict == A_BETTER and paired.p == pytest.approx(2 / 64) and paired.seeds == "6 paired seeds"
    assert compare_groups([1, 2, 3, 4, 5], [2, 3, 4, 5, 6], "minimize", paired=True).verdict == TOO_FEW_SEEDS
    assert compare_groups([], [1.0], "minimize").verdict == "not measured"


def claim_of(root, text):
    from analysis.conclusions import paper_claims
    from analysis.tables import objective_directions

    c = collect([root])
    results = results_table(c)
    return next(x for x in paper_claims(results, pd.DataFrame(columns=["model"]), objective_directions(c))
                if x.claim == text)


@pytest.mark.parametrize("seeds, verdict", [(2, "too few seeds to tell"), (4, "supported")])
def test_two_seeds_a_side_with_a_clear_small_gap_are_too_few_seeds_four_are_a_verdict(tmp_path, seeds, verdict):
    for seed in range(seeds):  # DCGAN FID 10.0x, conv VAE 10.5x: a clear gap, tiny next to the values
        make_run(tmp_path / f"g{seed}", "dcgan", seed=seed, metrics={"fid": 10.0 + 0.01 * seed})
        make_run(tmp_path / f"v{seed}", "conv_vae", seed=seed, lr=1e-4, metrics={"fid": 10.5 + 0.01 * seed})
    blurrier = claim_of(tmp_path, "VAEs are blurrier than GANs.")
    assert blurrier.verdict.startswith(verdict)
    [fid] = [e for e in blurrier.evidence if e.metric.startswith("FID")]
    assert f"{seeds} vs {seeds} seeds" in fid.outcome and blurrier.verdict.endswith(f"on {seeds} vs {seeds} seeds")


# -- 4. uncertainty from runs, and a collapsed model supports nothing ------------------------------------------
def test_image_proxies_are_one_row_per_run_and_one_run_is_too_few_however_many_images():
    from analysis.conclusions import paper_claims
    from analysis.grids import IMAGE_STAT_COLUMNS

    # 512 images each, standard errors tiny: still one run per model, so no verdict
    stats = pd.DataFrame([{"model": m, "run": m, "seed": 0, "source": "", "n": 512, "gray_fraction": g,
                           "gray_fraction_se": 1e-4, "gray_fraction_n": 512, "speckles": 0.0, "speckles_se": 0.0,
                           "speckles_n": 512} for m, g in (("dcgan", 0.2), ("linear_vae", 0.6), ("conv_vae", 0.5))],
                         columns=IMAGE_STAT_COLUMNS)
    empty = pd.DataFrame(columns=["model", "metric", "n", "mean", "std", "values", "likelihood"])
    sharpest = next(c for c in paper_claims(empty, stats, {}) if c.claim.startswith("DCGAN"))
    assert sharpest.verdict.startswith("too few seeds to tell")
    assert all("1 vs 1 seed" in e.outcome for e in sharpest.evidence)


def test_image_statistics_measure_every_seed_of_the_chosen_configuration(tmp_path):
    from analysis.grids import Models, TestImages, image_statistics

    runs = [make_run(tmp_path / f"g{s}", "dcgan", seed=s, metrics={"fid": 10.0}, checkpoint=True, samples=False)
            for s in range(2)]
    c = collect(runs)
    stats = image_statistics({"dcgan": c.runs}, Models(), TestImages(c), 0, n=8)
    own = stats[stats["model"] == "dcgan"]
    assert list(own["seed"]) == [0.0, 1.0] and list(own["n"]) == [8, 8]


def test_a_collapsed_model_never_supports_a_claim():
    from analysis.conclusions import paper_claims
    from analysis.grids import IMAGE_STAT_COLUMNS
    from tests.test_assessable import FLOOR, NOISE, results

    # linear_gan: one class, crisp blob (little gray); linear_vae blurry. FID is assessable for both.
    runs = results({"linear_gan": {"fid": (700.0, 5.0), "classes_covered": (1.0, 0.0), "coverage": (0.01, 0.0)},
                    "linear_vae": {"fid": (750.0, 5.0), "classes_covered": (10.0, 0.0), "coverage": (0.6, 0.01)}})
    assert FLOOR and NOISE
    stats = pd.DataFrame([{"model": m, "run": f"{m}{k}", "seed": k, "source": "", "n": 512, "gray_fraction": g + k / 100,
                           "gray_fraction_se": 0.001, "gray_fraction_n": 512, "speckles": 1.0, "speckles_se": 0.0,
                           "speckles_n": 512} for m, g in (("linear_gan", 0.1), ("linear_vae", 0.6)) for k in range(4)],
                         columns=IMAGE_STAT_COLUMNS)
    blurrier = next(c for c in paper_claims(runs, stats, {}) if c.claim.startswith("VAEs are blurrier"))
    by_metric = {e.metric: e.outcome for e in blurrier.evidence if "linear_gan" in e.comparison}
    assert by_metric["gray share of ink (blur proxy, computed here)"].startswith("flagged")
    assert by_metric["FID (lower is better)"].startswith("flagged")  # it comes out better: it decides nothing
    assert "supported" not in blurrier.verdict


# -- 5. the chosen configuration, re-measured on held-out draws or named as chosen ------------------------------
def reevaluate(run, seed, metrics):
    (run / rundir.EVALUATIONS).mkdir(exist_ok=True)
    config = OmegaConf.to_container(OmegaConf.load(run / rundir.HYDRA_CONFIG))
    record = {"eval": {**(config.get("eval") or {}), "seed": seed}, "metrics": metrics}
    (run / rundir.EVALUATIONS / f"2026-01-01_00-00-0{seed}_step40.json").write_text(json.dumps(record))


def test_a_chosen_configuration_is_reported_on_held_out_draws_or_named_as_selected(tmp_path):
    from analysis.conclusions import paper_claims

    sweep = small_sweep(tmp_path / "grid")
    for seed in range(2):
        make_run(tmp_path / "grid" / f"v{seed}", "conv_vae", seed=seed, lr=1e-4, metrics={"fid": 50.0 + seed})
    results = results_table(collect([sweep])).set_index(["model", "metric"])
    assert results.loc[("dcgan", "fid"), "selection"] == ("best of 2 configurations, selected and reported on the "
                                                          "same draws")
    assert results.loc[("conv_vae", "fid"), "selection"] == ""  # one configuration: nothing was selected
    claims = paper_claims(results.reset_index(), pd.DataFrame(columns=["model"]), {})
    assert "dcgan: best of 2 configurations, selected and reported on the same draws" in claims[0].verdict
    # held-out re-evaluations (another eval.seed) of the chosen configuration's runs replace its numbers
    for run in sweep.glob("*_dcgan"):
        set_config(run, "eval.seed", 0)
    reevaluate(sweep / "00_dcgan", 0, {"fid": 99.0})  # the same draws again: not held out
    assert "same draws" in results_table(collect([sweep])).set_index(["model", "metric"]).loc[("dcgan", "fid"),
                                                                                              "selection"]
    reevaluate(sweep / "00_dcgan", 7, {"fid": 15.0})
    reevaluate(sweep / "01_dcgan", 7, {"fid": 17.0})
    held = results_table(collect([sweep])).set_index(["model", "metric"]).loc[("dcgan", "fid")]
    assert held["values"] == (15.0, 17.0) and "held-out draws (eval.seed=7" in held["selection"]


# -- 6. objectives compared directly, per architecture --------------------------------------------------------
def objectives_runs(root, fids: dict[str, list[float]]):
    from tests.test_objectives_analysis import HINGE, NS, WGAN, objective_run

    losses = {"ns": NS, "hinge": HINGE, "wgan_gp": WGAN}
    for name, values in fids.items():
        for seed, fid in enumerate(values):
            objective_run(root / f"{name}_{seed}", "dcgan", losses[name], seed, {"fid": fid})
    return collect([root])


def test_objectives_of_one_architecture_are_compared_paired_by_seed_and_ranked_with_ties(tmp_path):
    from analysis.objectives import objective_comparisons, objective_ranking

    # six shared seeds: hinge beats ns by ~10 on every seed (paired: p = 2/64); wgan_gp has two wild seeds
    c = objectives_runs(tmp_path, {"ns": [100.0, 120, 90, 130, 110, 105], "hinge": [90.0, 111, 79, 121, 99, 96],
                                   "wgan_gp": [50.0, 300.0]})
    pairs = {frozenset((r["objective_a"], r["objective_b"])): r for _, r in objective_comparisons(c).iterrows()}
    ns_hinge = pairs[frozenset(("ns", "hinge"))]
    assert bool(ns_hinge["paired"]) and ns_hinge["p"] == pytest.approx(2 / 64)
    assert ns_hinge["verdict"].startswith("hinge better (p = 0.031, 6 paired seeds")
    # 6 vs 2 seeds (not the same seeds: unpaired) can reach p = 1/28, but 50 and 300 straddle ns
    assert pairs[frozenset(("ns", "wgan_gp"))]["verdict"].startswith("not separable")
    assert not bool(pairs[frozenset(("ns", "wgan_gp"))]["paired"])
    ranking = objective_ranking(c).set_index("objective")
    assert ranking.loc["hinge", "rank"] == 1 and ranking.loc["ns", "rank"] == 2
    # wgan_gp's mean (175) is worst, but the test cannot tell it from ns: it shares ns's rank
    assert ranking.loc["wgan_gp", "rank"] == 2 and ranking.loc["wgan_gp", "tied with"] == "ns"


def test_two_objectives_with_two_seeds_each_are_tied_for_too_few_seeds(tmp_path):
    from analysis.objectives import objective_comparisons, objective_ranking

    c = objectives_runs(tmp_path, {"ns": [100.0, 101.0], "hinge": [50.0, 51.0]})
    [row] = objective_comparisons(c).to_dict("records")
    assert row["verdict"].startswith("too few seeds to tell (2 vs 2 seeds")  # pairs: 6 needed, so two groups
    assert list(objective_ranking(c)["rank"]) == [1, 1]


# -- 7. the evaluation size: stated, never mixed, never more than the reference set ----------------------------
def test_an_evaluation_size_the_test_set_cannot_give_is_refused():
    from gvc.config import ConfigError, validate
    from tests.conftest import make_config

    with pytest.raises(ConfigError, match=r"eval.n_samples=20000 is not allowed: at most 10,000, the MNIST test"):
        validate(make_config(["eval.n_samples=20000"]))
    validate(make_config(["eval.n_samples=20000", "eval.enabled=false"]))  # nothing is measured: nothing to refuse


def sized_run(path, model, seed, fid, n, **kw):
    run = make_run(path, model, seed=seed, metrics={"fid": fid}, **kw)
    set_config(run, "eval.n_samples", n)
    return run


def test_runs_at_different_n_are_never_ranked_together_and_every_table_states_n(tmp_path):
    from analysis.conclusions import paper_claims
    from analysis.tables import best_configurations, results_wide
    from analysis.verdict import verdict_table

    for seed in range(4):
        sized_run(tmp_path / f"g{seed}", "dcgan", seed, 10.0 + seed, 10000)
        sized_run(tmp_path / f"v{seed}", "conv_vae", seed, 50.0 + seed, 1000, lr=1e-4)
    sized_run(tmp_path / "g_fast", "dcgan", 0, 1.0, 1000, lr=4e-4)  # one run at N = 1,000: best FID, other N
    c = collect([tmp_path])
    assert best_configurations(c)["dcgan"] == "eval.n_samples=10000, optimizer.lr=0.0002"
    results = results_table(c)
    claims = paper_claims(results, pd.DataFrame(columns=["model"]), {})
    [fid] = [e for e in claims[3].evidence if e.metric.startswith("FID")]  # VAEs are blurrier: dcgan vs conv_vae
    assert fid.outcome == "not comparable: evaluated at different N"
    assert results_wide(results, "metric").loc[["dcgan", "conv_vae"], "N"].tolist() == ["10,000", "1,000"]
    from analysis.tables import best_configuration_runs

    assert verdict_table(best_configuration_runs(c)).loc["conv_vae", "N"] == "1,000"


def test_a_report_of_fast_evaluations_says_n_is_1000(tmp_path):
    from analysis import build_report

    for seed in range(2):
        sized_run(tmp_path / "runs" / f"g{seed}", "dcgan", seed, 10.0 + seed, 1000)
    md = (build_report([tmp_path / "runs"], tmp_path / "report") / "report.md").read_text()
    assert "Metrics evaluated at N = 1,000 generated images per run" in md


# -- 8. tables a person can read and reuse ---------------------------------------------------------------------
def test_per_class_numbers_have_their_own_table_in_class_order(tmp_path):
    from analysis.tables import per_class_table, results_wide

    for seed in range(2):
        make_run(tmp_path / f"g{seed}", "dcgan", seed=seed,
                 metrics={"fid": 10.0, **{f"fid_class_{c}": 100.0 + c + seed for c in (10, 2, 0)},
                          "floor_fid_class_2": 5.0})
    results = results_table(collect([tmp_path]))
    assert not any("class" in c for c in results_wide(results, "metric").columns)
    table = per_class_table(results)
    assert list(table.columns) == ["metric", "model", "class 0", "class 2", "class 10"]
    assert table.iloc[0]["class 2"] == "102 ± 0.71 (n=2)" and table.iloc[1]["class 2"] == "5"


def test_the_seed_has_no_sensitivity_table(tmp_path):
    from analysis.tables import sensitivity_table

    c = collect([small_sweep(tmp_path)])
    assert set(sensitivity_table(c)["parameter"]) == {"optimizer.lr"}


def test_notes_say_what_continuous_bernoulli_images_are():
    from analysis.report import decoder_means_note

    runs = pd.DataFrame({"model": ["conv_vae", "linear_vae", "dcgan"], "family": ["vae", "vae", "gan"],
                         "likelihood": ["continuous_bernoulli", "", ""]})
    note = decoder_means_note(runs)
    assert "Bernoulli means), as in the paper" not in note
    assert "continuous-Bernoulli decoders: the distribution's mean E[x], not its parameter λ (conv_vae)" in note
    assert "Bernoulli decoders: the Bernoulli means, as in the paper (linear_vae)" in note
    assert decoder_means_note(runs.iloc[1:]) == "VAE images are decoder means (Bernoulli means), as in the paper."


def test_a_latest_metrics_report_says_its_numbers_are_reevaluations_and_every_table_has_latex(tmp_path):
    from analysis import build_report

    runs = small_sweep(tmp_path / "runs")
    reevaluate(runs / "00_dcgan", 3, {"fid": 11.0})
    report = build_report([runs], tmp_path / "report", metrics="latest")
    md = (report / "report.md").read_text()
    assert "**These metrics are re-evaluations**: 1 of 4 runs' metrics come from their newest" in md
    csvs = {p.stem for p in (report / "tables").glob("*.csv")} - {"history"}
    assert csvs and csvs == {p.stem for p in (report / "tables").glob("*.tex")}
    tex = (report / "tables" / "results_metrics.tex").read_text()
    assert tex.startswith("\\begin{tabular}") and "\\toprule" in tex and "$\\pm$" in tex and "\\bottomrule" in tex
