"""Bad input is refused before any compute: one `gvc: error:` line naming the key and the fix, exit status 2,
no traceback, and no folder left behind. Most cases are checked in-process (gvc.cli.check, what `python -m gvc`
runs before Hydra); a few run as a user runs them, for the exit status, the one line and the missing folder."""

import pytest
import torch

from gvc.cli import check
from gvc.config import ConfigError
from tests.conftest import run_gvc

BAD = [  # (override, words the message must contain)
    ("model=wgan", ["model=wgan", "dcgan"]),
    ("optimizer=sgdd", ["optimizer=sgdd", "adam"]),
    ("optimizer.lr=-1e-3", ["optimizer.lr", "positive"]),
    ("optimizer.lr=0", ["optimizer.lr", "positive"]),
    ("optimizer.lr=fast", ["optimizer.lr", "fast"]),
    ("optimizer.learning_rate=1e-3", ["optimizer.learning_rate", "Did you mean `optimizer.lr`"]),
    ("data.batch_size=0", ["data.batch_size", "positive"]),
    ("data.batch_size=-64", ["data.batch_size", "positive"]),
    ("data.batchsize=64", ["Did you mean `data.batch_size`"]),
    ("data.subset=60001", ["data.subset", "60000"]),
    ("data.subset=0", ["data.subset"]),
    ("trainer.device=tpu", ["trainer.device", "cpu"]),
    ("model.dropout=1.0", ["model.dropout", "[0, 1)"]),
    ("model.dropout=-0.1", ["model.dropout", "[0, 1)"]),
    ("model.latent_dim=0", ["model.latent_dim", "positive"]),
    ("trainer.epochs=0", ["trainer.epochs", "positive"]),
    ("trainer.epoch=3", ["trainer.epoch", "Did you mean `trainer.epochs`"]),
    ("+trainer.foo=1", ["trainer.foo", "unknown"]),
    ("+trainer.epoch=1", ["trainer.epoch", "Did you mean `trainer.epochs`"]),
    ("modle=dcgan", ["modle", "Did you mean `model`"]),
    ("optimizer.beta2=1.5", ["optimizer.beta2", "[0, 1)"]),
    ("trainer.precision=fp8", ["trainer.precision", "bf16"]),
    ("trainer.sample_every=0", ["trainer.sample_every"]),
    ("trainer.objective=fdi", ["trainer.objective", "fid"]),
    ("trainer.objective=test_loss", ["trainer.objective", "loss_g"]),  # a VAE loss for a GAN
    ("trainer.time_budget_s=0", ["trainer.time_budget_s", "positive"]),
    ("trainer.time_budget_s=-5", ["trainer.time_budget_s", "positive"]),
    ("trainer.time_budget_s=inf", ["trainer.time_budget_s", "positive"]),
    ("trainer.time_budget_s=ten", ["trainer.time_budget_s", "ten"]),
    ("trainer.max_images=0", ["trainer.max_images", "positive"]),
    ("trainer.max_images=many", ["trainer.max_images", "many"]),
    ("eval.n_samples=2", ["eval.n_samples"]),
    ("logger=wandb", ["logger=wandb", "mlflow", "tensorboard"]),
    ("logger.mlflow.experiment=x", ["logger=mlflow logger.mlflow.experiment=x"]),  # the key before its group
    ("logger.wandb.project=x", ["wandb", "mlflow"]),
    ("optimizer.lr=[1", ["cannot read the override"]),
]


@pytest.mark.parametrize("override, words", BAD, ids=[b[0] for b in BAD])
def test_bad_override_is_refused_naming_the_key(override, words):
    with pytest.raises(ConfigError) as refused:
        check(["model=linear_gan", override, "trainer=smoke"])
    for word in words:
        assert word in str(refused.value)
    assert "\n" not in str(refused.value)  # one line


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("override, fix", [("trainer=gpu", "trainer=gpu asks for CUDA.*trainer=cpu"),
                                           ("trainer.device=cuda:0", "use trainer.device=auto or cpu$")])
def test_a_cuda_run_on_a_machine_without_cuda_is_refused_with_the_fix(override, fix):
    with pytest.raises(ConfigError, match=f"CUDA is not available.*{fix}"):
        check(["model=linear_gan", override])


def test_a_sweep_is_checked_for_what_its_trials_share_and_its_values_are_left_to_the_trials():
    check(["model=linear_gan", "optimizer.lr=1e-4,-1", "trainer=smoke"], multirun=True)  # -1: one failed trial
    with pytest.raises(ConfigError, match="Did you mean `optimizer.lr`"):
        check(["model=linear_gan", "optimizer.learning_rate=1e-4,2e-4"], multirun=True)
    with pytest.raises(ConfigError, match="model=wgan"):
        check(["model=wgan", "optimizer.lr=1e-4,2e-4"], multirun=True)


