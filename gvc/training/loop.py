"""The one training loop shared by GANs and VAEs: epochs, budgets, evaluation, and the hooks that record them.

A GAN and a VAE differ only in their step (gan.py, vae.py). `Trainer.train_epoch` is the hot path (the
throughput benchmark times exactly it); `Trainer.fit` runs epochs until a budget is spent, a signal arrives or
the losses diverge, hands every epoch's row, sample grid, evaluation and checkpoint to the hooks
(gvc.training.hooks): the run-directory writer (history.csv, samples, checkpoints) and any selected loggers,
and returns a FitResult saying how training ended. The trial's random draws come from its own stream
(gvc.training.streams); the process's settings (threads, TF32) are gvc.process's.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import torch
from omegaconf import DictConfig, OmegaConf
from torchvision.utils import make_grid
from tqdm import tqdm

from gvc.data import DeviceBatches, load_split, to_model_range
from gvc.models import GAN, VAE
from gvc.training import rebuild
from gvc.training.along import along_evaluation
from gvc.training.device import resolve_device
from gvc.training.families import family
from gvc.training.hooks import Hook, Hooks, RunDirWriter, RunStart
from gvc.training.losses import loss_config
from gvc.training.precision import choose_numeric_path, has_convolutions
from gvc.training.progress import PlainProgress
from gvc.training.streams import TrialRandom
from gvc.trial import rundir

log = logging.getLogger(__name__)

N_FIXED_SAMPLES = 25  # a 5x5 grid, as the paper


class Diverged(RuntimeError):
    def __init__(self, epoch: int, step: int, losses: dict[str, Any], why: str = "non-finite loss"):
        super().__init__(f"{why} at epoch {epoch}, step {step}: {losses}")
        self.epoch, self.step, self.losses = epoch, step, losses


class Stopped(RuntimeError):
    """A hook asked to end the run (Hook.request_stop); a checkpoint of that step was written."""

    def __init__(self, reason: str, epoch: int, step: int):
        super().__init__(f"stopped by hook {reason} (epoch {epoch}, step {step}); a checkpoint of that step was written")


class Interrupted(RuntimeError):
    """A signal ended training at a step boundary, after a checkpoint of that step was written."""

    def __init__(self, signal_name: str, epoch: int, step: int, during: str | None = None):
        where = (f"during {during} at epoch {epoch}, step {step}; its metrics are pending (a resume evaluates), the "
                 "last checkpoint is kept") if during else f"at epoch {epoch}, step {step}; a checkpoint of that step was written"
        super().__init__(f"{signal_name} {where}")
        self.signal_name, self.epoch, self.step = signal_name, epoch, step


def make_model(cfg: DictConfig, device: torch.device | str = "cpu") -> GAN | VAE:
    """The configured model, sized for the configured data set's images, with its objective's outputs."""
    return rebuild.build(cfg, device)


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


@dataclass
class TrainState:
    epoch: int = 0  # epochs completed (a last epoch cut short by a budget counts, marked partial in history)
    step: int = 0
    elapsed: float = 0.0  # training seconds so far, summed over resumed segments
    history: list[dict[str, float]] = field(default_factory=list)
    # CPU seconds this process spent in those seconds (all its threads): far below elapsed x threads means other
    # processes took the CPU, and a time budget bought less compute than on an idle machine.
    cpu_s: float = 0.0
    images: int = 0  # training images seen in completed epochs, summed over resumed segments
    stopped_by: str | None = None  # the budget that ended training: one of BUDGETS
    # Where a checkpoint inside an epoch left it: batches done, images seen, loss sums, the data order's seed.
    in_epoch: dict[str, Any] | None = None
    # Where a budget cut the last epoch short: the same position, and the trial's stream at that step, so that
    # raising the budget (trainer.extend, gvc.trial.extend) continues that epoch as an uninterrupted run would.
    cut: dict[str, Any] | None = None


@dataclass
class FitResult:
    """How training ended (`status`: completed | diverged | interrupted | stopped | failed) and what it produced."""

    status: str
    state: TrainState
    metrics: dict[str, float]  # the latest evaluation (empty if none ran)
    reason: str | None = None
    diverged_at: dict[str, int] | None = None
    interrupted_by: str | None = None  # the signal's name
    error: BaseException | None = None  # the exception of a failed (or diverged) run


# The budgets that can end a run, in the order they are checked (Budget.spent).
BUDGETS = ("epochs", "max_steps", "max_images", "time_budget_s", "cpu_budget_s")


@dataclass(frozen=True)
class Budget:
    """The trainer.* budgets as plain values (the step loop reads them: a DictConfig read costs ~10 µs). One rule,
    checked after every step (train_epoch) and between epochs (fit)."""

    epochs: int
    max_steps: int | None
    max_images: int | None
    time_budget_s: float | None
    cpu_budget_s: float | None

    @classmethod
    def of(cls, trainer: DictConfig) -> "Budget":
        return cls(trainer.epochs, trainer.max_steps, trainer.max_images, trainer.time_budget_s,
                   trainer.get("cpu_budget_s"))

    def spent(self, epochs: int, steps: int, images: int, elapsed: float, cpu_s: Callable[[], float]) -> str | None:
        """The first budget in BUDGETS that these counts spend (the trainer.* key that ends training), or None.
        `cpu_s` is read only under a CPU budget (a process_time() call)."""
        if epochs >= self.epochs:
            return "epochs"
        if self.max_steps is not None and steps >= self.max_steps:
            return "max_steps"
        if self.max_images is not None and images >= self.max_images:
            return "max_images"
        if self.time_budget_s is not None and elapsed >= self.time_budget_s:
            return "time_budget_s"
        if self.cpu_budget_s is not None and cpu_s() >= self.cpu_budget_s:
            return "cpu_budget_s"
        return None


class EpochClock:
    """An epoch's training time and CPU time on top of the state's: the clocks stop while it is paused (a
    checkpoint inside the epoch is not training, nor its CPU time training compute)."""

    def __init__(self, elapsed: float, cpu_s: float):
        self.elapsed0, self.cpu0 = elapsed, cpu_s
        self.started, self.cpu_started = time.perf_counter(), time.process_time()

    def elapsed(self, now: float | None = None) -> float:
        return self.elapsed0 + (time.perf_counter() if now is None else now) - self.started

    def cpu_s(self) -> float:
        return self.cpu0 + time.process_time() - self.cpu_started

    @contextmanager
    def paused(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.started += time.perf_counter() - wall
            self.cpu_started += time.process_time() - cpu


class Trainer:
    """Builds everything from a validated config and trains into `run_dir`.

    `hooks` (e.g. loggers) are called before the run-directory writer, which is always the last hook.
    `interrupts` (gvc.process.Interrupts) is read between steps: a signal ends training with a checkpoint.
    """

    def __init__(self, cfg: DictConfig, run_dir: Path, hooks: list[Hook] | None = None, interrupts: Any = None):
        self.cfg, self.run_dir, t = cfg, Path(run_dir), cfg.trainer
        self.budget = Budget.of(t)
        self.hooks = Hooks([*(hooks or []), RunDirWriter(self.run_dir)])
        self.interrupts = interrupts
        self.device = resolve_device(t.device)
        self.random = TrialRandom(t.seed, self.device)
        with self.random.owned():  # the initial weights are the trial's first draws
            self.model = make_model(cfg, self.device)
        self.numerics = choose_numeric_path(t.precision, t.channels_last, self.device, has_convolutions(self.model))
        if self.numerics.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.optimizers = make_optimizers(self.model, cfg)
        self.state = TrainState()
        self.metrics: dict[str, float] = {}  # the latest evaluation
        # Fixed latents from their own generator, on the CPU: the same grid on every device.
        self.fixed_z = torch.randn(N_FIXED_SAMPLES, self.model.latent_dim,
                                   generator=torch.Generator().manual_seed(t.seed)).to(self.device)
        self.shuffle = torch.Generator(device=self.device).manual_seed(t.seed)
        enabled = self.numerics.precision == "bf16"
        self.autocast = lambda: torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)
        self.step_fn = family(self.model).step(self.model, self.optimizers, self.autocast, compile=t.compile,
                                               loss=loss_config(cfg.get("loss"), self.model.family))
        self.train_data = self._load_data()
        self.batches = DeviceBatches(self.train_data, cfg.data.batch_size, self.shuffle,
                                     binarize=cfg.data.binarize)
        # eval.along (gvc/training/along.py): evaluations at points of the budget; None when off
        self.along = along_evaluation(cfg, len(self.train_data), self.model.family)

    def _to_device(self, images: torch.Tensor) -> torch.Tensor:
        """Images as the model takes them: on the device, in its output range, in its memory format."""
        return to_model_range(images.to(self.device), self.model.output_range).contiguous(
            memory_format=torch.channels_last if self.numerics.channels_last else torch.contiguous_format)

    def _load_data(self) -> torch.Tensor:
        """The training images on the device; the family's step loads what its epoch extras need (a VAE's
        held-out split)."""
        d = self.cfg.data
        full = load_split(d.name, d.root, train=True, download=d.download).images
        train = full if d.subset is None else full[: d.subset]  # the first N: transparent, nearly class-balanced
        self.step_fn.attach_data(d, len(full), self._to_device)
        return self._to_device(train)

    def describe(self) -> dict[str, Any]:
        """What this trainer is, for summary.json and the start line: family, sizes, device, numeric path."""
        return {"family": self.model.family, "params": self.model.parameter_counts(), "device": str(self.device),
                "epoch_images": len(self.train_data),  # a full epoch, so a budget's partial one is a share
                "numerics": {"precision": self.numerics.precision, "channels_last": self.numerics.channels_last,
                             "note": self.numerics.note},
                # the objective: its knobs, loss names and units
                "loss": {**dataclasses.asdict(self.step_fn.loss), "units": self.step_fn.units()}}

    def start_info(self) -> RunStart:
        """What the hooks' run_start receives (gvc.trial.lifecycle calls it): family, loss names, where a resumed run is."""
        state = self.state
        return RunStart(self.model.family, self.step_fn.loss_names, state.epoch, state.step, list(state.history))

    # -- checkpoints -----------------------------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        return {
            "format": rundir.CHECKPOINT_FORMAT,
            "model_name": self.cfg.model.name,
            "model": self.model.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "rng": self.random.state_dict(),  # the trial's stream (dropout, latents, reparameterisation)
            "shuffle_rng": self.shuffle.get_state(),
            "epoch": self.state.epoch,
            "step": self.state.step,
            "elapsed": self.state.elapsed,
            "cpu_s": self.state.cpu_s,
            "images": self.state.images,
            "in_epoch": self.state.in_epoch,  # None at an epoch's end
            "cut": self.state.cut,
            "history": self.state.history,
            "fixed_z": self.fixed_z.cpu(),
            "step_state": self.step_fn.state_dict(),  # what the objective keeps beyond networks and optimisers
            "config": OmegaConf.to_container(self.cfg, resolve=True),
            "along": self.along.state_dict() if self.along is not None else None,  # eval.along's points so far
        }

    def load_checkpoint(self, ckpt: dict[str, Any]) -> None:
        rebuild.restore(self.model, ckpt)  # the weights and what the objective learned for the outputs
        for name, opt in self.optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        self.random.load_state_dict(ckpt["rng"])
        self.shuffle.set_state(ckpt["shuffle_rng"])
        self.fixed_z = ckpt["fixed_z"].to(self.device)
        images = ckpt.get("images", sum(int(row["images"]) for row in ckpt["history"]))
        self.step_fn.load_state_dict(ckpt.get("step_state", {}))
        self.state = TrainState(ckpt["epoch"], ckpt["step"], ckpt["elapsed"], list(ckpt["history"]),
                                images=int(images), cpu_s=float(ckpt.get("cpu_s", 0.0)), in_epoch=ckpt.get("in_epoch"),
                                cut=ckpt.get("cut"))
        if self.along is not None:
            self.along.load_state_dict(ckpt.get("along"))

    def _save_checkpoint(self) -> None:
        self.hooks.checkpoint(self.checkpoint())

    # -- outputs ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        """The 5x5 grid (3xHxW, in [0, 1], on the CPU) of the images of the run's fixed latent vectors."""
        was_training = self.model.training
        self.model.eval()
        with self.random.owned():
            images = self.model.generate(self.fixed_z).float().clamp(0, 1).cpu()
        self.model.train(was_training)
        return make_grid(images, nrow=5, padding=2, pad_value=1.0)

    # -- the loop --------------------------------------------------------------------------------------
    def fit(self) -> FitResult:
        """Train until the first budget (epochs, max_steps, max_images, time_budget_s) is spent, the losses
        diverge or a signal arrives; every outcome is returned, none raised.

        Calls the hooks at every log point (from train_epoch) and per epoch: its evaluation, its sample grid,
        its row, then its checkpoint (the run-directory writer saves them). run_start and run_end are gvc.trial.lifecycle's.
        """
        state = self.state
        try:
            self._fit()
            return FitResult("completed", state, self.metrics)
        except Diverged as e:
            return FitResult("diverged", state, self.metrics, reason=str(e),
                             diverged_at={"epoch": e.epoch, "step": e.step}, error=e)
        except Interrupted as e:
            return FitResult("interrupted", state, self.metrics, reason=str(e), interrupted_by=e.signal_name)
        except Stopped as e:
            return FitResult("stopped", state, self.metrics, reason=str(e))
        except Exception as e:  # noqa: BLE001 - failure is data: gvc.trial.lifecycle records it (and re-raises where asked)
            return FitResult("failed", state, self.metrics, reason=f"{type(e).__name__}: {e}", error=e)

    def _fit(self) -> None:
        state = self.state
        self.model.train()
        if self.along is not None:  # eval.along: the table as the checkpoint left it
            self.along.begin(self.hooks)
        while (stopped_by := self.budget_spent()) is None and self.hooks.stop_requested() is None:
            self.run_epoch(state.epoch + 1)
        # A budget that cut an epoch short ended the run, whichever other budget that last epoch also spent.
        state.stopped_by = self._cut_by or stopped_by
        log.info("training stopped by trainer.%s after %d images, %d steps, %.1fs", state.stopped_by, state.images,
                 state.step, state.elapsed)
        if self.cfg.eval.enabled and self._evaluated_at != state.step:  # after the last checkpoint: a signal
            self._evaluate_at(state.epoch, end=True)  # stops it at once, and a resume (training done) evaluates here
            if self.along is not None:  # its end rows into the checkpoint, so an extended run keeps them as points
                self._save_checkpoint()

    _cut_by: str | None = None  # the budget that ended the last epoch early, if one did
    _evaluated_at: int | None = None  # the step of this process's latest evaluation

    def run_epoch(self, epoch: int) -> dict[str, float]:
        """One epoch, the unit fit loops over: its training steps, the family's per-epoch extras (a VAE's test
        −ELBO), its evaluation point, its row (returned), sample grid and checkpoint, handed to the hooks.

        Raises Interrupted when a signal arrived and Stopped when a hook asked to stop (after the checkpoint),
        unless a budget ended the run at this epoch anyway.
        """
        t, state = self.cfg.trainer, self.state
        elapsed_before = state.elapsed
        means, seen = self.train_epoch(epoch)
        state.epoch = epoch
        state.images += seen
        row = {"epoch": epoch, "step": state.step, "elapsed_s": round(state.elapsed, 3), "images": seen,
               "partial": int(seen < len(self.batches.data)), **means}
        with self.random.owned():  # e.g. the test −ELBO's reparameterisation draws
            row.update(self.step_fn.epoch_extras())
        self._check_sane(epoch, row)
        last = self.budget_spent() is not None
        row.update(self.evaluation_point(epoch, last))
        state.history.append(row)
        # The same clock as history.csv's elapsed_s: training time only.
        log.info("epoch %d/%d  step %d  %s  (%.1fs of training, elapsed_s %.1f)", epoch, t.epochs, state.step,
                 "  ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in rundir.BOOKKEEPING),
                 state.elapsed - elapsed_before, state.elapsed)
        stop = self.hooks.stop_requested()  # a hook's request in this epoch's steps or its evaluation
        if epoch % t.sample_every == 0 or last or stop:
            self.hooks.samples(epoch, state.step, self.sample_grid())
        self.hooks.epoch_end(row, last or stop is not None)
        stop = self.hooks.stop_requested()  # or at its end
        signalled = self.interrupts is not None and self.interrupts.received
        if epoch % t.checkpoint_every == 0 or last or signalled or stop:
            self._save_checkpoint()
        if signalled and not last:  # it arrived in the epoch's last step or in its evaluation
            raise Interrupted(self.interrupts.received, epoch, state.step)
        if stop and not last:  # a spent budget ends the run as completed, whatever a hook asked
            raise Stopped(stop, epoch, state.step)
        return row

    def evaluation_point(self, epoch: int, last: bool) -> dict[str, float]:
        """The loop's evaluation inside training, after an epoch's row is made: with eval.enabled and
        eval.every_epochs, every that many epochs and at the end. Returns what joins the epoch's row (its metrics:
        per-epoch quality curves only when asked for). Without eval.every_epochs the end of training's evaluation
        comes after the loop, once the last checkpoint is written (_fit), so a signal during it loses no training;
        eval.along's points inside the budget are train_epoch's."""
        every = self.cfg.eval.every_epochs
        if not (self.cfg.eval.enabled and every and (last or epoch % every == 0)):
            return {}
        self._evaluate_at(epoch, end=last)
        return dict(self.metrics)

    def _evaluate_at(self, epoch: int, end: bool) -> None:
        """Evaluate now and hand the metrics to the hooks; at the end with eval.along, its two end rows (its
        cheap N, and this full N) join evals.csv."""
        evaluated = time.perf_counter()
        self.metrics, self._evaluated_at = self.evaluate(), self.state.step
        if end and self.along is not None:
            self.along.evaluate_end(self, epoch, self.metrics, time.perf_counter() - evaluated)
        self.hooks.evaluation(epoch, self.state.step, self.metrics)

    def train_epoch(self, epoch: int, batches: Iterable[torch.Tensor] | None = None) -> tuple[dict[str, float], int]:
        """Training steps over `batches` (default: one shuffled pass over the training set, continued where a
        checkpoint inside the epoch left it) until they run out, a budget other than epochs is spent or a hook
        asks to stop. Returns the loss means over the epoch's steps and the images seen.

        This is the hot path: per step only the step itself (on the trial's random stream), on-device sums and
        the budget rule; the host reads the sums every `trainer.log_every` steps (divergence check, log hooks,
        progress bar) and once at the end. Between steps it may write a checkpoint (trainer.checkpoint_every_s /
        _steps), evaluates eval.along's points it reaches (off the clocks, a checkpoint after each) and stops with
        one when a signal arrived (Interrupted). Adds the training time to state.elapsed
        (and its CPU time to state.cpu_s); epoch bookkeeping (history, hooks) is run_epoch's.
        """
        t, state, budget = self.cfg.trainer, self.state, self.budget
        names = self.step_fn.loss_names
        log_every = t.log_every  # plain values in the step loop: a DictConfig read costs ~10 µs
        own_epoch = batches is None  # else a caller's own batches (the benchmark's windows): no checkpoints
        every_s, every_steps = (t.checkpoint_every_s, t.checkpoint_every_steps) if own_epoch else (None, None)
        log_hooks, progress = self.hooks.wants_log(), t.progress and sys.stderr.isatty()  # bars only on a terminal
        step_rows = self.hooks.wants_steps()
        interrupts, owned = self.interrupts, self.random.owned
        totals = torch.zeros(len(names), device=self.device)
        seen, done = 0, 0
        along = self.along if own_epoch and self.along is not None and self.along.active else None
        resumed = state.in_epoch if own_epoch else None
        if resumed is not None:  # continue the epoch a checkpoint interrupted: same order, same sums
            self.shuffle.set_state(resumed["shuffle_rng"])
            totals += torch.tensor(resumed["totals"], device=self.device)
            seen, done = int(resumed["seen"]), int(resumed["batches"])
        # Where the step table's current window (steps.csv) began: its sums, images and batches.
        window = (resumed or {}).get("window") or {"totals": totals.tolist(), "seen": seen, "batches": done}
        mark = (torch.tensor(window["totals"], device=self.device), int(window["seen"]), int(window["batches"]))
        epoch_shuffle = self.shuffle.get_state()  # the data order's seed, for a checkpoint inside this epoch
        if batches is None:
            batches = self.batches.iterate(start=done)
        state.in_epoch = None
        # Training time only: the clocks stop for checkpoints here and, outside train_epoch, for evaluation and
        # samples. On CUDA the clock reads the host's time, which runs at most a few queued kernels ahead.
        clock = EpochClock(state.elapsed, state.cpu_s)
        next_checkpoint = None if every_s is None else clock.started + every_s
        self._cut_by = None
        lines = PlainProgress(None if progress else t.get("progress_every_s"), epoch, t.epochs, len(self.batches))
        bar = tqdm(batches, desc=f"{self.cfg.model.name} epoch {epoch}/{t.epochs}", initial=done,
                   total=len(self.batches), leave=False, disable=not progress, unit="batch", dynamic_ncols=True)
        for batch in bar:
            losses = self._step(epoch, batch, owned)
            totals += torch.stack([losses[n] for n in names]) * batch.shape[0]  # stays on the device
            seen += batch.shape[0]
            done += 1
            state.step += 1
            if state.step % log_every == 0:  # the only host syncs inside an epoch
                running = dict(zip(names, (totals / seen).tolist()))
                self._check_sane(epoch, running)
                if step_rows:
                    mark = self._step_row(epoch, totals, seen, done, mark, clock)
                if progress:
                    bar.set_postfix({n: f"{v:.3f}" for n, v in running.items()})
                if log_hooks:
                    self.hooks.log(state.step, epoch, running)
                    if self.hooks.stop_requested():  # the epoch ends here; run_epoch checkpoints and stops
                        break
                lines.tick(state.step, done, running)  # no terminal: a plain line now and then
            now = time.perf_counter()
            self._cut_by = budget.spent(state.epoch, state.step, state.images + seen, clock.elapsed(now), clock.cpu_s)
            if self._cut_by is not None:
                if own_epoch:
                    state.cut = {"batches": done, "seen": seen, "totals": totals.tolist(), "shuffle_rng": epoch_shuffle,
                                 "rng": self.random.state_dict()}
                break
            # eval.along (gvc/training/along.py): a point of the budget reached at this step is evaluated here, off
            # the clocks (as a checkpoint is), and a checkpoint follows it.
            point = along is not None and along.due(state.step, state.images + seen, clock.elapsed(now),
                                                   clock.cpu0 - clock.cpu_started)
            if point:
                with clock.paused():
                    along.evaluate_point(self, epoch, state.images + seen, clock.elapsed(now), clock.cpu_s())
                now = time.perf_counter()  # the clock moved on by the evaluation's time: elapsed(now) is unchanged
            signalled = interrupts is not None and interrupts.received
            due = (signalled or point or (every_steps is not None and state.step % every_steps == 0)
                   or (next_checkpoint is not None and now >= next_checkpoint))
            if due and own_epoch and done < len(self.batches):  # at the epoch's end, run_epoch checkpoints
                in_epoch = {"batches": done, "seen": seen, "totals": totals.tolist(), "shuffle_rng": epoch_shuffle,
                            "window": {"totals": mark[0].tolist(), "seen": mark[1], "batches": mark[2]}}
                self._check_sane(epoch, dict(zip(names, (totals / seen).tolist())))
                with clock.paused():  # the checkpoint's time is not training time
                    self._checkpoint_inside_epoch(clock.elapsed(now), clock.cpu_s(), in_epoch)
                if signalled:
                    raise Interrupted(interrupts.received, epoch, state.step)
                next_checkpoint = None if every_s is None else time.perf_counter() + every_s
        bar.close()
        means = dict(zip(names, (totals / max(seen, 1)).tolist()))
        self._check_sane(epoch, means)
        if step_rows and done > mark[2]:  # the epoch's last steps since the last row
            self._step_row(epoch, totals, seen, done, mark, clock)
        state.elapsed, state.cpu_s = clock.elapsed(), clock.cpu_s()
        return means, seen

    def _step_row(self, epoch: int, totals: torch.Tensor, seen: int, done: int, mark: tuple[torch.Tensor, int, int],
                  clock: EpochClock) -> tuple[torch.Tensor, int, int]:
        """Hand the hooks the loss means over the steps since `mark` (steps.csv's row); returns the new mark."""
        sums, seen_before, done_before = mark
        means = ((totals - sums) / (seen - seen_before)).tolist()
        self.hooks.steps({"step": self.state.step, "epoch": epoch, "elapsed_s": round(clock.elapsed(), 3),
                          "images": self.state.images + seen, "steps": done - done_before,
                          **dict(zip(self.step_fn.loss_names, means))})
        return totals.clone(), seen, done

    def _step(self, epoch: int, batch: torch.Tensor, owned: Callable) -> dict[str, torch.Tensor]:
        """One training step on the trial's random stream; an error of blown-up weights is divergence."""
        try:
            with owned():
                return self.step_fn(batch, self.state.step)
        except RuntimeError as e:  # e.g. BCE refuses NaN probabilities once the weights blew up
            if self._blown_up(batch):
                raise Diverged(epoch, self.state.step + 1, {"error": str(e).splitlines()[0]},
                               "non-finite loss or model output") from e
            raise

    def _checkpoint_inside_epoch(self, elapsed: float, cpu_s: float, in_epoch: dict[str, Any]) -> None:
        """A checkpoint at a step inside the epoch: the clocks as they stand, the epoch's position and sums."""
        state = self.state
        before = state.elapsed, state.cpu_s
        state.elapsed, state.cpu_s, state.in_epoch = elapsed, cpu_s, in_epoch
        try:
            self._save_checkpoint()
        finally:
            (state.elapsed, state.cpu_s), state.in_epoch = before, None

    def evaluate(self, settings: Any = None) -> dict[str, float]:
        """Quality metrics of the current model (gvc.evaluation), with the real-data floor beside them; `settings`:
        eval settings other than cfg.eval's (eval.along's cheap N)."""
        from gvc.evaluation.evaluate import evaluate

        settings = self.cfg.eval if settings is None else settings
        started, stream = time.perf_counter(), self.random.state_dict()
        stop = partial(Interrupted, epoch=self.state.epoch, step=self.state.step, during="the evaluation")
        with self.interrupts.at_once(stop) if hasattr(self.interrupts, "at_once") else nullcontext(), self.random.owned():
            metrics = evaluate(self.model, settings, self.device, self.cfg.data.root, dataset=self.cfg.data.name,
                               binarize=self.cfg.data.binarize)
            if (ema := getattr(self.model, "ema_model", lambda: None)()) is not None:  # model.ema_decay: G's EMA too
                ema_metrics = evaluate(ema, settings, self.device, self.cfg.data.root, dataset=self.cfg.data.name,
                                       binarize=self.cfg.data.binarize)
                metrics.update({f"ema_{k}": v for k, v in ema_metrics.items() if not k.startswith(("floor_", "noise_"))})
        self.random.load_state_dict(stream)  # evaluating never changes what is trained next (an extended run)
        log.info("evaluated in %.1fs: %s", time.perf_counter() - started,
                 "  ".join(f"{k} {metrics[k]:.4g}" for k in ("fid", "precision", "recall", "coverage") if k in metrics))
        return metrics

    def budget_spent(self) -> str | None:
        """The first budget in BUDGETS that is spent (the trainer.* key that ends training), or None."""
        state = self.state
        return self.budget.spent(state.epoch, state.step, state.images, state.elapsed, lambda: state.cpu_s)

    @torch.no_grad()
    def _blown_up(self, batch: torch.Tensor) -> bool:
        """Non-finite weights, or finite weights whose outputs overflow (on the fixed latents or on this
        batch): divergence, not a bug."""
        if not all(torch.isfinite(p).all() for p in self.model.parameters()):
            return True
        with self.random.owned():
            outputs = [self.model.generate(self.fixed_z), *self.step_fn.probe(batch)]
        return not all(torch.isfinite(o).all().item() for o in outputs)

    def _check_sane(self, epoch: int, losses: dict[str, Any]) -> None:
        """Non-finite losses, or losses beyond trainer.max_loss, end the run as diverged."""
        values = [v for k, v in losses.items() if isinstance(v, float) and k not in rundir.BOOKKEEPING]
        if not all(math.isfinite(v) for v in values):
            raise Diverged(epoch, self.state.step, losses)
        bound = self.cfg.trainer.max_loss
        if bound is not None and any(abs(v) > bound for v in values):
            raise Diverged(epoch, self.state.step, losses, f"a loss beyond trainer.max_loss={bound:g}")
