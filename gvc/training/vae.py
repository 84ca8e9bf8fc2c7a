"""One VAE step, its per-epoch test −ELBO and the held-out split it is computed on. The objective (gvc/training/losses/: elbo, the paper's, by default) sets
the KL weight or the importance samples; the decoder likelihood (Bernoulli, the paper's BCE, by default) the
reconstruction term. KL is to N(0, I), in closed form."""

from __future__ import annotations

import logging
import math
from typing import Any, Callable

import torch

from gvc.models import VAE
from gvc.training.losses import get, loss_config
from gvc.training.losses.base import VAELossConfig
from gvc.training.losses.decoders import BERNOULLI, DecoderLikelihood, attach, units

log = logging.getLogger(__name__)


def proportionate_test_subset(subset: int | None, test_subset: int | None, n_train: int, n_test: int) -> int | None:
    """data.test_subset if set; else, for a training subset, the same share of the test split (at least 1)."""
    if test_subset is not None or subset is None:
        return test_subset
    return max(1, min(n_test, -(-subset * n_test // n_train)))


def _kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def negative_elbo(model: VAE | Callable, x: torch.Tensor, autocast,
                  likelihood: DecoderLikelihood = BERNOULLI) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed over the batch: (reconstruction NLL, KL), in nats. The loss is computed in float32 outside autocast."""
    with autocast():
        recon, mu, logvar = model(x)
    recon, mu, logvar = recon.float(), mu.float(), logvar.float()
    # Bernoulli: torch's BCE (logs clamped at -100, a NaN-free backward when the Sigmoid saturates), as the
    # notebooks. It raises on NaN probabilities; the loop reports that as divergence.
    return likelihood.nll(recon, x), _kl(mu, logvar)


def negative_iwae(model: VAE, x: torch.Tensor, k: int, autocast,
                  likelihood: DecoderLikelihood = BERNOULLI) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Summed over the batch: (−log (1/k) Σ w_i, the mean reconstruction NLL over the k draws, KL), in nats.
    w_i = p(x | z_i) p(z_i) / q(z_i | x) with z_i ~ q(z | x); k = 1 is the ELBO."""
    if k == 1:  # the ELBO itself, with its closed-form KL (the lower-variance estimate of the same bound)
        rec, kl = negative_elbo(model, x, autocast, likelihood)
        return rec + kl, rec, kl
    b = x.shape[0]
    with autocast():
        mu, logvar = model.encode(x)
    mu, logvar = mu.float(), logvar.float()
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(k, *mu.shape, device=mu.device)
    z = mu + eps * std  # (k, b, latent)
    with autocast():
        recon = model.decode(z.reshape(k * b, -1)).float().view(k, b, *x.shape[1:])
    # Per-image NLLs of the likelihood (its functions sum over what they get: map them over draws and images).
    nll = torch.func.vmap(torch.func.vmap(likelihood.nll))(recon, x.expand(k, *x.shape))  # (k, b)
    log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
    log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(-1)
    log_w = -nll + log_pz - log_qz
    bound = torch.logsumexp(log_w, dim=0) - math.log(k)
    return -bound.sum(), nll.mean(0).sum(), _kl(mu, logvar)


class VAEStep:
    def __init__(self, model: VAE, optimizers: dict[str, torch.optim.Optimizer], autocast, compile: bool = False,
                 loss: VAELossConfig | None = None):
        self.model, self.autocast, self.opt = model, autocast, optimizers["vae"]
        self.forward = torch.compile(model) if compile else model
        self.loss = loss if loss is not None else loss_config(None, "vae")
        self.spec = get(self.loss.name)
        if model.likelihood is None:  # a model built without its objective (gvc/training/rebuild.py attaches it)
            attach(model, self.loss, next(model.parameters()).device)
        if model.likelihood.name != self.loss.likelihood:
            raise ValueError(f"the model's decoder likelihood is {model.likelihood.name}, its objective trains "
                             f"{self.loss.likelihood}: build the model with gvc.training.rebuild.build")
        self.likelihood = model.likelihood  # its test −ELBO and its samples are in this likelihood
        if self.likelihood.log_sigma is not None:  # a learned σ is trained with the VAE's optimiser
            self.opt.add_param_group({"params": [self.likelihood.log_sigma]})
        self.k = self.spec.samples(self.loss)
        self.loss_names = ("loss", self.likelihood.rec_name, "kl")
        self.held_out: torch.Tensor | None = None  # the test images of the per-epoch −ELBO (attach_data)
        self.batch_size = 1

    def attach_data(self, data: Any, n_train: int, to_device: Callable[[torch.Tensor], torch.Tensor]) -> None:
        """Load the held-out test images of the per-epoch −ELBO (`data`: the config's data section): the first
        data.test_subset (or the training subset's share), binarised once with a fixed seed under data.binarize."""
        from gvc.data import load_split

        test = load_split(data.name, data.root, train=False, download=data.download).images
        n = proportionate_test_subset(data.subset, data.test_subset, n_train, len(test))
        if data.test_subset is None and n is not None:
            log.info("per-epoch test -ELBO on the first %d test images (data.subset=%d is %.1f%% of the training "
                     "split; set data.test_subset to choose)", n, data.subset, 100 * data.subset / n_train)
        test = to_device(test if n is None else test[:n])
        if data.binarize == "dynamic":  # the test -ELBO on binary images, drawn once
            test = torch.bernoulli(test, generator=torch.Generator(device=test.device).manual_seed(0))
        self.held_out, self.batch_size = test, data.batch_size

    def epoch_extras(self) -> dict[str, float]:
        """The epoch row's test −ELBO (test_loss) and its parts, on the held-out split (the trial's random stream
        is the caller's)."""
        if self.held_out is None:
            return {}
        return test_negative_elbo(self.model, self.held_out, self.batch_size, self.autocast)

    def probe(self, batch: torch.Tensor) -> list[torch.Tensor]:
        """The model's outputs on a batch, which the loop checks for overflow when a step raised."""
        return list(self.model(batch))

    def units(self) -> dict[str, str]:
        return {**self.spec.losses, self.likelihood.rec_name: units(self.likelihood)}

    def __call__(self, x: torch.Tensor, step: int = 0) -> dict[str, torch.Tensor]:
        if self.k:
            loss, rec, kl = negative_iwae(self.model, x, self.k, self.autocast, self.likelihood)
        else:
            rec, kl = negative_elbo(self.forward, x, self.autocast, self.likelihood)
            weight = self.spec.kl_weight(self.loss, step)
            loss = rec + kl if weight == 1.0 else rec + weight * kl  # summed over the batch, as pytorch/examples
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        b = x.shape[0]  # reported per image
        return {"loss": loss.detach() / b, self.likelihood.rec_name: rec.detach() / b, "kl": kl.detach() / b}

    def state_dict(self) -> dict[str, Any]:
        """The objective's own state beyond the networks and optimisers: its likelihood's (a learned Gaussian σ)."""
        return self.likelihood.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.likelihood.load_state_dict(state)


@torch.no_grad()
def test_negative_elbo(model: VAE, data: torch.Tensor, batch_size: int, autocast) -> dict[str, float]:
    """Per-image true −ELBO (β = 1) in the model's own likelihood, and its two parts, on held-out data, in eval
    mode (no dropout)."""
    was_training = model.training
    model.eval()
    likelihood = getattr(model, "likelihood", None) or BERNOULLI
    totals = torch.zeros(2, device=data.device)
    for i in range(0, len(data), batch_size):
        rec, kl = negative_elbo(model, data[i : i + batch_size], autocast, likelihood)
        totals += torch.stack([rec, kl])
    model.train(was_training)
    rec, kl = (totals / len(data)).tolist()
    return {"test_loss": rec + kl, f"test_{likelihood.rec_name}": rec, "test_kl": kl}
