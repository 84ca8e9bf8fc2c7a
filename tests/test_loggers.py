"""The logger group: TensorBoard and MLflow read back with their own readers equal the run directory.

TensorBoard through EventAccumulator, MLflow through its client's search API; a failed or diverged run is
logged with its status; a resumed run continues the same MLflow run and TensorBoard steps; an unreachable
tracking server costs the run nothing but a line in summary.json; neither library is imported by default.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys

import pytest

from gvc.config import ConfigError, validate
from gvc.training.hooks import Hook
from gvc.trial import rundir
from gvc.trial.task import run
from tests.conftest import DATA_ROOT, ROOT, TINY, make_config, run_gvc

pytest.importorskip("tensorboard")
pytest.importorskip("mlflow")

from mlflow.tracking import MlflowClient  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import metadata as hp_metadata  # noqa: E402
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData  # noqa: E402

BOTH = "logger=[tensorboard,mlflow]"
# linear_vae on 256 images, batch 64: 4 steps an epoch; a loss at every step.
SMALL = ["model=linear_vae", *TINY, "trainer.max_steps=null", "trainer.log_every=1", "trainer.threads=1",
         "data.batch_size=64", BOTH]


def events(run_dir) -> EventAccumulator:
    ea = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    ea.Reload()
    return ea


def tb_scalars(ea: EventAccumulator, tag: str) -> dict[int, float]:
    found = ea.Scalars(tag)
    steps = [e.step for e in found]
    assert len(steps) == len(set(steps)), f"{tag}: a step logged twice: {steps}"
    return {e.step: e.value for e in found}


def tb_hparams(ea: EventAccumulator) -> dict[str, object]:
    content = ea.PluginTagToContent(hp_metadata.PLUGIN_NAME)[hp_metadata.SESSION_START_INFO_TAG]
    hparams = HParamsPluginData.FromString(content).session_start_info.hparams
    return {k: v.string_value or v.number_value or v.bool_value for k, v in hparams.items()}


def mlflow_run(run_dir):
    """The MLflow run of a gvc run, found by search: (client, run)."""
    client = MlflowClient(tracking_uri=f"sqlite:///{run_dir.parent / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(run_dir.parent.name)  # the folder's name, not its path
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.run_dir = '{run_dir}'")
    assert len(runs) == 1, [r.info.run_name for r in runs]
    return client, runs[0]


def mlflow_history(client, run, key: str) -> dict[int, float]:
    found = client.get_metric_history(run.info.run_id, key)
    steps = [m.step for m in found]
    assert len(steps) == len(set(steps)), f"{key}: a step logged twice: {steps}"
    return {m.step: m.value for m in found}


def approx(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=1e-5, abs_tol=1e-6) for k in a)


@pytest.mark.slow
def test_both_loggers_hold_the_run_directorys_numbers(tmp_path, mnist_root):
    run_dir = tmp_path / "run"
    cfg = make_config([*SMALL, "trainer.epochs=2", "eval=fast", "eval.enabled=true", "eval.n_samples=200",
                       "eval.nll_images=50", "eval.iw_samples=4", "trainer.sample_every=1"])
    run(cfg, run_dir)
    history, summary = rundir.read_history(run_dir), rundir.read_summary(run_dir)
    assert summary["status"] == "completed"
    assert summary["loggers"] == {"tensorboard": {"ok": True, "error": None}, "mlflow": {"ok": True, "error": None}}
    metrics = summary["metrics"]
    assert "fid" in metrics and "floor_fid" in metrics

    ea = events(run_dir)
    for key in ("loss", "bce", "kl", "test_loss"):
        assert tb_scalars(ea, f"epoch/{key}") == pytest.approx({int(r["step"]): r[key] for r in history}, rel=1e-6)
    assert sorted(tb_scalars(ea, "train/loss")) == list(range(1, 9))  # every log point, once
    assert tb_scalars(ea, "train/loss")[4] == pytest.approx(history[0]["loss"], rel=1e-6)  # the epoch's running mean
    last_step = int(history[-1]["step"])
    for key in ("fid", "floor_fid", "coverage", "floor_coverage"):
        assert tb_scalars(ea, f"eval/{key}") == pytest.approx({last_step: metrics[key]}, rel=1e-6)
    assert tb_scalars(ea, "final/objective") == pytest.approx({last_step: summary["objective"]["value"]}, rel=1e-6)
    assert [e.step for e in ea.Images("samples")] == [4, 8]
    hp = tb_hparams(ea)
    assert hp["status"] == "completed" and hp["model.name"] == "linear_vae" and hp["optimizer.lr"] == pytest.approx(1e-4)

    client, found = mlflow_run(run_dir)
    assert found.info.status == "FINISHED" and found.info.run_name == "run"
    assert {k: found.data.tags[k] for k in ("model", "family", "status", "seed")} == {
        "model": "linear_vae", "family": "vae", "status": "completed", "seed": "0"}
    assert found.data.params["optimizer.lr"] == "0.0001" and found.data.params["data.batch_size"] == "64"
    for key in ("loss", "test_loss", "elapsed_s"):
        assert approx(mlflow_history(client, found, f"epoch/{key}"), {int(r["step"]): r[key] for r in history})
    assert approx(mlflow_history(client, found, "eval/fid"), {last_step: metrics["fid"]})
    assert found.data.metrics["final/objective"] == pytest.approx(summary["objective"]["value"], rel=1e-6)
    artifacts = {a.path for a in client.list_artifacts(found.info.run_id)}
    assert {"summary.json", "samples"} <= artifacts
    grids = {a.path for a in client.list_artifacts(found.info.run_id, "samples")}
    assert grids == {"samples/epoch_0001.png", "samples/epoch_0002.png"}


class CrashAt(Hook):
    """Stands in for a killed process: fails the run at a log point after the last checkpoint."""

    def __init__(self, step: int):
        self.step = step

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        if step == self.step:
            raise RuntimeError("simulated crash")


@pytest.mark.slow
def test_a_resumed_run_continues_the_same_mlflow_run_and_tensorboard_steps(tmp_path, mnist_root, monkeypatch):
    import gvc.trial.lifecycle

    run_dir = tmp_path / "run"
    cfg = make_config([*SMALL, "trainer.epochs=3"])
    real_make = gvc.trial.lifecycle.make_loggers
    monkeypatch.setattr(gvc.trial.lifecycle, "make_loggers", lambda c, d: [*real_make(c, d), CrashAt(10)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(cfg, run_dir)  # epochs 1 and 2 checkpointed (step 8); steps 9 and 10 of epoch 3 logged, then the crash
    client, first = mlflow_run(run_dir)
    assert first.info.status == "FAILED" and first.data.tags["status"] == "failed"
    monkeypatch.setattr(gvc.trial.lifecycle, "make_loggers", real_make)

    run(make_config([*SMALL, "trainer.epochs=3", "trainer.resume=true"]), run_dir)
    history, summary = rundir.read_history(run_dir), rundir.read_summary(run_dir)
    assert summary["status"] == "completed" and summary["resumed_from"]["step"] == 8 and len(history) == 3

    ea = events(run_dir)
    assert sorted(tb_scalars(ea, "train/loss")) == list(range(1, 13))  # the crashed attempt's 9, 10 replaced
    assert tb_scalars(ea, "epoch/loss") == pytest.approx({int(r["step"]): r["loss"] for r in history}, rel=1e-6)
    assert tb_hparams(ea)["status"] == "completed"

    client, found = mlflow_run(run_dir)  # the same MLflow run: still exactly one
    assert found.info.run_id == first.info.run_id and found.info.status == "FINISHED"
    assert found.data.tags["status"] == "completed"
    assert sorted(mlflow_history(client, found, "train/loss")) == list(range(1, 13))
    assert approx(mlflow_history(client, found, "epoch/loss"), {int(r["step"]): r["loss"] for r in history})


def test_a_diverged_and_a_refused_trial_are_logged_with_their_status(tmp_path, mnist_root):
    diverged = tmp_path / "diverged"
    run(make_config([*SMALL, "optimizer.lr=1e30"]), diverged, raise_on_failure=False)
    assert rundir.read_summary(diverged)["status"] == "diverged"
    _, found = mlflow_run(diverged)
    assert found.info.status == "FAILED" and found.data.tags["status"] == "diverged"
    assert "non-finite loss" in found.data.tags["reason"]
    assert tb_hparams(events(diverged))["status"] == "diverged"

    refused = tmp_path / "refused"  # a trial that fails before training (no such device here) is still a row
    run(make_config([*SMALL, "trainer.device=mps"]), refused, raise_on_failure=False)
    assert rundir.read_summary(refused)["status"] == "failed"
    _, found = mlflow_run(refused)
    assert found.info.status == "FAILED" and found.data.tags["status"] == "failed"
    assert tb_hparams(events(refused))["status"] == "failed"


def test_an_unreachable_tracking_server_is_reported_once_and_training_goes_on(tmp_path, mnist_root, caplog):
    run_dir = tmp_path / "run"
    cfg = make_config([*SMALL, "logger=mlflow", "logger.mlflow.tracking_uri=http://127.0.0.1:9",
                       "logger.mlflow.max_retries=0", "logger.mlflow.request_timeout_s=2", "trainer.epochs=2"])
    with caplog.at_level(logging.WARNING, logger="gvc.loggers"):
        run(cfg, run_dir)
    summary = rundir.read_summary(run_dir)
    assert summary["status"] == "completed" and len(rundir.read_history(run_dir)) == 2
    assert summary["loggers"]["mlflow"]["ok"] is False and summary["loggers"]["mlflow"]["error"]
    warnings = [r for r in caplog.records if "logger mlflow failed" in r.getMessage()]
    assert len(warnings) == 1


def test_without_a_logger_neither_library_is_imported(tmp_path, mnist_root):
    code = (
        "import sys; from tests.conftest import make_config, TINY; from gvc.trial.task import run; "
        f"run(make_config(['model=linear_gan', *TINY, 'trainer.threads=1']), {str(tmp_path / 'run')!r}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'tensorboard')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "GVC_DATA": DATA_ROOT})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "loggers" not in rundir.read_summary(tmp_path / "run")


def test_bad_logger_settings_and_missing_libraries_are_refused_before_training(monkeypatch):
    with pytest.raises(ConfigError, match="logger.tensorboard.dir"):
        validate(make_config(["logger=tensorboard", "logger.tensorboard.dir=../elsewhere"]))
    with pytest.raises(ConfigError, match="logger.mlflow.max_retries"):
        validate(make_config(["logger=mlflow", "logger.mlflow.max_retries=-1"]))
    import gvc.loggers

    monkeypatch.setattr(gvc.loggers.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"logger=mlflow needs the package 'mlflow-skinny'.*pip install"):
        validate(make_config(["logger=mlflow"]))


@pytest.mark.slow
def test_a_multirun_is_one_mlflow_experiment_and_one_tensorboard_logdir(tmp_path, mnist_root):
    out = tmp_path / "sweep"
    result = run_gvc("-m", *SMALL, "optimizer.lr=1e-3,2e-3", f"hydra.sweep.dir={out}")
    assert result.returncode == 0, result.stderr
    from analysis.collect import find_run_dirs  # MLflow's artifact copies (summary.json) are not runs

    assert find_run_dirs(out) == rundir.find_run_dirs(out) == [out / "0_linear_vae", out / "1_linear_vae"]
    assert len((out / rundir.INDEX).read_text().splitlines()) == 3  # header + two trials
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    assert [e.name for e in client.search_experiments()] == [out.name]  # no stray `Default`
    experiment = client.get_experiment_by_name(out.name)
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.run_name"])
    assert [r.info.run_name for r in runs] == ["0_linear_vae", "1_linear_vae"]
    assert [r.data.params["optimizer.lr"] for r in runs] == ["0.001", "0.002"]
    for r in runs:
        summary = json.loads((out / r.info.run_name / rundir.SUMMARY).read_text())
        assert r.data.metrics["final/objective"] == pytest.approx(summary["objective"]["value"], rel=1e-6)
        assert tb_hparams(events(out / r.info.run_name))["optimizer.lr"] == pytest.approx(float(r.data.params["optimizer.lr"]))


def test_mlflow_experiments_are_named_after_the_folder_not_its_path(tmp_path):
    from gvc.loggers.mlflow_logger import default_experiment

    assert default_experiment(tmp_path / "multirun" / "2026-12-01" / "16-55-00" / "0_dcgan") == "2026-12-01/16-55-00"
    assert default_experiment(tmp_path / "multirun" / "demo_2026-12-01" / "0_dcgan") == "demo_2026-12-01"
    assert default_experiment(tmp_path / "outputs" / "dcgan" / "2026-12-01_16-55") == "dcgan"
    assert default_experiment(tmp_path / "sweep" / "0_dcgan") == "sweep"
