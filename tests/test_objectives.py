"""Objectives as a config axis: each loss against hand-computed values, the penalties against known gradient
norms, IWAE k = 1 = ELBO, the paper's objective unchanged, every objective trains every model of its family,
EMA of G resumes exactly, and every bad combination is refused before any data is loaded."""

import contextlib
import math

import pytest
import torch
import torch.nn.functional as F

from gvc.config import ConfigError, validate
from gvc.training import losses
from gvc.training.loop import Trainer
from gvc.training.losses import hinge, lsgan, minimax, ns, wgan_gp
from gvc.training.losses.decoders import make_likelihood
from gvc.training.losses.elbo import ELBOConfig, kl_weight
from gvc.training.losses.penalties import r1
from gvc.training.losses.penalties import wgan_gp as gradient_penalty
from gvc.training.vae import negative_elbo, negative_iwae
from gvc.trial import rundir
from gvc.trial.task import run
from tests.conftest import TINY, TinyVAE, make_config, run_gvc, without_timing

REAL = torch.tensor([2.0, -1.0, 0.5])
FAKE = torch.tensor([-0.5, 1.5, 0.0])
softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731


def mean(values):
    return sum(values) / len(values)


def test_gan_losses_match_hand_computed_values():
    r, f = REAL.tolist(), FAKE.tolist()
    # ns: -log sigmoid(r) - log(1 - sigmoid(f)) = softplus(-r) + softplus(f); G: softplus(-f)
    assert ns.d_loss(REAL, FAKE).item() == pytest.approx(mean([softplus(-x) for x in r]) + mean([softplus(x) for x in f]))
    assert ns.g_loss(REAL, FAKE).item() == pytest.approx(mean([softplus(-x) for x in f]))
    assert minimax.g_loss(REAL, FAKE).item() == pytest.approx(-mean([softplus(x) for x in f]))
    assert hinge.d_loss(REAL, FAKE).item() == pytest.approx(mean([max(0, 1 - x) for x in r]) + mean([max(0, 1 + x) for x in f]))
    assert hinge.g_loss(REAL, FAKE).item() == pytest.approx(-mean(f))
    assert lsgan.d_loss(REAL, FAKE).item() == pytest.approx(0.5 * mean([(x - 1) ** 2 for x in r]) + 0.5 * mean([x * x for x in f]))
    assert lsgan.g_loss(REAL, FAKE).item() == pytest.approx(0.5 * mean([(x - 1) ** 2 for x in f]))
    assert wgan_gp.d_loss(REAL, FAKE).item() == pytest.approx(mean(f) - mean(r))
    assert wgan_gp.wasserstein_estimate(REAL, FAKE)["wasserstein"].item() == pytest.approx(mean(r) - mean(f))


def test_ns_is_exactly_the_papers_bce():
    """Bit for bit the expressions GANStep used before objectives existed (so loss=ns changes no history)."""
    before_d = (F.binary_cross_entropy_with_logits(REAL, torch.ones_like(REAL))
                + F.binary_cross_entropy_with_logits(FAKE, torch.zeros_like(FAKE)))
    assert torch.equal(ns.d_loss(REAL, FAKE), before_d)
    assert torch.equal(ns.g_loss(REAL, FAKE), F.binary_cross_entropy_with_logits(FAKE, torch.ones_like(FAKE)))


class Linear(torch.nn.Module):
    """D(x) = w . x: its input gradient is w everywhere, a known norm."""

    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return x.flatten(1) @ self.w


def test_gradient_penalties_against_known_gradient_norms():
    D = Linear([3.0, 4.0])  # |grad| = 5 at every input
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert gradient_penalty(D, real, fake).item() == pytest.approx((5 - 1) ** 2)
    assert r1(D, real).item() == pytest.approx(25.0)
    gp = gradient_penalty(Linear([0.6, 0.8]), real, fake)  # norm 1: no penalty
    assert gp.item() == pytest.approx(0.0, abs=1e-10)
    D.zero_grad()
    r1(D, real).backward()  # a double backward: d/dw |w|^2 = 2w
    assert D.w.grad.tolist() == pytest.approx([6.0, 8.0])


