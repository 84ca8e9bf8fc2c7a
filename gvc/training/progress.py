"""Progress lines for output that is not a terminal (SLURM logs, CI): no bar there, so a plain line now and then.

A DCGAN epoch on a CPU takes minutes; without these a piped log is silent for that long. One line at most every
`trainer.progress_every_s` seconds, written at the loop's log points (every `trainer.log_every` steps), where the
running losses are on the host anyway.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("gvc.training.loop")


class PlainProgress:
    """One epoch's progress lines; `every_s` None = none (a terminal shows a bar instead)."""

    def __init__(self, every_s: float | None, epoch: int, epochs: int, batches: int):
        self.every_s, self.epoch, self.epochs, self.batches = every_s, epoch, epochs, batches
        self.started = time.perf_counter()
        self.next = None if every_s is None else self.started + every_s

    def tick(self, step: int, done: int, running: dict[str, float]) -> None:
        if self.next is None or (now := time.perf_counter()) < self.next:
            return
        self.next = now + self.every_s
        losses = "  ".join(f"{k} {v:.4f}" for k, v in running.items())
        log.info("epoch %d/%d  batch %d/%d  step %d  %s  (%.0fs into the epoch)", self.epoch, self.epochs, done,
                 self.batches, step, losses, now - self.started)
