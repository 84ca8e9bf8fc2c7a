"""The training loop's seam: hooks called at defined points of a run, and the run-directory writer as one of them.

    run_start(start)             from gvc.trial.lifecycle, once the Trainer is built (and a checkpoint loaded): a RunStart
    log(step, epoch, losses)     every `trainer.log_every` steps: the epoch's running loss means so far
    steps(row)                   every `trainer.log_every` steps and at an epoch's end: the loss means over the
                                 steps since the last such row (step, epoch, elapsed_s, images, steps, losses)
    samples(epoch, step, grid)   each sample grid (a 3xHxW tensor in [0, 1], the 5x5 grid of the fixed latents)
    evaluation(epoch, step, m)   each evaluation: every metric and its real-data floor (`floor_<name>`)
    eval_point(rows, best)       each evaluation along training (eval.along, gvc/training/along.py): the table so
                                 far, and the checkpoint to keep as best.pt when this point is the best (else None)
    epoch_end(row, last)         the epoch's history row; `last` = the loop stops after this epoch
    checkpoint(ckpt)             a checkpoint to keep (at epoch ends and inside epochs, see trainer.checkpoint_every*)
    run_end(summary)             from gvc.trial.lifecycle, after summary.json is written, whatever the run's status (also
                                 for a sweep's trial refused before training, which had no run_start)

A hook overrides only the events it needs; `Hooks` calls, for each event, only the hooks that override it,
so an event nobody listens to costs one empty-tuple check (the step loop itself calls nothing per step).
Hooks run in list order; the run-directory writer comes last, so its checkpoint closes an epoch: whatever
a logger recorded up to a checkpoint's step is never recorded again by a resumed run.
A logger that cannot reach its backend reports it once and keeps out of the way (`failure`); a hook's
exception in the run-directory writer is a real failure of the run.

Any hook may end the run: `self.request_stop(reason)` in any event. The loop obeys at its next decision point
(a log point inside an epoch, or the epoch's end): it writes the sample grid and a checkpoint of that step and
ends the run `stopped`, with `reason` naming the hook (summary.json), as an interrupt is recorded.
The config's `hooks` group selects hooks besides the loggers (`hooks=[NAME]`, one YAML each in conf/hooks/:
`NAME: {_target_: module.Class, knob: value}`; the class is built with its knobs as keyword arguments).
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch

from gvc.trial import rundir
EVENTS = ("run_start", "log", "steps", "samples", "evaluation", "eval_point", "epoch_end", "checkpoint", "run_end")


@dataclass(frozen=True)
class RunStart:
    """What the hooks learn when training starts: the model's family and losses, and where a resumed run is."""

    family: str
    loss_names: tuple[str, ...]
    epoch: int = 0
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)  # the rows of a resumed run's earlier epochs


class Hook:
    """Base class: every event is a no-op. `failure` is None, or why the hook stopped working."""

    name = "hook"
    failure: str | None = None
    stop_reason: str | None = None  # set by request_stop: the run ends at the loop's next decision point

    def request_stop(self, reason: str) -> None:
        """Ask the loop to end the run cleanly (status `stopped`, this reason, a checkpoint kept)."""
        self.stop_reason = self.stop_reason or reason

    def run_start(self, start: RunStart) -> None: ...

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None: ...

    def steps(self, row: dict[str, float]) -> None: ...

    def samples(self, epoch: int, step: int, grid: torch.Tensor) -> None: ...

    def evaluation(self, epoch: int, step: int, metrics: dict[str, float]) -> None: ...

    def eval_point(self, rows: list[dict[str, float]], best: dict[str, Any] | None) -> None: ...

    def epoch_end(self, row: dict[str, float], last: bool) -> None: ...

    def checkpoint(self, ckpt: dict[str, Any]) -> None: ...

    def run_end(self, summary: dict[str, Any]) -> None: ...


class Hooks:
    """An ordered list of hooks; per event, the tuple of hooks that override it (empty: nothing is called)."""

    def __init__(self, hooks: list[Hook] | None = None):
        self.hooks = list(hooks or [])
        for event in EVENTS:
            setattr(self, f"_{event}", tuple(h for h in self.hooks if getattr(type(h), event) is not getattr(Hook, event)))

    def __iter__(self):
        return iter(self.hooks)

    def __len__(self) -> int:
        return len(self.hooks)

    def wants_log(self) -> bool:
        return bool(self._log)

    def run_start(self, start: RunStart) -> None:
        for h in self._run_start:
            h.run_start(start)

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        for h in self._log:
            h.log(step, epoch, losses)

    def wants_steps(self) -> bool:
        return bool(self._steps)

    def steps(self, row: dict[str, float]) -> None:
        for h in self._steps:
            h.steps(row)

    def samples(self, epoch: int, step: int, grid: torch.Tensor) -> None:
        for h in self._samples:
            h.samples(epoch, step, grid)

    def evaluation(self, epoch: int, step: int, metrics: dict[str, float]) -> None:
        for h in self._evaluation:
            h.evaluation(epoch, step, metrics)

    def eval_point(self, rows: list[dict[str, float]], best: dict[str, Any] | None) -> None:
        for h in self._eval_point:
            h.eval_point(rows, best)

    def epoch_end(self, row: dict[str, float], last: bool) -> None:
        for h in self._epoch_end:
            h.epoch_end(row, last)

    def checkpoint(self, ckpt: dict[str, Any]) -> None:
        for h in self._checkpoint:
            h.checkpoint(ckpt)

    def run_end(self, summary: dict[str, Any]) -> None:
        for h in self._run_end:
            h.run_end(summary)

    def stop_requested(self) -> str | None:
        """The first hook's request to end the run, as "NAME: reason", or None."""
        return next((f"{h.name}: {h.stop_reason}" for h in self.hooks if h.stop_reason), None)

    def failures(self) -> dict[str, str]:
        """Hooks that stopped working, by name, with why: recorded in summary.json."""
        return {h.name: h.failure for h in self.hooks if h.failure}