def test_iwae_with_one_sample_is_the_elbo():
    model, x = TinyVAE(), torch.rand(5, 1, 28, 28)
    torch.manual_seed(3)
    bound, rec, kl = negative_iwae(model, x, 1, contextlib.nullcontext)
    torch.manual_seed(3)  # the same draw of z
    rec_elbo, kl_elbo = negative_elbo(model, x, contextlib.nullcontext)
    assert torch.equal(bound, rec_elbo + kl_elbo) and torch.equal(rec, rec_elbo) and torch.equal(kl, kl_elbo)


def test_iwae_weights_are_the_hand_computed_importance_weights():
    model, x, k = TinyVAE(), torch.rand(3, 1, 28, 28), 4
    torch.manual_seed(1)
    bound = negative_iwae(model, x, k, contextlib.nullcontext)[0]
    torch.manual_seed(1)
    mu, logvar = model.encode(x)
    z = mu + torch.randn(k, *mu.shape) * torch.exp(0.5 * logvar)
    normal = torch.distributions.Normal
    log_w = torch.stack([
        -F.binary_cross_entropy(model.decode(z[i]), x, reduction="none").flatten(1).sum(1)
        + normal(0, 1).log_prob(z[i]).sum(1) - normal(mu, torch.exp(0.5 * logvar)).log_prob(z[i]).sum(1)
        for i in range(k)])
    expected = -(torch.logsumexp(log_w, 0) - math.log(k)).sum()
    assert bound.item() == pytest.approx(expected.item(), rel=1e-5)


def test_iwae_bound_is_tighter_with_more_samples():
    model, x = TinyVAE(), torch.rand(64, 1, 28, 28)
    torch.manual_seed(0)
    one = negative_iwae(model, x, 1, contextlib.nullcontext)[0].item()
    many = negative_iwae(model, x, 50, contextlib.nullcontext)[0].item()
    assert many < one


def test_kl_warmup_rises_linearly_to_beta():
    cfg = ELBOConfig(beta=2.0, kl_warmup_steps=4)
    assert [kl_weight(cfg, s) for s in range(6)] == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    assert kl_weight(ELBOConfig(), 0) == 1.0


def test_continuous_bernoulli_decoder_samples_are_its_means():
    cb = make_likelihood("continuous_bernoulli", None)
    lam = torch.tensor([0.1, 0.5, 0.9])
    assert cb.image(lam).tolist() == pytest.approx([0.1 / (0.2 - 1) + 1 / (2 * math.atanh(0.8)), 0.5,
                                                     0.9 / 0.8 + 1 / (2 * math.atanh(-0.8))], rel=1e-5)
    assert make_likelihood("bernoulli", None).image(lam) is lam


@pytest.mark.parametrize("loss", ["ns", "elbo"])
def test_naming_the_papers_objective_changes_no_number(loss, tmp_path, mnist_root):
    model = "linear_gan" if loss == "ns" else "linear_vae"
    base = [f"model={model}", *TINY, "trainer.max_steps=4", "trainer.epochs=2", "data.subset=256"]
    run(make_config(base), tmp_path / "auto")
    run(make_config([*base, f"loss={loss}"]), tmp_path / "named")
    assert without_timing(rundir.read_history(tmp_path / "auto")) == without_timing(rundir.read_history(tmp_path / "named"))


GAN_OBJECTIVES = ["ns", "minimax", "hinge", "wgan_gp", "lsgan", "ns_r1"]
VAE_OBJECTIVES = ["elbo", "elbo_beta05", "elbo_beta4", "iwae", "elbo_cb", "elbo loss.likelihood=gaussian",
                  "elbo loss.likelihood=gaussian loss.sigma=0.1", "elbo loss.kl_warmup_steps=2"]


