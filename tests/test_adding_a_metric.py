"""Adding a metric is one spec (gvc/facts.py) and one function (@computes): the seam, used as a new metric's author
would, and seen end to end in a run's summary.json and in the report (issue 27)."""

from __future__ import annotations

import json
import warnings

import pytest

from gvc import facts
from gvc.evaluation import computations
from tests.conftest import TINY, TINY_EVAL, make_config

SPEC = facts.Metric("mean_feature_norm", facts.MAXIMIZE, frozenset({facts.FEATURES}), "mean feature norm",
                    description="mean feature norm (a test's metric)", headline=True, inflated_by_collapse=True)


@pytest.fixture
def new_metric(monkeypatch):
    """SPEC registered and computed, for this test only (monkeypatch restores the registries afterwards)."""
    monkeypatch.setattr(facts, "METRICS", (*facts.METRICS, SPEC))
    monkeypatch.setattr(computations, "COMPUTATIONS", dict(computations.COMPUTATIONS))

    @computations.computes(SPEC.name)
    def mean_feature_norm(s: computations.Sets) -> dict[str, float]:
        return {SPEC.name: s.fake.norm(dim=1).mean().item()}

    return SPEC


def test_a_registered_metric_gets_its_direction_label_description_and_flags_everywhere(new_metric):
    from analysis.assessable import inflated_by_collapse
    from analysis.conclusions import description
    from analysis.stats import direction_of
    from analysis.verdict import space_headlines
    from gvc.evaluation.calibrate import card_columns

    assert direction_of(new_metric.name) == direction_of(f"ema_{new_metric.name}") == facts.MAXIMIZE
    assert new_metric.name in facts.OBJECTIVES and facts.DIRECTIONS[new_metric.name] == facts.MAXIMIZE
    assert description(new_metric.name) == "mean feature norm (a test's metric)"
    assert inflated_by_collapse(new_metric.name) and not inflated_by_collapse("recall")
    assert "mean feature norm" in [h.label for h in space_headlines(facts.CLASSIFIER)]
    assert card_columns()[-1] == new_metric.name


def test_a_registered_metric_nothing_computes_is_refused_naming_the_decorator(monkeypatch):
    from gvc.evaluation.computations import compute

    monkeypatch.setattr(facts, "METRICS", (*facts.METRICS, SPEC))
    with pytest.raises(RuntimeError, match=r"@computes\('mean_feature_norm'\)"):
        compute(facts.CLASSIFIER, None)


def test_a_metric_added_as_one_function_and_one_spec_appears_in_summary_and_report(new_metric, tmp_path, mnist_root):
    from analysis import build_report
    from gvc.trial.task import run

    overrides = [o for o in TINY if not o.startswith("eval.")] + TINY_EVAL + [
        "model=linear_gan", "trainer.threads=1", "eval.second_space=false", "eval.class_fids=false"]
    with warnings.catch_warnings():  # training's own imports (SQLAlchemy via optuna) are not this test's
        warnings.simplefilter("ignore")
        run(make_config(overrides), tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    value = summary["metrics"][new_metric.name]
    assert value > 0 and f"floor_{new_metric.name}" in summary["metrics"]  # referenced: floor and noise too
    assert f"noise_{new_metric.name}" in summary["metrics"]

    report = build_report([tmp_path / "run"], tmp_path / "report")
    md = (report / "report.md").read_text()
    verdict_header = next(line for line in md.splitlines() if line.startswith("| model | runs |"))
    assert "| mean feature norm |" in verdict_header  # a headline: a column of the opening verdict
    assert "mean feature norm: higher is better" in md  # and its direction in the verdict's caption
    rows = (report / "tables" / "results.csv").read_text().splitlines()
    row = next(line for line in rows if f",{new_metric.name}," in line)
    assert ",maximize," in row  # the results table knows which way it is better


def test_every_registered_metric_has_a_computation_and_every_computation_a_spec():
    assert set(computations.COMPUTATIONS) == {m.name for m in facts.registered()}
