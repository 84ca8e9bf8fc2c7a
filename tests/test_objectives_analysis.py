"""Analysis of runs with different objectives: configurations (everything but the seed) are compared, never
pooled; a critic's curves are losses, not metrics; -ELBOs of different likelihoods are never ranked; the
report's departures list the objective and every model / objective knob."""

import pandas as pd
import pytest
from omegaconf import OmegaConf

from analysis.collect import collect
from analysis.conclusions import claims_per_objective, paper_claims
from analysis.protocol import departures_long
from analysis.tables import best_configurations, configuration_table, objective_directions, results_table
from gvc.trial import rundir
from tests.test_analysis import make_run


def objective_run(path, model, loss: dict, seed: int, metrics: dict, final: dict | None = None, history=None,
                  ema_decay=None):
    make_run(path, model, seed=seed, metrics=metrics, final=final,
             objective="fid" if "fid" in metrics else "test_loss")
    config = OmegaConf.load(path / rundir.HYDRA_CONFIG)
    config.loss = {k: v for k, v in loss.items() if k != "units"}
    if model == "dcgan":
        config.model.ema_decay = ema_decay
    OmegaConf.save(config, path / rundir.HYDRA_CONFIG)
    summary = rundir.read_summary(path)
    summary["loss"] = loss
    rundir.write_summary(path, summary)
    if history is not None:
        rundir.write_history(path, history)
    return path


NS = {"name": "ns", "d_steps": 1, "r1_gamma": 0.0, "units": {"loss_d": "nats", "loss_g": "nats"}}
HINGE = {"name": "hinge", "d_steps": 1, "r1_gamma": 0.0, "units": {"loss_d": "objective value"}}
WGAN = {"name": "wgan_gp", "d_steps": 1, "r1_gamma": 0.0, "gp_weight": 10.0,
        "units": {"loss_d": "critic units", "loss_g": "critic units", "wasserstein": "critic units", "gp": "x"}}
ELBO = {"name": "elbo", "likelihood": "bernoulli", "sigma": None, "beta": 1.0, "kl_warmup_steps": 0,
        "units": {"loss": "nats", "bce": "nats", "kl": "nats"}}
CB = {**ELBO, "likelihood": "continuous_bernoulli", "units": {"loss": "nats", "rec_nll": "nats", "kl": "nats"}}


@pytest.fixture(scope="module")
def objectives_sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("objectives")
    for seed, (ns_fid, hinge_fid) in enumerate([(300.0, 100.0), (320.0, 110.0)]):
        objective_run(root / f"ns_{seed}", "dcgan", NS, seed, {"fid": ns_fid, "noise_fid": 1100.0})
        objective_run(root / f"hinge_{seed}", "dcgan", HINGE, seed, {"fid": hinge_fid, "noise_fid": 1100.0})
        objective_run(root / f"elbo_{seed}", "conv_vae", ELBO, seed, {"fid": 200.0 + seed, "noise_fid": 1100.0},
                      final={"loss": 100.0, "bce": 95.0, "kl": 5.0, "test_loss": 100.0 + seed})
        objective_run(root / f"cb_{seed}", "conv_vae", CB, seed, {"fid": 250.0 + seed, "noise_fid": 1100.0},
                      final={"loss": -900.0, "rec_nll": -905.0, "kl": 5.0, "test_loss": -900.0 + seed})
    objective_run(root / "wgan", "dcgan", WGAN, 0, {"fid": 500.0}, ema_decay=0.99,
                  history=[{"epoch": 1, "step": 5, "elapsed_s": 1.0, "images": 640, "loss_d": -1.0, "loss_g": 1.0,
                            "wasserstein": 3.0, "gp": 0.1}])
    return collect([root])


def test_runs_are_grouped_by_configuration_and_the_verdict_uses_the_best_ones_seeds(objectives_sweep):
    configs = configuration_table(objectives_sweep).set_index(["model", "objective"])
    assert configs.loc[("dcgan", "ns"), "seeds"] == 2 and configs.loc[("dcgan", "hinge"), "best"] == "yes"
    assert best_configurations(objectives_sweep)["conv_vae"].count("bernoulli") == 1
    fid = results_table(objectives_sweep).set_index(["model", "metric"]).loc[("dcgan", "fid")]
    assert fid["n"] == 2 and fid["mean"] == pytest.approx(105.0)  # hinge's two seeds, not ns, hinge and wgan pooled
    assert fid["best"] == 100.0


def test_a_critics_wasserstein_estimate_is_a_training_curve_not_a_metric(objectives_sweep):
    assert "wasserstein" not in objectives_sweep.metric_names
    assert "wasserstein" not in objectives_sweep.history_metric_names and "gp" not in objectives_sweep.history_metric_names


def test_elbos_of_different_likelihoods_are_never_ranked(objectives_sweep):
    vae = results_table(objectives_sweep).query("model == 'conv_vae'")
    # "Convolution helps" compares conv_vae with linear_vae: give them different decoder likelihoods.
    results = pd.concat([vae.assign(likelihood="bernoulli"),
                         vae.assign(model="linear_vae", likelihood="continuous_bernoulli")], ignore_index=True)
    claims = paper_claims(results, pd.DataFrame(columns=["model"]), objective_directions(objectives_sweep))
    evidence = [e for c in claims for e in c.evidence if "ELBO" in e.metric]
    assert evidence and all(e.outcome.startswith("not comparable") for e in evidence)
    fid = [e for c in claims for e in c.evidence if e.metric.startswith("FID")]
    assert fid and not any(e.outcome.startswith("not comparable") for e in fid)  # FID is one scale for all


def test_the_claims_are_answered_per_objective(objectives_sweep):
    table = claims_per_objective(objectives_sweep, objective_directions(objectives_sweep))
    assert {"ns", "hinge", "wgan_gp", "elbo", "elbo likelihood=continuous_bernoulli"} <= set(table["objective"])
    blurrier = table[(table["objective"] == "hinge") & table["claim"].str.startswith("VAEs are blurrier")]
    assert blurrier["verdict"].iloc[0] != "not measured"  # hinge GANs against the paper's VAEs
    assert "fid" in blurrier["evidence"].iloc[0].lower()


def test_departures_name_the_objective_and_its_knobs(objectives_sweep):
    long = departures_long(objectives_sweep.table).set_index(["model", "setting"])
    assert long.loc[("dcgan", "objective"), "departs"] is True and "hinge" in long.loc[("dcgan", "objective"), "value"]
    assert long.loc[("conv_vae", "loss.likelihood"), "departs"] is True
    assert long.loc[("dcgan", "model.ema_decay"), "departs"] is True and "0.99" in long.loc[("dcgan", "model.ema_decay"), "value"]
    assert long.loc[("conv_vae", "model.dropout"), "departs"] is False  # every model knob is checked
    assert ("conv_vae", "loss.d_steps") not in long.index  # a GAN knob is not a VAE's departure
