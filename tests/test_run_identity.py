"""A run is its config: resumes and reported results only where the recorded config matches, never mixed up."""

import csv

import pytest

from gvc.config import ConfigError
from gvc.trial import rundir
from gvc.trial.run_identity import config_differences, is_identity_key, task_config
from gvc.trial.task import run
from tests.conftest import TINY, make_config, run_gvc

TINY_SWEEP = ["model=linear_vae", "trainer=smoke", "trainer.max_steps=2", "data.subset=256", "data.test_subset=128",
              "trainer.threads=1", "eval.enabled=false"]


def read_index(sweep_dir):
    with open(sweep_dir / rundir.INDEX, newline="") as f:
        return list(csv.DictReader(f))


def snapshot(folder):
    """Every file of a run directory, by relative path: proof that nothing in it changed."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_differences_name_each_changed_key_with_both_values_and_skip_process_settings():
    old = task_config(make_config(["model=linear_vae", *TINY]))
    new = task_config(make_config(["model=linear_vae", *TINY, "optimizer.lr=9e-4", "trainer.seed=3",
                                   "trainer.threads=1", "trainer.resume=true", "trainer.progress=true",
                                   "data.root=/elsewhere"]))
    assert config_differences(old, new) == ["optimizer.lr: 0.0001 recorded, 0.0009 now",
                                            "trainer.seed: 0 recorded, 3 now"]
    assert not any(is_identity_key(k) for k in ("trainer.resume", "trainer.threads", "logger.mlflow.experiment"))


def test_a_run_recorded_before_a_key_existed_is_the_run_that_keys_old_meaning_gives():
    now = task_config(make_config(["model=linear_gan", "loss=ns", *TINY, "eval.enabled=true"]))
    older = task_config(make_config(["model=linear_gan", "loss=ns", *TINY, "eval.enabled=true"]))
    del older["loss"]["gp_weight"], older["eval"]["along"], older["trainer"]["init_from"]
    assert config_differences(older, task_config(make_config(["model=linear_gan", "loss=ns", *TINY, "eval.enabled=true",
                                                              "eval.along.enabled=false"]))) == []
    # The new default evaluates along training, which that run never did; a penalty it never had is another run.
    assert config_differences(older, now)[0] == "eval.along.enabled: False recorded, True now"
    penalised = task_config(make_config(["model=linear_gan", "loss=ns", *TINY, "eval.enabled=true", "eval.along.enabled=false",
                                         "loss.gp_weight=1"]))
    assert config_differences(older, penalised) == ["loss.gp_weight: 0.0 recorded, 1.0 now"]


def test_evaluation_settings_count_only_for_evaluated_runs():
    off = task_config(make_config(["model=linear_vae", *TINY]))  # TINY has eval.enabled=false
    off_fast = task_config(make_config(["model=linear_vae", *TINY, "eval=fast", "eval.enabled=false"]))
    on = task_config(make_config(["model=linear_vae", *TINY, "eval.enabled=true"]))
    on_fast = task_config(make_config(["model=linear_vae", *TINY, "eval=fast", "eval.enabled=true"]))
    assert config_differences(off, off_fast) == []
    assert "eval.n_samples: 10000 recorded, 1000 now" in config_differences(on, on_fast)
    assert config_differences(off, on)[0].startswith("eval.enabled: False recorded, True now")


def test_resuming_a_run_with_another_config_is_refused_before_any_compute(tmp_path, mnist_root):
    run(make_config(["model=linear_vae", *TINY]), tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(ConfigError, match=r"optimizer\.lr: 0\.0001 recorded, 0\.0009 now"):
        run(make_config(["model=linear_vae", *TINY, "optimizer.lr=9e-4", "trainer.resume=true"]), tmp_path)
    assert snapshot(tmp_path) == before
    # The same config, with other process settings, is the same run: reported again, nothing retrained.
    value = rundir.read_summary(tmp_path)["objective"]["value"]
    assert run(make_config(["model=linear_vae", *TINY, "trainer.resume=true", "trainer.threads=1"]), tmp_path) == value
    assert snapshot(tmp_path) == before


def test_command_line_resume_with_another_config_leaves_hydra_record_untouched(tmp_path, mnist_root):
    assert run_gvc(*TINY_SWEEP, f"hydra.run.dir={tmp_path}").returncode == 0
    before = snapshot(tmp_path)
    refused = run_gvc(*TINY_SWEEP, "model.dropout=0.3", "trainer.resume=true", f"hydra.run.dir={tmp_path}")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "model.dropout: 0.0 recorded, 0.3 now" in refused.stderr and "hydra.run.dir" in refused.stderr
    assert snapshot(tmp_path) == before  # .hydra/config.yaml still says what was trained


def check_own_values(sweep_dir, rows, key):
    """Each index row's value is its own run's, and that run's recorded config has the row's override."""
    for row in rows:
        summary = rundir.read_summary(sweep_dir / row["run_dir"])
        assert float(row["objective_value"]) == summary["objective"]["value"]
        section, name = key.split(".")
        assert f"{key}={summary['config'][section][name]}" in row["overrides"].split()


@pytest.mark.slow
def test_grid_reused_with_other_values_gets_fresh_trial_folders(tmp_path, mnist_root):
    out = tmp_path / "grid"
    assert run_gvc("-m", *TINY_SWEEP, "optimizer.lr=0.0001,0.0002", f"hydra.sweep.dir={out}").returncode == 0
    earlier = {name: snapshot(out / name) for name in ("0_linear_vae", "1_linear_vae")}
    first_sweep = (out / "multirun.yaml").read_text()
    again = run_gvc("-m", *TINY_SWEEP, "optimizer.lr=0.0009,0.0002", "trainer.resume=true", f"hydra.sweep.dir={out}")
    assert again.returncode == 0, again.stderr
    # Both sweeps' records are kept: Hydra writes the second's multirun.yaml, the first's was moved aside.
    assert (out / "multirun.1.yaml").read_text() == first_sweep and "0.0001,0.0002" in first_sweep
    assert "0.0009,0.0002" in (out / "multirun.yaml").read_text()
    assert snapshot(out / "0_linear_vae") == earlier["0_linear_vae"]  # lr=1e-4's run, .hydra/ included
    rows = read_index(out)
    assert sorted(r["run_dir"] for r in rows) == ["0_linear_vae", "0_linear_vae-2", "1_linear_vae"]
    check_own_values(out, rows, "optimizer.lr")
    lr = {r["run_dir"]: rundir.read_summary(out / r["run_dir"])["config"]["optimizer"]["lr"] for r in rows}
    assert lr == {"0_linear_vae": 0.0001, "0_linear_vae-2": 0.0009, "1_linear_vae": 0.0002}
    # lr=2e-4 is the same trial: reported again from its folder, not retrained.
    assert "1_linear_vae already completed" in again.stdout + again.stderr
    history = (out / "1_linear_vae" / rundir.HISTORY).read_bytes()
    assert history == earlier["1_linear_vae"][rundir.HISTORY]


def optuna_study(storage):
    optuna = pytest.importorskip("optuna")
    (summary,) = optuna.get_all_study_summaries(storage)
    return optuna.load_study(study_name=summary.study_name, storage=storage)


@pytest.mark.slow
def test_optuna_twice_into_one_folder_numbers_trials_by_study_and_reports_each_its_own(tmp_path, mnist_root):
    out = tmp_path / "optuna"
    common = ["+sweeps=optuna", *TINY_SWEEP, f"hydra.sweep.dir={out}"]
    first = run_gvc("-m", *common, "hydra.sweeper.n_trials=2")
    assert first.returncode == 0, first.stderr
    assert "new Optuna study gvc_linear_vae_mnist_" in first.stdout + first.stderr
    earlier = {name: snapshot(out / name) for name in ("0_linear_vae", "1_linear_vae")}
    second = run_gvc("-m", *common, "hydra.sweeper.n_trials=4", "trainer.resume=true")
    assert second.returncode == 0, second.stderr
    assert "continuing Optuna study gvc_linear_vae_mnist_" in second.stdout + second.stderr
    assert "2 earlier trials, 2 finished" in second.stdout + second.stderr
    assert all(snapshot(out / name) == files for name, files in earlier.items())
    study = optuna_study(f"sqlite:///{out / 'optuna.db'}")  # the study lives with the sweep
    assert [t.number for t in study.trials] == [0, 1, 2, 3] and all(t.state.name == "COMPLETE" for t in study.trials)
    for trial in study.trials:  # trial N's value and parameters are those of folder N_
        summary = rundir.read_summary(out / f"{trial.number}_linear_vae")
        assert trial.value == summary["objective"]["value"]
        assert trial.params["optimizer.lr"] == summary["config"]["optimizer"]["lr"]
    assert len(read_index(out)) == 4


def test_optuna_study_is_named_by_what_makes_trials_comparable():
    from gvc.sweep.studies import study_name

    params = ["optimizer.lr=tag(log, interval(1e-5, 1e-3))"]
    name = lambda *o, p=params: study_name(make_config(["+sweeps=optuna", "model=linear_vae", *o]), p, ["minimize"])
    mnist = name()
    assert mnist.startswith("gvc_linear_vae_mnist_") and name() == mnist
    assert name("trainer.threads=1", "trainer.resume=true") == mnist  # process settings: the same study
    assert name("data=fashion_mnist").startswith("gvc_linear_vae_fashion_mnist_")
    others = {name("eval=fast"), name("trainer.epochs=3"), name("data.subset=100"),
              name(p=["optimizer.lr=interval(1e-4, 1e-2)"])}
    assert mnist not in others and len(others) == 4
    assert name("optimizer.lr=0.5") == mnist  # a searched key's composed value is not part of the study


@pytest.mark.slow
def test_fashion_sweep_never_joins_the_mnist_study_in_a_shared_storage(tmp_path, mnist_root, fashion_root):
    optuna = pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    common = ["+sweeps=optuna", *TINY_SWEEP, "hydra.sweeper.n_trials=1", f"hydra.sweeper.storage={storage}"]
    assert run_gvc("-m", *common, f"hydra.sweep.dir={tmp_path / 'mnist'}").returncode == 0
    fashion = run_gvc("-m", *common, "data=fashion_mnist", f"hydra.sweep.dir={tmp_path / 'fashion'}")
    assert fashion.returncode == 0, fashion.stderr
    assert "new Optuna study gvc_linear_vae_fashion_mnist_" in fashion.stdout + fashion.stderr
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage))
    assert len(names) == 2 and names[0].startswith("gvc_linear_vae_fashion_mnist_")
    for name in names:
        assert len(optuna.load_study(study_name=name, storage=storage).trials) == 1


def test_run_identity_follows_the_schemas_declared_meaning():
    """The keys a resume ignores are the schema's `result=False` fields (plus loggers and Hydra), nothing else."""
    from gvc.config import knobs
    from gvc.trial.run_identity import is_identity_key

    meanings = knobs()
    assert not is_identity_key("trainer.threads") and not is_identity_key("trainer.checkpoint_every_s")
    assert not is_identity_key("logger.mlflow.experiment") and not is_identity_key("hydra.run.dir")
    for key in ("optimizer.lr", "trainer.seed", "trainer.objective", "data.binarize", "loss.beta", "model.ema_decay"):
        assert is_identity_key(key), key
    assert {k for k, m in meanings.items() if not is_identity_key(k)} == {k for k, m in meanings.items() if not m.result}
