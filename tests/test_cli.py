"""`python -m gvc --help` / `list`: every config group with one line per option, found from the folders."""

import subprocess
import sys

from gvc import cli, listing
from tests.conftest import ROOT, imported_by, run_gvc


def test_list_shows_every_group_from_the_config_folders_without_schemas():
    text = cli.listing()
    for heading in ("models (model=NAME)", "data sets (data=NAME)", "experiments", "named sweeps", "launchers",
                    "loggers (logger=NAME)"):
        assert heading in text
    for option in ("conv_vae", "fashion_mnist", "short/dcgan", "equal_budget", "slurm_gpu", "joblib", "mlflow"):
        assert f"  {option} " in text
    assert "_schema" not in text
    assert "Fast exploratory sweeps on a CPU" in text  # the option's own first comment line


def test_a_new_config_group_appears_in_the_listing(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    (conf / "loss").mkdir(parents=True)
    (conf / "loss" / "hinge.yaml").write_text("# Hinge loss (Lim & Ye 2017). More words here.\nname: hinge\n")
    monkeypatch.setattr(listing, "CONF", conf)
    assert cli.config_groups()[:1] == ["loss"]
    assert "objectives (loss=NAME):\n  hinge  Hinge loss (Lim & Ye 2017)." in cli.listing()


def test_did_you_mean_finds_spelling_neighbours_and_abbreviations():
    keys = ["optimizer.lr", "optimizer.beta1", "trainer.epochs", "data.batch_size"]
    assert cli.close_matches("optimizer.learning_rate", keys) == ["optimizer.lr"]
    assert cli.close_matches("trainer.epoch", keys) == ["trainer.epochs"]
    assert cli.close_matches("optimizer.momentum_x", keys) == []


def test_help_is_gvcs_own_and_lists_what_exists():
    result = run_gvc("--help", timeout=120)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m gvc") and "powered by Hydra" not in result.stdout
    assert "named sweeps (-m +sweeps=NAME):" in result.stdout and "python -m gvc.sample RUN_DIR" in result.stdout


def test_list_and_help_import_neither_torch_nor_hydra():
    probe = ("import runpy, sys\nsys.argv = ['gvc', '{}']\ntry:\n    runpy.run_module('gvc', run_name='__main__')\n"
             "except SystemExit as e:\n    assert e.code == 0, e.code\nprint(sorted({{'torch', 'hydra', 'optuna'}} & set(sys.modules)))")
    for argument in ("list", "--help"):
        result = subprocess.run([sys.executable, "-c", probe.format(argument)], cwd=ROOT, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "[]"


def test_analysis_help_imports_neither_torch_nor_pandas_nor_matplotlib():
    probe = ("import runpy, sys\nsys.argv = ['analysis', '--help']\ntry:\n"
             "    runpy.run_module('analysis', run_name='__main__')\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
             "print(sorted({'torch', 'pandas', 'matplotlib'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: python -m analysis" in result.stdout and result.stdout.strip().splitlines()[-1] == "[]"


def test_the_run_collector_and_the_report_import_no_torch():
    # torch loads on first use: with the models' knobs (which keys are hyperparameters) and the grids' rebuilt models
    assert imported_by("import analysis.collect, analysis.report, analysis.grids, analysis.protocol") == []


def test_refusing_imports_neither_the_command_line_nor_the_schema():
    probe = ("import sys\nfrom gvc.errors import fail\ntry:\n    fail('trainer.epochs=0 is not allowed')\n"
             "except SystemExit as e:\n    print(e.code, sorted({'gvc.cli', 'gvc.config', 'omegaconf', 'torch'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stderr == "gvc: error: trainer.epochs=0 is not allowed\n"
    assert result.stdout.strip() == "2 []"
    from gvc import config, errors

    assert cli.fail is errors.fail and config.ConfigError is cli.ConfigError is errors.ConfigError  # the old names


def test_a_long_description_is_wrapped_whole_not_cut(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    (conf / "model").mkdir(parents=True)
    sentence = "A model " + " ".join(f"word{i}" for i in range(40)) + " end"
    (conf / "model" / "big.yaml").write_text(f"# {sentence}. Second sentence.\nname: big\n")
    monkeypatch.setattr(listing, "CONF", conf)
    text = listing.listing(columns=60)
    assert "..." not in text and " ".join(text.split()).count(sentence + ".") == 1
    assert max(len(line) for line in text.splitlines()) <= 60


def test_the_listed_launchers_are_the_ones_hydra_finds():
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from gvc.config import register_configs

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(listing.CONF), job_name="gvc"):
        found = set(GlobalHydra.instance().config_loader().get_group_options("hydra/launcher"))
    assert set(listing.group_options("hydra/launcher")) == found | {"slurm_cpu", "slurm_gpu"}
