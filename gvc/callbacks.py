"""Hydra callbacks: protect existing runs before Hydra writes into them, and keep a multirun index."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from gvc import rundir

log = logging.getLogger(__name__)


class ProtectRuns(Callback):
    """Refuse to start in a directory that already holds a run, unless trainer.resume=true with the same config.

    Runs before Hydra saves .hydra/ into the output directory, so the earlier run's config survives.
    Hydra turns a callback's exception into a warning, so this exits instead.
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from gvc.config import ConfigError
        from gvc.task import check_run_dir

        try:
            check_run_dir(Path(config.hydra.run.dir).absolute(), config.trainer.resume, config)
        except ConfigError as e:
            sys.exit(f"gvc: error: {e}")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir).absolute()
        if sweep_dir.is_dir() and rundir.find_run_dirs(sweep_dir) and not config.trainer.resume:
            sys.exit(
                f"gvc: error: {sweep_dir} already holds runs of an earlier sweep; refusing to overwrite them. "
                "Choose a new hydra.sweep.dir (the default is a fresh timestamp), or continue the "
                "earlier sweep's trials with trainer.resume=true."
            )


class MultirunIndex(Callback):
    """Writes MULTIRUN/index.csv after every trial (in the worker, from disk) and at the end of the sweep."""

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode is not None and str(config.hydra.mode).endswith("MULTIRUN"):
            self._write(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        path = self._write(Path(config.hydra.sweep.dir))
        if path is not None:
            log.info("sweep index: %s", path)

    @staticmethod
    def _write(sweep_dir: Path) -> Path | None:
        return rundir.write_multirun_index(sweep_dir) if sweep_dir.is_dir() else None


class OptunaStorageDir(Callback):
    """Creates the folder of an Optuna sqlite study (sqlite cannot create it) before the sweeper opens it."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from omegaconf import OmegaConf

        storage = OmegaConf.select(config, "hydra.sweeper.storage", default=None)
        if isinstance(storage, str) and storage.startswith("sqlite:///"):
            Path(storage[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
