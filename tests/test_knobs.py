"""A config key's meaning is declared once, on its schema field, and every consumer reads it from there."""

import pytest
from omegaconf import OmegaConf

from gvc.config import architecture_keys, execution_keys, knobs, non_hyperparameters
from gvc.knobs import NO_PAPER_VALUE
from tests.conftest import MODEL_NAMES, make_config


def flat_keys(node, prefix=""):
    out = []
    for key, value in node.items():
        out += flat_keys(value, f"{prefix}{key}.") if isinstance(value, dict) else [f"{prefix}{key}"]
    return out


@pytest.mark.parametrize("overrides", [["model=dcgan", "loss=wgan_gp"], ["model=conv_vae", "loss=iwae"],
                                       ["model=linear_gan"], ["model=linear_vae", "loss=elbo_cb"]])
def test_every_key_of_a_composed_config_has_a_declared_meaning(overrides):
    cfg = make_config(overrides)
    container = OmegaConf.to_container(cfg, resolve=True)
    keys = [k for k in flat_keys(container) if not k.startswith("logger.")]
    table = knobs(cfg)
    assert set(keys) <= set(table), sorted(set(keys) - set(table))


def test_the_paper_values_are_the_papers():
    cfg = make_config(["model=linear_gan", "loss=ns"])
    table = knobs(cfg)
    assert table["model.dropout"].paper == 0.4 and table["model.ema_decay"].paper is None
    assert table["loss.name"].paper == "ns" and table["loss.d_steps"].paper == 1
    assert table["trainer.epochs"].paper == 100 and table["optimizer.beta1"].paper == 0.9
    vae = knobs(make_config(["model=linear_vae", "loss=iwae"]))
    assert vae["loss.likelihood"].paper == "bernoulli" and vae["loss.k"].paper == NO_PAPER_VALUE


def test_consumers_derive_from_the_declarations():
    assert architecture_keys() == ["name", "latent_dim", "widths"]  # what a resumed checkpoint must agree on
    execution = execution_keys()
    assert {"trainer.device", "trainer.progress", "trainer.threads", "data.root", "trainer.resume"} <= execution
    assert not {"trainer.seed", "optimizer.lr", "loss.beta", "model.dropout", "eval.n_samples"} & execution
    assert "trainer.seed" not in non_hyperparameters() and "model.name" in non_hyperparameters()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_yaml_holds_no_second_copy_of_a_default(name):
    from tests.conftest import CONF

    yaml = OmegaConf.load(CONF / "model" / f"{name}.yaml")
    assert not {"widths", "dropout", "negative_slope", "ema_decay"} & set(yaml)