@pytest.mark.parametrize("model", ["linear_gan", "dcgan"])
@pytest.mark.parametrize("objective", GAN_OBJECTIVES)
def test_every_gan_objective_trains_every_gan(model, objective, tmp_path, mnist_root):
    cfg = make_config([f"model={model}", f"loss={objective}", *TINY, "trainer.max_steps=3", "data.subset=128",
                       "loss.d_steps=2"])
    run(cfg, tmp_path)
    summary, row = rundir.read_summary(tmp_path), rundir.read_history(tmp_path)[-1]
    assert summary["status"] == "completed"
    assert set(summary["loss"]["units"]) <= set(row) and all(math.isfinite(row[k]) for k in summary["loss"]["units"])
    if objective == "wgan_gp":
        assert {"wasserstein", "gp"} <= set(row)


@pytest.mark.parametrize("model", ["linear_vae", "conv_vae"])
@pytest.mark.parametrize("objective", VAE_OBJECTIVES)
def test_every_vae_objective_trains_every_vae(model, objective, tmp_path, mnist_root):
    name, *knobs = objective.split()
    run(make_config([f"model={model}", f"loss={name}", *knobs, *TINY, "trainer.max_steps=3", "data.subset=128"]),
        tmp_path)
    summary, row = rundir.read_summary(tmp_path), rundir.read_history(tmp_path)[-1]
    assert summary["status"] == "completed"
    # The test -ELBO is the true one (beta = 1) in the run's own likelihood: its two parts add up to it.
    rec = next(k for k in row if k.startswith("test_") and k not in ("test_loss", "test_kl"))
    assert row["test_loss"] == pytest.approx(row[rec] + row["test_kl"], rel=1e-6)


def test_learned_sigma_is_trained_and_resumed(tmp_path, mnist_root):
    cfg = make_config(["model=linear_vae", "loss=elbo", "loss.likelihood=gaussian", *TINY, "trainer.max_steps=3"])
    trainer = Trainer(cfg, tmp_path)
    before = trainer.step_fn.likelihood.log_sigma.item()
    trainer.fit()
    after = trainer.step_fn.likelihood.log_sigma.item()
    assert after != before
    resumed = Trainer(cfg, tmp_path / "b")
    resumed.load_checkpoint(trainer.checkpoint())
    assert resumed.step_fn.likelihood.log_sigma.item() == after


