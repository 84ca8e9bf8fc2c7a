"""One GAN step: a discriminator update on a detached fake batch and, every `loss.d_steps` steps, a generator
update; the losses are the configured loss's (gvc/training/losses/: ns, the paper's, by default), D's plus every
penalty its config turns on (gvc/training/losses/penalties.py)."""

from __future__ import annotations

from typing import Any

import torch

from gvc.models import GAN
from gvc.training.losses import get, loss_config
from gvc.training.losses.base import GANLossConfig
from gvc.training.losses.penalties import active


class GANStep:
    def __init__(self, model: GAN, optimizers: dict[str, torch.optim.Optimizer], autocast, compile: bool = False,
                 loss: GANLossConfig | None = None):
        self.model, self.autocast = model, autocast
        self.loss = loss if loss is not None else loss_config(None, "gan")
        self.spec = get(self.loss.name)
        self.opt_g, self.opt_d = optimizers["generator"], optimizers["discriminator"]
        self.d_params = list(model.discriminator.parameters())
        # Compiled callables live here, not in the model, so checkpoints keep the plain state-dict keys.
        wrap = torch.compile if compile else (lambda m: m)
        self.G, self.D = wrap(model.generator), wrap(model.discriminator)
        # (penalty, its weight in D's loss) for each penalty the config turns on
        self.penalties = [(p, p.scale * p.weight_of(self.loss)) for p in active(self.loss)]
        self.loss_names = tuple(self.spec.losses) + tuple(p.name for p, _ in self.penalties)
        self.last_loss_g: torch.Tensor | None = None  # returned on D-only steps (loss.d_steps > 1)

    def units(self) -> dict[str, str]:
        """Each logged loss's unit (summary.json records them; analysis reads them)."""
        return {**self.spec.losses, **{p.name: p.unit for p, _ in self.penalties}}

    def __call__(self, real: torch.Tensor, step: int = 0) -> dict[str, torch.Tensor]:
        G, D, spec = self.G, self.D, self.spec
        b = real.shape[0]
        out: dict[str, torch.Tensor] = {}
        # (1) Update D: minimise the loss's D loss (plus the penalties) on real and detached fake images.
        z = torch.randn(b, self.model.latent_dim, device=real.device)
        with self.autocast():
            fake = G(z).view_as(real)
            logit_real = D(real).float()
            logit_fake = D(fake.detach()).float()
            loss_d = spec.d_loss(logit_real, logit_fake)
        for penalty, weight in self.penalties:
            out[penalty.name] = penalty.fn(D, real, fake, self.autocast)
            loss_d = loss_d + weight * out[penalty.name]
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        # (2) Update G every d_steps D updates (at the first step of each cycle): minimise its loss on fresh fakes.
        if step % self.loss.d_steps == 0 or self.last_loss_g is None:
            # D's weight gradients are discarded in the G step, so don't compute them (same result, less work).
            for p in self.d_params:
                p.requires_grad_(False)
            z = torch.randn(b, self.model.latent_dim, device=real.device)  # a fresh batch for G, as the notebooks
            with self.autocast():
                logit_gen = D(G(z).view_as(real)).float()
                loss_g = spec.g_loss(logit_real.detach(), logit_gen)
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
            for p in self.d_params:
                p.requires_grad_(True)
            self.model.update_ema()
            self.last_loss_g = loss_g.detach()

        with torch.no_grad():
            diagnostics = spec.diagnostics(logit_real.detach(), logit_fake.detach())
        # Every name at every step (the loop sums them on the device); loss_g is the latest G update's.
        losses = {"loss_d": loss_d.detach(), "loss_g": self.last_loss_g, **diagnostics,
                  **{k: v.detach() for k, v in out.items()}}
        return {name: losses[name] for name in self.loss_names}

    def attach_data(self, data: Any, n_train: int, to_device: Any) -> None:
        """A GAN's epoch needs no held-out data."""

    def epoch_extras(self) -> dict[str, float]:
        """Nothing beyond the epoch's loss means."""
        return {}

    def probe(self, batch: torch.Tensor) -> list[torch.Tensor]:
        """D's outputs on a batch, which the loop checks for overflow when a step raised."""
        return [self.model.discriminator(batch)]

    def state_dict(self) -> dict[str, Any]:
        """The step's own state beyond the networks and optimisers (EMA weights live in the model): the latest G
        loss, which D-only steps report and whose absence would force a G update after a resume."""
        return {"last_loss_g": None if self.last_loss_g is None else self.last_loss_g.cpu()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        last = state.get("last_loss_g")
        self.last_loss_g = None if last is None else last.to(self.opt_g.param_groups[0]["params"][0].device)
