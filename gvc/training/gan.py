"""One GAN step: a discriminator update on a detached fake batch, then a non-saturating generator update."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gvc.models import GAN


class GANStep:
    loss_names = ("loss_d", "loss_g", "d_real", "d_fake")

    def __init__(self, model: GAN, optimizers: dict[str, torch.optim.Optimizer], autocast, compile: bool = False):
        self.model, self.autocast = model, autocast
        self.opt_g, self.opt_d = optimizers["generator"], optimizers["discriminator"]
        self.d_params = list(model.discriminator.parameters())
        # Compiled callables live here, not in the model, so checkpoints keep the plain state-dict keys.
        wrap = torch.compile if compile else (lambda m: m)
        self.G, self.D = wrap(model.generator), wrap(model.discriminator)

    def __call__(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        G, D = self.G, self.D
        b = real.shape[0]
        z = torch.randn(b, self.model.latent_dim, device=real.device)
        with self.autocast():
            fake = G(z).view_as(real)
            logit_real = D(real).float()
            logit_fake = D(fake.detach()).float()
            loss_d = (F.binary_cross_entropy_with_logits(logit_real, torch.ones_like(logit_real))
                      + F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake)))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        # D's weight gradients are discarded in the G step, so don't compute them (same result, less work).
        for p in self.d_params:
            p.requires_grad_(False)
        z = torch.randn(b, self.model.latent_dim, device=real.device)  # a fresh batch for G, as the notebooks
        with self.autocast():
            logit_gen = D(G(z).view_as(real)).float()
            loss_g = F.binary_cross_entropy_with_logits(logit_gen, torch.ones_like(logit_gen))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        for p in self.d_params:
            p.requires_grad_(True)

        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "d_real": torch.sigmoid(logit_real.detach()).mean(),  # D's mean probability that real is real
            "d_fake": torch.sigmoid(logit_fake.detach()).mean(),
        }
