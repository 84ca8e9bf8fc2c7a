"""`python -m gvc --help` / `list`: every config group with one line per option, found from the folders."""

from gvc import cli
from tests.conftest import run_gvc


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
    monkeypatch.setattr(cli, "CONF", conf)
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
