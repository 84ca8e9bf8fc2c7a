"""Using a trained run: `python -m gvc.sample` writes images, `python -m gvc.evaluate` adds an evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gvc import evaluate, sample
from gvc.trial import rundir
from gvc.trial.task import run
from tests.conftest import TINY, make_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("trained") / "run"
    run(make_config(["model=linear_vae", *TINY, "trainer.threads=1"]), run_dir)
    assert rundir.read_summary(run_dir)["status"] == "completed"
    return run_dir


def refusal(capsys, main, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gvc: error: ") and "\n" not in err
    return err


def test_sample_writes_a_png_grid_and_a_npy_array_of_the_run(trained, tmp_path, capsys):
    assert sample.main([str(trained), "--n", "9", "--out", str(tmp_path / "s.png")]) == 0
    with Image.open(tmp_path / "s.png") as png:
        assert png.size == (3 * 30 + 2, 3 * 30 + 2)  # 3 x 3 tiles of 28 px with 2 px padding
    assert sample.main([str(trained), "--n", "9", "--npy", str(tmp_path / "s.npy"), "--seed", "3"]) == 0
    images = np.load(tmp_path / "s.npy")
    assert images.shape == (9, 1, 28, 28) and images.dtype == np.float32 and 0 <= images.min() <= images.max() <= 1
    again = tmp_path / "again.npy"
    sample.main([str(trained), "--n", "9", "--npy", str(again), "--seed", "3"])
    assert np.array_equal(np.load(again), images)  # the seed fixes the latents
    capsys.readouterr()
    assert "already exists" in refusal(capsys, sample.main, [str(trained), "--npy", str(again)])


def test_sample_default_file_is_named_for_what_it_holds(trained, capsys):
    assert sample.main([str(trained), "--n", "4"]) == 0
    path = Path(capsys.readouterr().out.strip())
    step = rundir.read_summary(trained)["steps"]
    assert path == trained / "generated" / f"samples_step{step}_n4_seed0.png" and path.is_file()


def test_sample_and_evaluate_refuse_a_directory_that_is_not_a_run(tmp_path, capsys):
    for main in (sample.main, evaluate.main):
        assert "is not a gvc run directory" in refusal(capsys, main, [str(tmp_path)])
        assert "does not exist" in refusal(capsys, main, [str(tmp_path / "missing")])


def test_ema_is_refused_for_a_checkpoint_without_ema_weights(trained, capsys):
    err = refusal(capsys, sample.main, [str(trained), "--ema"])
    assert "no EMA weights" in err and "model.ema_decay" in err


def test_evaluate_refuses_settings_other_than_the_evaluation(trained, capsys):
    assert "only the evaluation settings" in refusal(capsys, evaluate.main, [str(trained), "model=dcgan"])
    assert "Did you mean `eval.n_samples`" in refusal(capsys, evaluate.main, [str(trained), "eval.n_sample=3"])


def test_evaluate_adds_an_evaluation_and_keeps_the_training_numbers(trained, capsys):
    before = (trained / rundir.SUMMARY).read_text()
    argv = [str(trained), "eval=fast", "eval.n_samples=200", "eval.nll_images=50", "eval.iw_samples=4"]
    assert evaluate.main(argv) == 0 and evaluate.main(argv) == 0
    assert (trained / rundir.SUMMARY).read_text() == before  # training-time numbers untouched
    first, second = rundir.read_evaluations(trained)
    assert first["file"] != second["file"]  # a second evaluation never overwrites the first
    assert first["eval"]["n_samples"] == 200 and first["checkpoint"]["step"] == json.loads(before)["steps"]
    assert first["metrics"] == second["metrics"] and {"fid", "test_nelbo", "floor_fid"} <= set(first["metrics"])
    summary, config = rundir.with_latest_evaluation(json.loads(before), {"eval": {"n_samples": 0}}, trained)
    assert summary["metrics"] == second["metrics"] and config["eval"]["n_samples"] == 200
    assert summary["evaluation"] == f"evaluations/{second['file']}"
    from analysis.collect import collect

    [latest] = collect([trained], metrics="latest").runs  # what `python -m analysis --metrics latest` reports
    [training] = collect([trained]).runs
    assert latest.summary["metrics"] == second["metrics"] and latest.config["eval"]["n_samples"] == 200
    assert training.summary["metrics"] == json.loads(before)["metrics"]


def test_ema_samples_come_from_the_generators_moving_average(tmp_path):
    import torch

    from gvc.trial.trained import load_trained

    run_dir = tmp_path / "gan"
    run(make_config(["model=linear_gan", *TINY, "trainer.threads=1", "model.ema_decay=0.5"]), run_dir)
    plain, ema = load_trained(run_dir), load_trained(run_dir, ema=True)
    assert ema.ema and not plain.ema
    averaged = torch.load(run_dir / rundir.CHECKPOINT, weights_only=True)["model"]
    ema_weights = {k: v for k, v in averaged.items() if k.startswith("ema.module.")}
    assert ema_weights and all(torch.equal(p.detach(), ema_weights[f"ema.module.{n}"])
                               for n, p in ema.model.generator.named_parameters())
    assert not torch.equal(sample.sample(plain, 4), sample.sample(ema, 4))  # two generators, two sets of images


def test_a_run_of_an_older_gvc_is_not_resumed_but_can_be_sampled_and_evaluated(tmp_path, capsys):
    """An older gvc recorded no `loss` section: resuming it is refused (the keys show as (absent)) with what can
    still be done, and sampling and re-evaluating it work."""
    import torch

    from gvc.config import ConfigError
    from gvc.trial.task import check_run_dir

    run_dir = tmp_path / "old"
    overrides = ["model=linear_vae", *TINY, "trainer.threads=1"]
    run(make_config(overrides), run_dir)
    summary = rundir.read_summary(run_dir)
    del summary["config"]["loss"]
    (run_dir / rundir.SUMMARY).write_text(json.dumps(summary))
    ckpt = torch.load(run_dir / rundir.CHECKPOINT, weights_only=False)
    del ckpt["config"]["loss"]
    torch.save(ckpt, run_dir / rundir.CHECKPOINT)

    with pytest.raises(ConfigError) as refused:
        check_run_dir(run_dir, True, make_config([*overrides, "trainer.resume=true"]))
    assert "loss.name: '(absent)' recorded" in str(refused.value)
    assert "did not exist in the gvc that made this run" in str(refused.value)
    assert "python -m gvc.sample" in str(refused.value) and "python -m gvc.evaluate" in str(refused.value)
    assert sample.main([str(run_dir), "--n", "4", "--out", str(tmp_path / "old.png")]) == 0
    assert evaluate.main([str(run_dir), "eval=fast", "eval.n_samples=100", "eval.nll_images=20",
                          "eval.iw_samples=2"]) == 0
    [evaluation] = rundir.read_evaluations(run_dir)
    assert "fid" in evaluation["metrics"]


EVAL = ["eval=fast", "eval.n_samples=200", "eval.nll_images=50", "eval.iw_samples=4"]
LIKELIHOODS = {"bernoulli": ["loss=elbo"], "continuous_bernoulli": ["loss=elbo_cb"],
               "gaussian_fixed": ["loss=elbo", "loss.likelihood=gaussian", "loss.sigma=0.1"],
               "gaussian_learned": ["loss=elbo", "loss.likelihood=gaussian", "loss.sigma=null"]}


@pytest.mark.parametrize("likelihood", sorted(LIKELIHOODS))
def test_reevaluating_a_vae_gives_the_numbers_its_training_run_recorded(likelihood, tmp_path, capsys):
    """gvc.evaluate rebuilds the model with its objective's decoder likelihood (and a learned σ), so its
    re-evaluation at the training's settings repeats the training's metrics exactly, and test_nelbo is a bound
    in that likelihood (near history.csv's test_loss), not the Bernoulli one."""
    run_dir = tmp_path / likelihood
    overrides = ["model=linear_vae", *TINY, "trainer.threads=1", *LIKELIHOODS[likelihood], "eval.enabled=true", *EVAL]
    run(make_config(overrides), run_dir)
    summary = rundir.read_summary(run_dir)
    assert summary["status"] == "completed"
    assert evaluate.main([str(run_dir), *EVAL]) == 0
    [evaluation] = rundir.read_evaluations(run_dir)
    assert evaluation["metrics"] == pytest.approx(summary["metrics"], rel=1e-6, abs=1e-9)
    test_loss = rundir.read_history(run_dir)[-1]["test_loss"]
    assert abs(evaluation["metrics"]["test_nelbo"] - test_loss) < 0.05 * abs(test_loss)
