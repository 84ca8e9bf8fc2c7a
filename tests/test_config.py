"""Config composition: every model composes with the paper's defaults, and overrides reach the schema."""

import pytest
from omegaconf import OmegaConf

from gvc.config import ConfigError, validate
from tests.conftest import MODEL_NAMES, ROOT, imported_by, make_config

PAPER = {  # model: (lr, batch size)
    "linear_gan": (2e-4, 128), "dcgan": (2e-4, 128), "linear_vae": (1e-4, 64), "conv_vae": (1e-4, 128),
}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_model_composes_with_its_paper_settings(name):
    cfg = make_config([f"model={name}"])
    validate(cfg)
    lr, batch = PAPER[name]
    assert cfg.model.name == name
    assert cfg.optimizer.name == "adam" and cfg.optimizer.lr == lr
    assert (cfg.optimizer.beta1, cfg.optimizer.beta2) == (0.9, 0.999)
    assert cfg.data.batch_size == batch
    assert cfg.trainer.epochs == 100 and cfg.trainer.sample_every == 5


def test_overrides_win_over_paper_defaults():
    cfg = make_config(["model=linear_vae", "optimizer.lr=3e-3", "data.batch_size=32", "model.dropout=0.2"])
    assert (cfg.optimizer.lr, cfg.data.batch_size, cfg.model.dropout) == (3e-3, 32, 0.2)


def test_optimizer_presets_compose():
    cfg = make_config(["model=dcgan", "optimizer=adam_dcgan"])
    assert (cfg.optimizer.beta1, cfg.optimizer.beta2) == (0.5, 0.999)
    for preset in ("adamw", "rmsprop"):
        validate(make_config([f"optimizer={preset}"]))


def test_trainer_presets_compose():
    assert make_config(["trainer=smoke"]).trainer.max_steps == 5
    cpu = make_config(["trainer=cpu"])
    validate(cpu)
    assert cpu.trainer.epochs < 100


def test_schema_is_typed():
    cfg = make_config([])
    assert OmegaConf.get_type(cfg.trainer).__name__ == "TrainerConfig"
    with pytest.raises(Exception, match="lr"):
        make_config(["optimizer.lr=fast"])
    with pytest.raises(Exception, match="epoch"):
        make_config(["trainer.epoch=3"])  # a typo of an existing key


@pytest.mark.parametrize("override, key", [
    ("optimizer.lr=-1e-4", "optimizer.lr"),
    ("optimizer.lr=0", "optimizer.lr"),
    ("data.batch_size=0", "data.batch_size"),
    ("data.subset=60001", "data.subset"),
    ("trainer.device=tpu", "trainer.device"),
    ("model.dropout=1.0", "model.dropout"),
])
def test_validate_names_the_bad_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(make_config([override]))


@pytest.mark.parametrize("metric", ["kid_std", "ae_kid_std", "nn_train_dist_test", "fid_class_3"])
def test_a_metric_its_spec_marks_not_optimisable_is_refused_as_a_sweep_objective(metric):
    with pytest.raises(ConfigError, match=r"trainer\.objective") as refused:
        validate(make_config(["eval.enabled=true", f"trainer.objective={metric}"]))
    if metric != "fid_class_3":  # per-class keys are not metrics of their own
        assert "may not be optimised" in str(refused.value)
    validate(make_config(["eval.enabled=true", "trainer.objective=kid_mean"]))  # its mean may


@pytest.mark.parametrize("sweep", sorted(p.stem for p in (ROOT / "sweeps").glob("*.yaml")))
def test_named_sweeps_compose(sweep):
    from hydra import compose, initialize_config_dir

    from tests.conftest import CONF, DATA_ROOT
    from gvc.config import register_configs

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        cfg = compose(config_name="config", overrides=[f"+sweeps={sweep}", f"data.root={DATA_ROOT}"],
                      return_hydra_config=True)
    assert cfg.hydra.sweeper.params  # every named sweep sweeps something
    cfg = OmegaConf.masked_copy(cfg, ["model", "optimizer", "data", "trainer", "eval"])
    validate(cfg)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_short_budget_recipes_keep_the_paper_layers_and_change_only_training_settings(model):
    paper, short = make_config([f"model={model}"]), make_config([f"experiment=short/{model}"])
    validate(short)
    assert short.model == paper.model  # the architecture, its widths and dropout: exactly the paper's
    changed = {k for k in ("optimizer", "data") if short[k] != paper[k]}
    assert changed and short.data.subset is None  # all 60,000 training images


@pytest.mark.parametrize("sweep", ["demo", "equal_budget"])
def test_equal_compute_sweeps_give_every_model_the_same_time_budget(sweep):
    from hydra import compose, initialize_config_dir

    from tests.conftest import CONF
    from gvc.config import register_configs

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        cfg = compose(config_name="config", overrides=[f"+sweeps={sweep}"], return_hydra_config=True)
    recipes = cfg.hydra.sweeper.params.experiment.split(",")
    assert sorted(r.removeprefix("short/") for r in recipes) == sorted(MODEL_NAMES)
    assert cfg.trainer.time_budget_s > 0 and cfg.trainer.max_steps is None and cfg.data.subset is None


def test_the_config_schema_imports_no_torch():
    # analysis and `python -m gvc list` read the schema; the registries it validates against load on first use
    assert imported_by("import gvc.config\nfrom omegaconf import OmegaConf\n"
                       "OmegaConf.structured(gvc.config.Config)") == []
    assert imported_by("import gvc.models, gvc.training.losses") == []  # the packages, before their registries


def test_the_registries_register_on_first_use():
    assert imported_by("from gvc.models import MODELS\nassert 'dcgan' in MODELS") == ["torch"]
    assert imported_by("from gvc.training import losses\nassert 'ns' in losses.LOSSES") == ["torch"]
