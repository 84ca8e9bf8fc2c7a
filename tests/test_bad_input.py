"""Bad input is refused before any compute, with a non-zero exit and a message naming the problem."""

import pytest

from gvc import rundir
from tests.conftest import run_gvc

BAD = [  # (override, words the message must contain)
    ("model=wgan", ["model", "wgan"]),
    ("optimizer=sgdd", ["optimizer", "sgdd"]),
    ("optimizer.lr=-1e-3", ["optimizer.lr", "positive"]),
    ("optimizer.lr=0", ["optimizer.lr", "positive"]),
    ("optimizer.lr=fast", ["lr", "fast"]),
    ("data.batch_size=0", ["data.batch_size", "positive"]),
    ("data.batch_size=-64", ["data.batch_size", "positive"]),
    ("data.subset=60001", ["data.subset", "60000"]),
    ("data.subset=0", ["data.subset"]),
    ("trainer.device=tpu", ["trainer.device", "cpu"]),
    ("trainer.device=cuda:0", ["CUDA is not available"]),
    ("model.dropout=1.0", ["model.dropout", "[0, 1)"]),
    ("model.dropout=-0.1", ["model.dropout", "[0, 1)"]),
    ("model.latent_dim=0", ["model.latent_dim", "positive"]),
    ("trainer.epochs=0", ["trainer.epochs", "positive"]),
    ("trainer.epoch=3", ["epoch", "TrainerConfig"]),
    ("+trainer.foo=1", ["foo", "unknown"]),
    ("optimizer.beta2=1.5", ["optimizer.beta2", "[0, 1)"]),
    ("trainer.precision=fp8", ["trainer.precision", "bf16"]),
    ("trainer.sample_every=0", ["trainer.sample_every"]),
    ("trainer.objective=fdi", ["trainer.objective", "fid"]),
    ("trainer.objective=test_loss", ["trainer.objective", "loss_g"]),  # a VAE loss for a GAN
]


@pytest.mark.parametrize("override, words", BAD, ids=[b[0] for b in BAD])
def test_bad_override_is_refused_before_training(override, words, tmp_path):
    out = tmp_path / "run"
    result = run_gvc("model=linear_gan", override, "trainer=smoke", f"hydra.run.dir={out}", timeout=120)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    for word in words:
        assert word in message, message
    assert not (out / rundir.HISTORY).exists() and not (out / rundir.CHECKPOINT).exists()


def test_bad_eval_setting_is_refused(tmp_path):
    result = run_gvc("model=linear_gan", "eval.n_samples=2", "trainer=smoke", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode != 0 and "eval.n_samples" in result.stderr