TARGET = "_target_"


def hook_class(target: str) -> type[Hook]:
    """The Hook subclass a `_target_` ("package.module.Class") names; ValueError saying what is wrong."""
    module, _, cls = str(target).rpartition(".")
    try:
        found = getattr(importlib.import_module(module), cls) if module else None
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot import {target!r} ({type(e).__name__}: {e})") from None
    if not (isinstance(found, type) and issubclass(found, Hook)):
        raise ValueError(f"{target!r} is not a subclass of gvc.training.hooks.Hook")
    return found


def hook_problems(section: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(key, problem) for each configured hook that cannot be built: an unimportable class, an unknown knob or a
    value its constructor refuses (hooks are cheap to build; a constructor checks its own knobs)."""
    problems = []
    for name, node in (section or {}).items():
        knobs = dict(node or {})
        if TARGET not in knobs:
            problems.append((f"hooks.{name}", f"has no {TARGET}: name the hook's class, e.g. mypackage.MyHook"))
            continue
        try:
            cls = hook_class(knobs.pop(TARGET))
            inspect.signature(cls).bind(**knobs)
            cls(**knobs)
        except (ValueError, TypeError) as e:
            problems.append((f"hooks.{name}", str(e)))
    return problems


def make_hooks(section: Mapping[str, Any] | None) -> list[Hook]:
    """One hook per entry of the config's `hooks` section, in its order, built with its knobs; named by its key."""
    hooks = []
    for name, node in (section or {}).items():
        knobs = dict(node)
        hook = hook_class(knobs.pop(TARGET))(**knobs)
        hook.name = str(name)
        hooks.append(hook)
    return hooks


def loss_panels(names: tuple[str, ...], columns: Iterable[str]) -> list[tuple[str, ...]]:
    """The axes of losses.png: one per logged loss (D's and G's losses, a KL and a reconstruction term are
    different objectives and never share an axis), its held-out `test_` twin beside it; `test_loss` (the true
    −ELBO, β = 1, not the trained objective) on its own."""
    columns = set(columns)
    panels = [(name, *((f"test_{name}",) if name != "loss" and f"test_{name}" in columns else ())) for name in names]
    return panels + ([("test_loss",)] if "test_loss" in columns else [])


def plot_losses(history: list[dict[str, float]], names: tuple[str, ...], path: Path,
                steps: list[dict[str, float]] | None = None) -> None:
    """losses.png: a panel per loss (loss_panels) against the training step: the step-level means of steps.csv
    as a line where there are any, each epoch's mean as a marker at its last step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = loss_panels(names, history[0])
    fig, axes = plt.subplots(len(panels), 1, figsize=(6, 1.9 * len(panels) + 0.6), sharex=True, squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        for name in panel:
            line = None
            if steps and name in steps[0]:
                (line,) = ax.plot([r["step"] for r in steps], [r[name] for r in steps], lw=1, label=f"{name} (steps)")
            ax.plot([r["step"] for r in history], [r[name] for r in history], marker="o", ms=3,
                    ls="none" if line else "-", color=line.get_color() if line else None, label=f"{name} (epoch mean)")
        ax.set_ylabel(panel[0])
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


class RunDirWriter(Hook):
    """The run directory (gvc.trial.rundir): history.csv every epoch, sample PNGs, checkpoints, evals.csv and best.pt
    (eval.along), the loss plot at the end.

    It keeps its own copy of the history rows and never calls back into the trainer. summary.json is gvc.trial.lifecycle's:
    it knows the run's outcome. A write that fails (a full disk, an unwritable folder) raises rundir.WriteError
    naming the path; the previous file of that name is left intact.
    """

    name = "run_dir"

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.rows: list[dict[str, float]] = []
        self.step_rows: list[dict[str, float]] = []
        self.loss_names: tuple[str, ...] = ()

    def run_start(self, start: RunStart) -> None:
        self.rows, self.loss_names = list(start.history), start.loss_names
        rundir.remove_stale_temporaries(self.run_dir)  # left by a process killed (SIGKILL) mid-write
        # A resumed run continues from its checkpoint's step: rows written after it are written again.
        self.step_rows = [r for r in rundir.read_history(self.run_dir, rundir.STEPS) if r["step"] <= start.step]

    def steps(self, row: dict[str, float]) -> None:
        self.step_rows.append(row)
        rundir.write_history(self.run_dir, self.step_rows, rundir.STEPS)

    def samples(self, epoch: int, step: int, grid: torch.Tensor) -> None:
        rundir.write_sample_grid(self.run_dir, epoch, grid)

    def eval_point(self, rows: list[dict[str, float]], best: dict[str, Any] | None) -> None:
        if best is not None:  # first: the table never names a best point whose weights are not on disk
            rundir.write_best_checkpoint(self.run_dir, best)
        rundir.write_evals(self.run_dir, rows)

    def epoch_end(self, row: dict[str, float], last: bool) -> None:
        self.rows.append(row)
        rundir.write_history(self.run_dir, self.rows)

    def checkpoint(self, ckpt: dict[str, Any]) -> None:
        rundir.write_checkpoint(self.run_dir, ckpt)

    def run_end(self, summary: dict[str, Any]) -> None:
        if self.rows:  # diverged runs too: their curves tell why
            plot_losses(self.rows, self.loss_names, self.run_dir / rundir.LOSS_PLOT, self.step_rows)
