"""The training loop's seam: hooks called at defined points of a run, and the run-directory writer as one of them.

    run_start(trainer)           once the Trainer is built (and a checkpoint, if resuming, is loaded)
    log(step, epoch, losses)     every `trainer.log_every` steps: the epoch's running loss means so far
    samples(epoch, step, grid)   each sample grid (a 3xHxW tensor in [0, 1], the 5x5 grid of the fixed latents)
    evaluation(epoch, step, m)   each evaluation: every metric and its real-data floor (`floor_<name>`)
    epoch_end(row, last)         the epoch's history row; `last` = the loop stops after this epoch
    run_end(summary)             from gvc.task, after summary.json is written, whatever the run's status

A hook overrides only the events it needs; `Hooks` calls, for each event, only the hooks that override it,
so an event nobody listens to costs one empty-tuple check (the step loop itself calls nothing per step).
Hooks run in list order; the run-directory writer comes last, so its checkpoint closes an epoch: whatever
a logger recorded up to a checkpoint's step is never recorded again by a resumed run.
A logger that cannot reach its backend reports it once and keeps out of the way (`failure`); a hook's
exception in the run-directory writer is a real failure of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from gvc import rundir

if TYPE_CHECKING:
    from gvc.training.loop import Trainer


EVENTS = ("run_start", "log", "samples", "evaluation", "epoch_end", "run_end")


class Hook:
    """Base class: every event is a no-op. `failure` is None, or why the hook stopped working."""

    name = "hook"
    failure: str | None = None

    def run_start(self, trainer: Trainer) -> None: ...

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None: ...

    def samples(self, epoch: int, step: int, grid: torch.Tensor) -> None: ...

    def evaluation(self, epoch: int, step: int, metrics: dict[str, float]) -> None: ...

    def epoch_end(self, row: dict[str, float], last: bool) -> None: ...

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

    def run_start(self, trainer: Trainer) -> None:
        for h in self._run_start:
            h.run_start(trainer)

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        for h in self._log:
            h.log(step, epoch, losses)

    def samples(self, epoch: int, step: int, grid: torch.Tensor) -> None:
        for h in self._samples:
            h.samples(epoch, step, grid)

    def evaluation(self, epoch: int, step: int, metrics: dict[str, float]) -> None:
        for h in self._evaluation:
            h.evaluation(epoch, step, metrics)

    def epoch_end(self, row: dict[str, float], last: bool) -> None:
        for h in self._epoch_end:
            h.epoch_end(row, last)

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
    """The run directory (gvc.rundir): history.csv every epoch, sample PNGs, checkpoints, the loss plot at the end.

    summary.json is gvc.task's: it knows the run's outcome.
    """

    name = "run_dir"

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.trainer: Trainer | None = None

    def run_start(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def samples(self, epoch: int, step: int, grid: torch.Tensor) -> None:
        from torchvision.utils import save_image

        path = rundir.sample_path(self.run_dir, epoch)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(grid, path)

    def epoch_end(self, row: dict[str, float], last: bool) -> None:
        t = self.trainer
        rundir.write_history(self.run_dir, t.state.history)
        if row["epoch"] % t.cfg.trainer.checkpoint_every == 0 or last:
            t.save_checkpoint()

    def run_end(self, summary: dict[str, Any]) -> None:
        if self.trainer is not None and self.trainer.state.history:  # diverged runs too: their curves tell why
            plot_losses(self.trainer.state.history, self.trainer.step_fn.loss_names, self.run_dir / rundir.LOSS_PLOT)
