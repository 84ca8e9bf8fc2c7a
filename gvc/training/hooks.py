"""The training loop's seam: hooks called at defined points of a run, and the run-directory writer as one of them.

    run_start(start)             from gvc.run, once the Trainer is built (and a checkpoint loaded): a RunStart
    log(step, epoch, losses)     every `trainer.log_every` steps: the epoch's running loss means so far
    samples(epoch, step, grid)   each sample grid (a 3xHxW tensor in [0, 1], the 5x5 grid of the fixed latents)
    evaluation(epoch, step, m)   each evaluation: every metric and its real-data floor (`floor_<name>`)
    eval_point(rows, best)       each evaluation along training (eval.along, gvc/training/along.py): the table so
                                 far, and the checkpoint to keep as best.pt when this point is the best (else None)
    epoch_end(row, last)         the epoch's history row; `last` = the loop stops after this epoch
    checkpoint(ckpt)             a checkpoint to keep (at epoch ends and inside epochs, see trainer.checkpoint_every*)
    run_end(summary)             from gvc.run, after summary.json is written, whatever the run's status (also
                                 for a sweep's trial refused before training, which had no run_start)

A hook overrides only the events it needs; `Hooks` calls, for each event, only the hooks that override it,
so an event nobody listens to costs one empty-tuple check (the step loop itself calls nothing per step).
Hooks run in list order; the run-directory writer comes last, so its checkpoint closes an epoch: whatever
a logger recorded up to a checkpoint's step is never recorded again by a resumed run.
A logger that cannot reach its backend reports it once and keeps out of the way (`failure`); a hook's
exception in the run-directory writer is a real failure of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gvc import rundir

EVENTS = ("run_start", "log", "samples", "evaluation", "eval_point", "epoch_end", "checkpoint", "run_end")


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

    def run_start(self, start: RunStart) -> None: ...

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None: ...

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

    def failures(self) -> dict[str, str]:
        """Hooks that stopped working, by name, with why: recorded in summary.json."""
        return {h.name: h.failure for h in self.hooks if h.failure}


def plot_losses(history: list[dict[str, float]], names: tuple[str, ...], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    epochs = [row["epoch"] for row in history]
    for name in names + (("test_loss",) if "test_loss" in history[0] else ()):
        ax.plot(epochs, [row[name] for row in history], marker="o", ms=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (epoch mean)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


class RunDirWriter(Hook):
    """The run directory (gvc.rundir): history.csv every epoch, sample PNGs, checkpoints, evals.csv and best.pt
    (eval.along), the loss plot at the end.

    It keeps its own copy of the history rows and never calls back into the trainer. summary.json is gvc.run's:
    it knows the run's outcome. A write that fails (a full disk, an unwritable folder) raises rundir.WriteError
    naming the path; the previous file of that name is left intact.
    """

    name = "run_dir"

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.rows: list[dict[str, float]] = []
        self.loss_names: tuple[str, ...] = ()

    def run_start(self, start: RunStart) -> None:
        self.rows, self.loss_names = list(start.history), start.loss_names
        rundir.remove_stale_temporaries(self.run_dir)  # left by a process killed (SIGKILL) mid-write

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
            plot_losses(self.rows, self.loss_names, self.run_dir / rundir.LOSS_PLOT)
