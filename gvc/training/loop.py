"""The one training loop shared by GANs and VAEs: epochs, budgets, evaluation, and the hooks that record them.

A GAN and a VAE differ only in their step (gan.py, vae.py). `Trainer.train_epoch` is the hot path (the
throughput benchmark times exactly it); `Trainer.fit` runs epochs until a budget is spent and hands every
epoch's row, sample grid and evaluation to the hooks (gvc.training.hooks): the run-directory writer
(history.csv, samples, checkpoints) and any selected loggers.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torchvision.utils import make_grid
from tqdm import tqdm

from gvc import rundir
from gvc.data import DeviceBatches, load_split, spec_of, to_model_range
from gvc.models import GAN, VAE, build_model
from gvc.training.families import family
from gvc.training.hooks import Hook, Hooks, RunDirWriter
from gvc.training.precision import choose_numeric_path, has_convolutions
from gvc.training.vae import test_negative_elbo

log = logging.getLogger(__name__)

N_FIXED_SAMPLES = 25  # a 5x5 grid, as the paper


class Diverged(RuntimeError):
    def __init__(self, epoch: int, step: int, losses: dict[str, float]):
        super().__init__(f"non-finite loss at epoch {epoch}, step {step}: {losses}")
        self.epoch, self.step, self.losses = epoch, step, losses


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"trainer.device={name!r} but CUDA is not available here; use trainer.device=auto or cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"trainer.device={name!r} but MPS is not available here; use trainer.device=auto or cpu")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA


def make_model(cfg: DictConfig) -> GAN | VAE:
    """The configured model, sized for the configured data set's images."""
    return build_model(cfg.model, spec_of(cfg.data.name).image_shape)


def make_optimizers(model: GAN | VAE, cfg: DictConfig) -> dict[str, torch.optim.Optimizer]:
    o = cfg.optimizer
    adam = dict(betas=(o.beta1, o.beta2), eps=o.eps, weight_decay=o.weight_decay, fused=o.fused)
    kinds = {
        "adam": partial(torch.optim.Adam, **adam),
        "adamw": partial(torch.optim.AdamW, **adam),
        "sgd": partial(torch.optim.SGD, momentum=o.momentum, weight_decay=o.weight_decay),
        "rmsprop": partial(torch.optim.RMSprop, eps=o.eps, momentum=o.momentum, weight_decay=o.weight_decay),
    }
    make = kinds[o.name]
    return {name: make(part.parameters(), lr=o.lr) for name, part in family(model).parts(model).items()}


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": list(np.random.get_state()[1].tolist()),
             "numpy_pos": int(np.random.get_state()[2]), "python": list(random.getstate()[1])}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(("MT19937", np.array(state["numpy"], dtype=np.uint32), state["numpy_pos"], 0, 0.0))
    random.setstate((3, tuple(state["python"]), None))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class TrainState:
    epoch: int = 0  # epochs completed (a last epoch cut short by a budget counts, marked partial in history)
    step: int = 0
    elapsed: float = 0.0  # training seconds so far, summed over resumed segments
    history: list[dict[str, float]] = field(default_factory=list)
    # CPU seconds this process spent in those seconds (all its threads): far below elapsed x threads means other
    # processes took the CPU, and a time budget bought less compute than on an idle machine.
    cpu_s: float = 0.0
    images: int = 0  # training images seen, summed over resumed segments
    stopped_by: str | None = None  # the budget that ended training: one of BUDGETS


# The budgets that can end a run, in the order they are checked at the end of a step.
BUDGETS = ("epochs", "max_steps", "max_images", "time_budget_s")


