"""What belongs to the process, not to a trial: torch's thread count, TF32, global seeds, and signal handlers.

The entry point (gvc/__main__.py) calls `configure_process` once; trials never change process settings, so
several trials can share a process (gvc.training.streams gives each its own random streams).
`Interrupts` turns SIGINT, SIGTERM and SLURM's pre-emption signal (submitit's USR2) into a flag the training
loop reads between steps: the loop writes a checkpoint and ends the trial `interrupted`, and a handler that
was installed before (submitit's requeue) runs afterwards, when the checkpoint is complete.
"""

from __future__ import annotations

import logging
import random
import signal
from contextlib import contextmanager
from types import FrameType
from typing import Any, Callable, Iterator

import numpy as np
import torch
from omegaconf import DictConfig

log = logging.getLogger(__name__)


def configure_process(cfg: DictConfig) -> None:
    """Threads, TF32 and the global seeds (for any code outside a trial's own streams), from the config."""
    from gvc.threads import choose_threads

    t = cfg.trainer
    threads, why = choose_threads(t.threads)  # null: the cores other processes leave free (gvc/threads.py)
    torch.set_num_threads(threads)
    log.info("%d torch thread%s: %s", threads, "" if threads == 1 else "s", why)
    # Set both ways: cuDNN allows TF32 convolutions by default. Process-wide; no effect off CUDA.
    torch.backends.cuda.matmul.allow_tf32 = t.tf32
    torch.backends.cudnn.allow_tf32 = t.tf32
    random.seed(t.seed)
    np.random.seed(t.seed)
    torch.manual_seed(t.seed)


def preemption_signal() -> signal.Signals:
    """The signal SLURM sends before a time limit or pre-emption: submitit's choice (USR2), else USR2."""
    try:
        import submitit

        return signal.Signals(submitit.JobEnvironment._usr_sig())
    except Exception:  # noqa: BLE001 - submitit missing or its private helper renamed
        return signal.SIGUSR2


class Interrupts:
    """While entered, SIGINT, SIGTERM and the pre-emption signal only set `received` (the signal's name).

    On exit the earlier handlers are restored. `chain()` then calls the earlier handler of the pre-emption
    signal if it was a Python function (submitit's, which requeues the SLURM job and ends the process).
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._signum: int | None = None
        self._stop: Callable[[str], BaseException] | None = None  # at_once(): raise this instead of waiting
        self._previous: dict[int, Any] = {}
        self._preempt = preemption_signal()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None and signum == signal.SIGINT:  # asked twice: stop now, without a checkpoint
            raise KeyboardInterrupt
        if self.received is None and self._stop is not None:
            log.warning("%s received during the evaluation: stopping it now (the checkpoint is kept; a resume "
                        "evaluates it)", signal.Signals(signum).name)
        elif self.received is None:
            log.warning("%s received: stopping at the next training step with a checkpoint (Ctrl-C again stops at "
                        "once, without one)", signal.Signals(signum).name)
        self.received, self._signum = signal.Signals(signum).name, signum
        if self._stop is not None:
            raise self._stop(self.received)

    def __enter__(self) -> Interrupts:
        import threading

        if threading.current_thread() is threading.main_thread():  # Python allows handlers there only
            for sig in (signal.SIGINT, signal.SIGTERM, self._preempt):
                if sig == signal.SIGINT and signal.getsignal(sig) == signal.SIG_IGN:
                    continue  # a background job (`nohup ... &`): the shell asked it to ignore Ctrl-C
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @contextmanager
    def at_once(self, stop: Callable[[str], BaseException]) -> Iterator[None]:
        """While entered (work without step boundaries: an evaluation), a signal raises `stop(name)` at once, as
        does one that arrived before."""
        if self.received is not None:
            raise stop(self.received)
        self._stop = stop
        try:
            yield
        finally:
            self._stop = None

    def chain(self) -> None:
        """After the checkpoint: hand the pre-emption signal on to whoever listened before (submitit)."""
        previous: Callable | Any = self._previous.get(self._preempt)
        if self._signum == self._preempt and callable(previous):
            previous(self._signum, None)
