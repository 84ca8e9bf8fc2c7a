"""`hooks=early_stopping`: end a run whose monitored number stopped improving (Keras' EarlyStopping).

It watches one column of history.csv's epoch rows (`test_loss`, a VAE's per-epoch test −ELBO, by default; a
metric such as `fid` with eval.every_epochs) and asks the loop to stop (Hook.request_stop) once it has not
improved by more than `min_delta` for `patience` epochs. The run then ends `stopped`, with its checkpoint.
"""

from __future__ import annotations

import math

from gvc.training.hooks import Hook, RunStart


class EarlyStopping(Hook):
    name = "early_stopping"

    def __init__(self, monitor: str = "test_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "min"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode={mode!r} is not allowed: min or max")
        if not (isinstance(patience, int) and patience >= 1):
            raise ValueError(f"patience={patience!r} is not allowed: a positive number of epochs")
        if not min_delta >= 0:
            raise ValueError(f"min_delta={min_delta!r} is not allowed: a non-negative improvement")
        self.monitor, self.patience, self.min_delta, self.sign = monitor, patience, float(min_delta), \
            1.0 if mode == "min" else -1.0
        self.best, self.waited = math.inf, 0

    def run_start(self, start: RunStart) -> None:
        self.best, self.waited = math.inf, 0
        for row in start.history:  # a resumed run: the same decision as without the interruption
            self._see(row)

    def epoch_end(self, row: dict[str, float], last: bool) -> None:
        self._see(row)
        if self.waited >= self.patience:
            self.request_stop(f"{self.monitor} has not improved by more than {self.min_delta:g} for {self.waited} "
                              f"epochs (best {self.sign * self.best:.6g})")

    def _see(self, row: dict[str, float]) -> None:
        if self.monitor not in row:
            raise ValueError(f"hooks.{self.name}.monitor={self.monitor!r} is not a history.csv column of this run; "
                             f"choose one of {sorted(row)}")
        value = self.sign * float(row[self.monitor])
        if value < self.best - self.min_delta:
            self.best, self.waited = value, 0
        else:
            self.waited += 1
