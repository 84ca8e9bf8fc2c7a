"""`logger=tensorboard`: event files in RUN/tensorboard/ (scalars, sample grids, HParams at the end).

Tags, all against the global optimisation step:
    train/<loss>     the epoch's running loss mean at every log point (`trainer.log_every` steps)
    epoch/<name>     the epoch's history row (loss means, VAE test losses, elapsed_s, images)
    eval/<metric>    every evaluation metric and its real-data floor (eval/floor_<metric>)
    samples          the 5x5 sample grids
    final/<name>     at the end: final losses, metrics and the objective, beside the HParams session
                     (the run's hyperparameters and its status), so `tensorboard --logdir multirun/...`
                     compares trials in the HParams table. Both live in their own event file
                     (`*.hparams`), which a resumed run replaces.
A resumed run opens its writer with purge_step = the checkpoint's step + 1: TensorBoard drops whatever the
interrupted run wrote after that checkpoint, so no step appears twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from gvc.config import execution_keys
from gvc.loggers import LoggerHook, final_numbers, flat_config, guarded

HPARAM_SECTIONS = ("model", "loss", "optimizer", "data", "trainer")
# Keys that change how a run is executed or recorded, not what it learns: left out of the HParams table.
HPARAMS_SUFFIX = ".hparams"  # the event file holding the run's HParams session and final numbers
NOT_HPARAMS = execution_keys()  # as the schema fields declare them (gvc/knobs.py)


class TensorBoardLogger(LoggerHook):
    name = "tensorboard"

    def __init__(self, cfg: DictConfig, run_dir: Path):
        super().__init__(cfg, run_dir)
        self.options = cfg.logger.tensorboard
        self.log_dir = self.run_dir / self.options.dir
        self.writer = None

    def _open(self, resumed_step: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=resumed_step + 1 if resumed_step else None)

    @guarded
    def run_start(self, start) -> None:
        self.family = start.family
        self._open(start.step)

    @guarded
    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        for k, v in losses.items():
            self.writer.add_scalar(f"train/{k}", v, step)

    @guarded
    def samples(self, epoch: int, step: int, grid: torch.Tensor) -> None:
        if self.options.images:
            self.writer.add_image("samples", grid.float().cpu(), step)

    @guarded
    def evaluation(self, epoch: int, step: int, metrics: dict[str, float]) -> None:
        self.metric_keys.update(metrics)
        for k, v in metrics.items():
            self.writer.add_scalar(f"eval/{k}", float(v), step)
        self.writer.flush()

    @guarded
    def epoch_end(self, row: dict[str, float], last: bool) -> None:
        for k, v in self.epoch_scalars(row).items():
            self.writer.add_scalar(f"epoch/{k}", v, int(row["step"]))
        self.writer.flush()  # an epoch is visible in TensorBoard as soon as it ends

    @guarded
    def run_end(self, summary: dict[str, Any]) -> None:
        from torch.utils.tensorboard.summary import hparams, scalar
        from torch.utils.tensorboard.writer import FileWriter

        self.close()
        hp = {k: _hparam_value(v) for k, v in flat_config(self.cfg, HPARAM_SECTIONS).items() if k not in NOT_HPARAMS}
        hp.update(status=summary.get("status", "unknown"), family=summary.get("family") or self.family or "unknown")
        finals = {f"final/{k}": v for k, v in final_numbers(summary).items()}
        step = int(summary.get("steps") or 0)
        # TensorBoard keeps the first HParams session it reads for a run: a resumed run replaces its own earlier
        # one (say, of a failed attempt) instead of adding a second.
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for old in self.log_dir.glob(f"events.out.tfevents.*{HPARAMS_SUFFIX}"):
            old.unlink()
        writer = FileWriter(str(self.log_dir), filename_suffix=HPARAMS_SUFFIX)
        try:
            for summ in hparams(hp, finals):
                writer.add_summary(summ, step)
            for tag, value in finals.items():
                writer.add_summary(scalar(tag, value), step)
        finally:
            writer.close()

    def close(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001 - closing after a failure must not raise again
                pass
            self.writer = None


def _hparam_value(value: Any) -> bool | int | float | str:
    """HParams take bools, numbers and strings only."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return "null" if value is None else str(value)