def test_a_slurm_launcher_with_sbatch_but_no_cluster_names_the_missing_slurm_conf(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sbatch", "scontrol"):  # installed, but with no cluster configured scontrol fails
        (bin_dir / tool).write_text("#!/bin/sh\necho 'error: cannot find slurm.conf' >&2\nexit 1\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("SLURM_CONF", str(tmp_path / "nowhere" / "slurm.conf"))
    with pytest.raises(ConfigError, match="no cluster is configured.*SLURM_CONF.*slurm-local.sh up"):
        check(["hydra/launcher=slurm_cpu", "model=linear_vae", "optimizer.lr=1e-4,2e-4"], multirun=True)


SUBPROCESS = [  # what a user sees: (override, words)
    ("optimizer.lr=-1", ["optimizer.lr=-1.0", "Fix it with `optimizer.lr=...`"]),
    ("optimizer.learning_rate=1e-3", ["Did you mean `optimizer.lr`"]),
    ("logger.mlflow.experiment=x", ["logger=mlflow"]),
]


@pytest.mark.parametrize("override, words", SUBPROCESS, ids=[s[0] for s in SUBPROCESS])
def test_a_refusal_is_one_line_exit_2_and_leaves_no_folder(override, words, tmp_path):
    out = tmp_path / "run"
    result = run_gvc("model=linear_gan", override, "trainer=smoke", f"hydra.run.dir={out}", cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gvc: error: "), result.stderr
    for word in words:
        assert word in lines[0]
    assert not out.exists() and not (tmp_path / "outputs").exists()


def test_a_slurm_launcher_without_sbatch_says_where_to_run_the_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    with pytest.raises(ConfigError, match="`sbatch` is not on PATH.*scripts/slurm-local.sh up"):
        check(["hydra/launcher=slurm_gpu", "model=linear_vae", "optimizer.lr=1e-4,2e-4"], multirun=True)


NAMED_AS_TYPED = [  # (overrides, words the refusal must contain, words it must not)
    (["model=linear_gan", "loss=elbo_beta4"], ["loss=elbo_beta4", "vae family", "'ns_r1'", "'auto'"], ["loss='elbo'"]),
    (["model=linear_vae", "loss=ns_r1"], ["loss=ns_r1", "gan family", "'elbo_beta4'", "'iwae'"], []),
    (["model=linear_vae", "loss.k=5"], ["loss.k is a key of loss=iwae", "loss=auto", "`loss=iwae loss.k=...`"],
     ["not a config key"]),
    (["model=linear_vae", "model.ema_decay=0.99"], ["model.ema_decay", "GANs only", "model=dcgan", "model=linear_vae"],
     ["not a config key"]),
    (["model=linear_vae", "trainer.device=cuda"], ["CUDA is not available"], ["trainer=gpu"]),
    (["model=linear_vae", "hydra/launcher=slurm_cpu"], ["hydra/launcher=slurm_cpu", "sweeps only", "-m"], []),
]


@pytest.mark.parametrize("overrides, words, absent", NAMED_AS_TYPED, ids=[" ".join(n[0]) for n in NAMED_AS_TYPED])
def test_a_refusal_names_what_was_typed_and_where_the_key_belongs(overrides, words, absent):
    if "trainer.device=cuda" in overrides and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError) as refused:
        check(overrides)
    message = str(refused.value)
    assert all(w in message for w in words) and not any(w in message for w in absent), message
    assert "\n" not in message


WARNED = [  # (overrides, words of the one warning line)
    (["trainer.threads=4096"], ["gvc: warning: trainer.threads=4096 is more than the", "cores"]),
    (["data.batch_size=4096", "data.subset=2000"], ["gvc: warning: data.batch_size=4096", "2,000 training images",
                                                     "data.subset=2000"]),
]


@pytest.mark.parametrize("overrides, words", WARNED, ids=[" ".join(w[0]) for w in WARNED])
def test_a_setting_that_runs_but_not_as_meant_gets_one_warning_line(overrides, words, capsys):
    check(["model=linear_gan", "trainer=smoke", *overrides])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), lines


def test_ordinary_settings_get_no_warning(capsys):
    check(["model=linear_gan", "trainer=smoke", "trainer.threads=1", "data.subset=2000"])
    assert capsys.readouterr().err == ""