def test_ema_of_the_generator_survives_kill_and_resume(tmp_path, mnist_root, monkeypatch):
    overrides = ["model=linear_gan", "model.ema_decay=0.9", "loss=hinge", "loss.d_steps=2", *TINY,
                 "trainer.max_steps=null", "trainer.epochs=3", "data.subset=384"]
    run(make_config(overrides), tmp_path / "whole")
    train_epoch = Trainer.train_epoch

    def killed_in_epoch_2(self, epoch, batches=None):
        if epoch == 2:
            raise KeyboardInterrupt  # not caught by the run: like a kill after epoch 1's checkpoint
        return train_epoch(self, epoch, batches)

    monkeypatch.setattr(Trainer, "train_epoch", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        run(make_config(overrides), tmp_path / "killed")
    monkeypatch.setattr(Trainer, "train_epoch", train_epoch)
    run(make_config([*overrides, "trainer.resume=true"]), tmp_path / "killed")
    assert without_timing(rundir.read_history(tmp_path / "killed")) == without_timing(rundir.read_history(tmp_path / "whole"))
    whole = rundir.read_checkpoint(tmp_path / "whole" / rundir.CHECKPOINT)["model"]
    killed = rundir.read_checkpoint(tmp_path / "killed" / rundir.CHECKPOINT)["model"]
    ema = [k for k in whole if k.startswith("ema.")]
    assert ema and all(torch.equal(whole[k], killed[k]) for k in ema)
    assert not torch.equal(whole["ema.module.0.weight"], whole["generator.0.weight"])  # an average, not a copy


def test_ema_generator_is_evaluated_beside_the_raw_one(tmp_path, mnist_root):
    cfg = make_config(["model=linear_gan", "model.ema_decay=0.5", *TINY, "trainer.max_steps=2", "eval=fast",
                       "eval.enabled=true", "eval.n_samples=200"])
    run(cfg, tmp_path)
    metrics = rundir.read_summary(tmp_path)["metrics"]
    assert {"fid", "ema_fid", "ema_precision"} <= set(metrics) and "ema_floor_fid" not in metrics
    assert metrics["ema_fid"] != metrics["fid"]


REFUSED = [  # (overrides, words the message must contain)
    (["model=linear_vae", "loss=hinge"], ["loss", "hinge", "vae", "elbo"]),
    (["model=linear_gan", "loss=elbo"], ["loss", "gan", "ns"]),
    (["loss=focal"], ["focal", "wgan_gp", "iwae"]),
    (["model=linear_vae", "loss=elbo", "loss.beta=-1"], ["loss.beta", "non-negative"]),
    (["model=linear_vae", "loss=iwae", "loss.k=0"], ["loss.k", "positive"]),
    (["model=linear_vae", "loss=elbo", "loss.likelihood=poisson"], ["loss.likelihood", "continuous_bernoulli"]),
    (["loss=ns", "loss.d_steps=0"], ["loss.d_steps", "positive"]),
    (["loss=wgan_gp", "loss.gp_weight=-10"], ["loss.gp_weight", "non-negative"]),
    (["loss=hinge", "loss.r1_gamma=-1"], ["loss.r1_gamma", "non-negative"]),
    (["model.ema_decay=1.0"], ["model.ema_decay", "[0, 1)"]),
    (["model.ema_decay=-0.5"], ["model.ema_decay", "[0, 1)"]),
    (["loss=wgan_gp", "trainer.compile=true"], ["double backward", "trainer.compile=false"]),
    (["loss=ns_r1", "trainer.compile=true"], ["double backward"]),
    (["loss.beta=0.5"], ["beta"]),  # loss=auto has no knobs
    (["trainer.cpu_budget_s=0"], ["trainer.cpu_budget_s", "positive"]),
]


@pytest.mark.parametrize("overrides, words", REFUSED, ids=[" ".join(r[0]) for r in REFUSED])
def test_bad_objective_is_refused_before_any_data_is_loaded(overrides, words, monkeypatch):
    import gvc.data

    monkeypatch.setattr(gvc.data, "load_split", lambda *a, **k: pytest.fail("data was loaded"))
    try:
        cfg = make_config(["model=linear_gan", *overrides, "trainer=smoke"])
    except Exception as e:  # noqa: BLE001 - Hydra's own type check (a key the schema does not have)
        message = str(e)
    else:
        with pytest.raises(ConfigError) as error:
            validate(cfg)
        message = str(error.value)
    for word in words:
        assert word in message, message


def test_bad_objective_on_the_command_line_names_the_key(tmp_path):
    result = run_gvc("model=conv_vae", "loss=wgan_gp", "trainer=smoke", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode != 0 and "gvc: error: loss=wgan_gp is not allowed" in result.stderr, result.stderr
    assert not (tmp_path / "run" / rundir.HISTORY).exists()


def test_cpu_budget_ends_training(tmp_path, mnist_root):
    cfg = make_config(["model=linear_gan", *TINY, "trainer.max_steps=null", "trainer.epochs=1000",
                       "trainer.cpu_budget_s=0.5"])
    run(cfg, tmp_path)
    summary = rundir.read_summary(tmp_path)
    assert summary["stopped_by"] == "cpu_budget_s" and 0.5 <= summary["train_cpu_s"] < 5


def test_every_objective_declares_its_family_and_units():
    for name in losses.known():
        objective = losses.get(name)
        assert objective.family in ("gan", "vae") and objective.losses and objective.summary
        assert losses.loss_config({"name": name}, objective.family).name == name


@pytest.mark.parametrize("sweep", ["objectives", "objectives_vae"])
def test_every_trial_of_the_objectives_sweeps_is_a_valid_configuration(sweep):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from gvc.config import register_configs
    from tests.conftest import CONF, DATA_ROOT

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        params = compose(config_name="config", overrides=[f"+sweeps={sweep}"], return_hydra_config=True).hydra.sweeper.params
    pairs = [(e, l) for e in params.experiment.split(",") for l in params.loss.split(",")]
    assert len(pairs) == 10 and OmegaConf.to_container(params)["trainer.seed"] == "0,1"
    for experiment, loss in pairs:
        validate(make_config([f"+sweeps={sweep}", f"experiment={experiment}", f"loss={loss}", f"data.root={DATA_ROOT}"]))


# A relativistic GAN (Jolicoeur-Martineau 2019), as a user adds it: one file in gvc/training/losses/ ...
RSGAN_FILE = '''
from dataclasses import dataclass

import torch.nn.functional as F

from gvc.training.losses.base import GANLossConfig, GANLoss
from gvc.training.losses.ns import BCE_UNITS, probabilities

SEEN_REAL = []  # what G's loss received as D(x): the test reads it


def d_loss(out_real, out_fake):
    """-log sigmoid(D(x) - D(G(z))): real images should look more real than fakes."""
    return F.softplus(out_fake - out_real).mean()


def g_loss(out_real, out_gen):
    """-log sigmoid(D(G(z)) - D(x)): fakes should look more real than real images."""
    SEEN_REAL.append(out_real)
    return F.softplus(out_real - out_gen).mean()


@dataclass
class RSGANConfig(GANLossConfig):
    name: str = "rsgan"


LOSS = GANLoss(name="rsgan", family="gan", Config=RSGANConfig, losses=BCE_UNITS, summary="relativistic standard GAN",
               d_loss=d_loss, g_loss=g_loss, diagnostics=probabilities)
'''
# ... and one YAML in conf/loss/.
RSGAN_YAML = """
defaults:
  - rsgan_schema
  - _self_
name: rsgan
"""


def test_a_relativistic_loss_is_one_file_and_one_yaml_and_takes_any_penalty(tmp_path, monkeypatch):
    import importlib
    import shutil
    import sys

    from hydra import compose, initialize_config_dir

    from gvc.config import register_configs
    from tests.conftest import CONF, DATA_ROOT

    (tmp_path / "losses").mkdir()
    (tmp_path / "losses" / "rsgan.py").write_text(RSGAN_FILE)
    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    (conf / "loss" / "rsgan.yaml").write_text(RSGAN_YAML)
    monkeypatch.setattr(losses, "__path__", [*losses.__path__, str(tmp_path / "losses")])
    monkeypatch.setattr(losses, "LOSSES", dict(losses.LOSSES))
    monkeypatch.delitem(sys.modules, "gvc.training.losses.rsgan", raising=False)
    losses.discover()
    register_configs()

    def make(overrides):
        with initialize_config_dir(version_base="1.3", config_dir=str(conf)):
            return compose(config_name="config", overrides=[f"data.root={DATA_ROOT}", *overrides])

    base = ["model=linear_gan", *TINY, "trainer.threads=1", "trainer.max_steps=3", "data.subset=128"]
    cfg = make([*base, "loss=rsgan", "loss.gp_weight=5", "loss.r1_gamma=1"])  # both penalties, on a new loss
    validate(cfg)
    run(cfg, tmp_path / "run")
    summary, row = rundir.read_summary(tmp_path / "run"), rundir.read_history(tmp_path / "run")[-1]
    assert summary["status"] == "completed" and summary["loss"]["name"] == "rsgan"
    assert {"loss_d", "loss_g", "gp", "r1"} <= set(row) and row["gp"] > 0 and row["r1"] > 0
    seen = importlib.import_module("gvc.training.losses.rsgan").SEEN_REAL
    # G's loss saw D(x) at every G update, one detached output per real image
    assert len(seen) == summary["steps"] and seen[0].numel() == min(128, cfg.data.batch_size)
    assert not seen[0].requires_grad
    with pytest.raises(ConfigError, match="double backward"):  # the penalties' own fact, whatever the loss
        validate(make([*base, "loss=rsgan", "loss.gp_weight=5", "trainer.compile=true"]))


def test_a_gradient_penalty_combines_with_any_gan_loss(tmp_path):
    run(make_config(["model=linear_gan", "loss=hinge", "loss.gp_weight=10", *TINY, "trainer.max_steps=3",
                     "data.subset=128", "trainer.threads=1"]), tmp_path)
    summary, row = rundir.read_summary(tmp_path), rundir.read_history(tmp_path)[-1]
    assert summary["status"] == "completed" and row["gp"] > 0
    assert summary["loss"]["units"]["gp"] == "squared gradient-norm excess"