class Trainer:
    """Builds everything from a validated config and trains into `run_dir`.

    `hooks` (e.g. loggers) are called before the run-directory writer, which is always the last hook.
    """

    def __init__(self, cfg: DictConfig, run_dir: Path, hooks: list[Hook] | None = None):
        self.cfg, self.run_dir, t = cfg, Path(run_dir), cfg.trainer
        self.hooks = Hooks([*(hooks or []), RunDirWriter(self.run_dir)])
        if t.threads is not None:
            torch.set_num_threads(t.threads)
        self.device = resolve_device(t.device)
        seed_everything(t.seed)
        self.model = make_model(cfg).to(self.device)
        self.numerics = choose_numeric_path(t.precision, t.channels_last, self.device, has_convolutions(self.model))
        if self.numerics.note:
            log.info(self.numerics.note)
        if self.numerics.channels_last:
            self.model.to(memory_format=torch.channels_last)
        if self.device.type == "cuda":  # set both ways: cuDNN allows TF32 convolutions by default
            torch.backends.cuda.matmul.allow_tf32 = t.tf32
            torch.backends.cudnn.allow_tf32 = t.tf32
        self.optimizers = make_optimizers(self.model, cfg)
        self.state = TrainState()
        self.metrics: dict[str, float] = {}  # the latest evaluation
        # Fixed latents from their own generator, on the CPU: the same grid on every device.
        self.fixed_z = torch.randn(N_FIXED_SAMPLES, self.model.latent_dim,
                                   generator=torch.Generator().manual_seed(t.seed)).to(self.device)
        self.shuffle = torch.Generator(device=self.device).manual_seed(t.seed)
        enabled = self.numerics.precision == "bf16"
        self.autocast = lambda: torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)
        self.step_fn = family(self.model).step(self.model, self.optimizers, self.autocast, compile=t.compile)
        self.train_data, self.test_data = self._load_data()
        self.batches = DeviceBatches(self.train_data, cfg.data.batch_size, self.shuffle,
                                     binarize=cfg.data.binarize)

    def _load_data(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        d = self.cfg.data
        train = load_split(d.name, d.root, train=True, download=d.download).images
        if d.subset is not None:
            train = train[: d.subset]  # the first N images: transparent, and nearly class-balanced
        to_device = lambda x: to_model_range(x.to(self.device), self.model.output_range).contiguous(
            memory_format=torch.channels_last if self.numerics.channels_last else torch.contiguous_format)
        test = None
        if family(self.model).facts.likelihood:  # the per-epoch test -ELBO
            test = load_split(d.name, d.root, train=False, download=d.download).images
            test = to_device(test if d.test_subset is None else test[: d.test_subset])
            if d.binarize == "dynamic":  # the test -ELBO on binary images, drawn once
                test = torch.bernoulli(test, generator=torch.Generator(device=test.device).manual_seed(0))
        return to_device(train), test

    # -- checkpoints -----------------------------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        return {
            "format": rundir.CHECKPOINT_FORMAT,
            "model_name": self.cfg.model.name,
            "model": self.model.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "rng": rng_state(),
            "shuffle_rng": self.shuffle.get_state(),
            "epoch": self.state.epoch,
            "step": self.state.step,
            "elapsed": self.state.elapsed,
            "cpu_s": self.state.cpu_s,
            "history": self.state.history,
            "fixed_z": self.fixed_z.cpu(),
            "config": OmegaConf.to_container(self.cfg, resolve=True),
        }

    def save_checkpoint(self) -> None:
        ckpt = self.checkpoint()
        rundir.atomic_write_bytes(self.run_dir / rundir.CHECKPOINT, lambda f: torch.save(ckpt, f))

    def load_checkpoint(self, ckpt: dict[str, Any]) -> None:
        self.model.load_state_dict(ckpt["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        set_rng_state(ckpt["rng"])
        self.shuffle.set_state(ckpt["shuffle_rng"])
        self.fixed_z = ckpt["fixed_z"].to(self.device)
        self.state = TrainState(ckpt["epoch"], ckpt["step"], ckpt["elapsed"], list(ckpt["history"]),
                                images=sum(int(row["images"]) for row in ckpt["history"]),
                                cpu_s=float(ckpt.get("cpu_s", 0.0)))

    # -- outputs ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        """The 5x5 grid (3xHxW, in [0, 1], on the CPU) of the images of the run's fixed latent vectors."""
        was_training = self.model.training
        self.model.eval()
        images = self.model.generate(self.fixed_z).float().clamp(0, 1).cpu()
        self.model.train(was_training)
        return make_grid(images, nrow=5, padding=2, pad_value=1.0)

    # -- the loop --------------------------------------------------------------------------------------
    def fit(self) -> TrainState:
        """Train until the first budget (epochs, max_steps, max_images, time_budget_s) is spent.

        Calls the hooks at run start, at every log point (from train_epoch), and per epoch: its evaluation,
        its sample grid, then its row (the run-directory writer saves history, samples and checkpoints).
        """
        t, state = self.cfg.trainer, self.state
        self.model.train()
        self.hooks.run_start(self)
        while (stopped_by := self.budget_spent()) is None:
            epoch = state.epoch + 1
            started = time.perf_counter()
            means, seen = self.train_epoch(epoch)
            state.epoch = epoch
            state.images += seen
            row = {"epoch": epoch, "step": state.step, "elapsed_s": round(state.elapsed, 3), "images": seen,
                   "partial": int(seen < len(self.batches.data)), **means}
            if self.test_data is not None:
                row.update(test_negative_elbo(self.model, self.test_data, self.cfg.data.batch_size, self.autocast))
                self._check_finite(epoch, row)
            last = self.budget_spent() is not None
            every = self.cfg.eval.every_epochs
            if self.cfg.eval.enabled and (last or (every and epoch % every == 0)):
                self.metrics = self.evaluate()
                self.hooks.evaluation(epoch, state.step, self.metrics)
                if every:  # per-epoch quality curves only when asked for: history stays one row per epoch
                    row.update(self.metrics)
            state.history.append(row)
            log.info("epoch %d/%d  step %d  %s  (%.1fs)", epoch, t.epochs, state.step,
                     "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in rundir.BOOKKEEPING),
                     time.perf_counter() - started)
            if epoch % t.sample_every == 0 or last:
                self.hooks.samples(epoch, state.step, self.sample_grid())
            self.hooks.epoch_end(row, last)
        state.stopped_by = stopped_by
        log.info("training stopped by trainer.%s after %d images, %d steps, %.1fs", stopped_by, state.images,
                 state.step, state.elapsed)
        return state

    def train_epoch(self, epoch: int, batches: Iterable[torch.Tensor] | None = None) -> tuple[dict[str, float], int]:
        """Training steps over `batches` (default: one shuffled pass over the training set) until they run out
        or a budget other than epochs is spent. Returns the loss means over the steps and the images seen.

        This is the hot path: per step only the step itself and on-device sums; the host reads the sums every
        `trainer.log_every` steps (divergence check, log hooks, progress bar) and once at the end.
        Adds the training time to state.elapsed (and its CPU time to state.cpu_s); epoch bookkeeping
        (history, hooks) is fit's.
        """
        t, state = self.cfg.trainer, self.state
        names = self.step_fn.loss_names
        # Plain values in the step loop: a DictConfig read costs ~10 µs.
        log_every, max_steps, max_images, budget_s = t.log_every, t.max_steps, t.max_images, t.time_budget_s
        log_hooks, progress = self.hooks.wants_log(), t.progress
        started, cpu_started = time.perf_counter(), time.process_time()
        # Training time only: the budget clock stops for evaluation, samples and checkpoints (outside this
        # function). On CUDA the clock reads the host's time, which runs at most a few queued kernels ahead.
        deadline = None if budget_s is None else started + budget_s - state.elapsed
        images_left = None if max_images is None else max_images - state.images
        totals = torch.zeros(len(names), device=self.device)
        seen = 0
        bar = tqdm(self.batches if batches is None else batches, desc=f"{self.cfg.model.name} epoch {epoch}/{t.epochs}",
                   leave=False, disable=not progress, unit="batch", dynamic_ncols=True)
        for batch in bar:
            try:
                losses = self.step_fn(batch)
            except RuntimeError as e:  # e.g. BCE refuses NaN probabilities once the weights blew up
                if self._blown_up():
                    raise Diverged(epoch, state.step + 1, {"error": str(e).splitlines()[0]}) from e
                raise
            totals += torch.stack([losses[n] for n in names]) * batch.shape[0]  # stays on the device
            seen += batch.shape[0]
            state.step += 1
            if state.step % log_every == 0:  # the only host syncs inside an epoch
                running = dict(zip(names, (totals / seen).tolist()))
                self._check_finite(epoch, running)
                if log_hooks:
                    self.hooks.log(state.step, epoch, running)
                if progress:
                    bar.set_postfix({n: f"{v:.3f}" for n, v in running.items()})
            # The budgets other than epochs, checked after every step (self.budget_spent() does the same).
            if ((max_steps is not None and state.step >= max_steps)
                    or (images_left is not None and seen >= images_left)
                    or (deadline is not None and time.perf_counter() >= deadline)):
                break
        bar.close()
        means = dict(zip(names, (totals / max(seen, 1)).tolist()))
        self._check_finite(epoch, means)
        state.elapsed += time.perf_counter() - started
        state.cpu_s += time.process_time() - cpu_started
        return means, seen

    def evaluate(self) -> dict[str, float]:
        """Quality metrics of the current model (gvc.evaluation), with the real-data floor beside them."""
        from gvc.evaluation.evaluate import evaluate

        started = time.perf_counter()
        metrics = evaluate(self.model, self.cfg.eval, self.device, self.cfg.data.root, dataset=self.cfg.data.name,
                           binarize=self.cfg.data.binarize)
        log.info("evaluated in %.1fs: %s", time.perf_counter() - started,
                 "  ".join(f"{k} {metrics[k]:.4g}" for k in ("fid", "precision", "recall", "coverage") if k in metrics))
        return metrics

    def budget_spent(self) -> str | None:
        """The first budget in BUDGETS that is spent (the trainer.* key that ends training), or None."""
        t, state = self.cfg.trainer, self.state
        spent = {
            "epochs": state.epoch >= t.epochs,
            "max_steps": t.max_steps is not None and state.step >= t.max_steps,
            "max_images": t.max_images is not None and state.images >= t.max_images,
            "time_budget_s": t.time_budget_s is not None and state.elapsed >= t.time_budget_s,
        }
        return next((name for name in BUDGETS if spent[name]), None)

    @torch.no_grad()
    def _blown_up(self) -> bool:
        """Non-finite weights, or finite weights whose outputs overflow: divergence, not a bug."""
        if not all(torch.isfinite(p).all() for p in self.model.parameters()):
            return True
        return not torch.isfinite(self.model.generate(self.fixed_z)).all().item()

    def _check_finite(self, epoch: int, losses: dict[str, float]) -> None:
        if not all(math.isfinite(v) for v in losses.values() if isinstance(v, float)):
            raise Diverged(epoch, self.state.step, losses)
