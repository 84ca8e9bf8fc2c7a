"""Hydra callbacks: protect existing runs before Hydra writes into them, keep a multirun index, say what failed."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from gvc.trial import rundir
log = logging.getLogger(__name__)


class ProtectRuns(Callback):
    """Refuse to start in a directory that already holds a run, unless trainer.resume=true with the same config.

    Runs before Hydra saves .hydra/ into the output directory, so the earlier run's config survives.
    Hydra turns a callback's exception into a warning, so this exits instead (gvc's refusal: status 2).
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from gvc.errors import ConfigError, fail
        from gvc.trial.task import check_run_dir, claim

        run_dir = Path(config.hydra.run.dir).absolute()
        created = False
        try:
            # Claimed first, atomically and for the run's life: two processes started together into one
            # folder would both pass the checks below before either wrote anything.
            created = claim(run_dir)
            check_run_dir(run_dir, config.trainer.resume, config)
        except ConfigError as e:
            release_refused(run_dir, created)
            fail(str(e))

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from gvc.errors import fail
        from gvc.trial.runlock import busy_refusal, in_use_by

        sweep_dir = Path(config.hydra.sweep.dir).absolute()
        runs = rundir.find_run_dirs(sweep_dir) if sweep_dir.is_dir() else []
        if runs and not config.trainer.resume:
            fail(
                f"{sweep_dir} already holds runs of an earlier sweep; refusing to overwrite them. "
                "Choose a new hydra.sweep.dir (the default is a fresh timestamp), or continue the "
                "earlier sweep's trials with trainer.resume=true."
            )
        for run in runs:  # before any trial starts: a half-resumed sweep is worse than none
            if owner := in_use_by(run):
                fail(busy_refusal(run, owner))
        keep_earlier_sweep_config(sweep_dir)


def release_refused(run_dir: Path, created: bool) -> None:
    """Give up a refused run's claim; remove the folder if the claim made it (it then holds nothing)."""
    from gvc.trial import runlock
    runlock.release(run_dir)
    if created and run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()


def keep_earlier_sweep_config(sweep_dir: Path) -> Path | None:
    """Hydra's basic sweeper writes the sweep's config to SWEEP/multirun.yaml after this callback, over the one
    an earlier sweep into the same folder left: move that one aside first (multirun.1.yaml, .2, ...)."""
    earlier = sweep_dir / "multirun.yaml"
    if not earlier.is_file():
        return None
    n = 1
    while (kept := sweep_dir / f"multirun.{n}.yaml").exists():
        n += 1
    earlier.rename(kept)
    log.info("the earlier sweep's config is kept as %s", kept)
    return kept


FAILED = ("failed", "diverged")


def outcome(run: Path) -> str:
    """`NAME STATUS (first line of the reason)` of a trial's run directory."""
    summary = rundir.read_summary(run) or {}
    reason = (summary.get("reason") or "").splitlines()
    return f"{run.name} {summary.get('status', 'not started')}" + (f" ({reason[0][:160]})" if reason else "")


class MultirunIndex(Callback):
    """Writes MULTIRUN/index.csv after every trial (in the worker, from disk) and at the end of the sweep.

    Each failed or diverged trial gets one console line, and the sweep ends with the count of this
    invocation's trials (those Hydra launched since it started) that failed.
    """

    started = 0.0

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.started = time.time()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode is not None and str(config.hydra.mode).endswith("MULTIRUN"):
            self._write(Path(config.hydra.sweep.dir))
            run = Path(config.hydra.runtime.output_dir)
            if (rundir.read_summary(run) or {}).get("status") in FAILED:
                log.warning("trial %s", outcome(run))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        path = self._write(sweep_dir)
        if path is None:
            return
        log.info("sweep index: %s", path)
        # Hydra rewrites a trial's .hydra/ whenever it launches it (a trial reported again included).
        ran = [r for r in rundir.find_run_dirs(sweep_dir)
               if (r / rundir.HYDRA_CONFIG).is_file() and (r / rundir.HYDRA_CONFIG).stat().st_mtime >= self.started - 1]
        failed = [r for r in ran if (rundir.read_summary(r) or {}).get("status") in FAILED]
        if failed:
            log.warning("%d of %d trials failed or diverged: %s", len(failed), len(ran), "; ".join(map(outcome, failed)))
        else:  # a trial a halving sweep stopped early (gvc.sweep.halving) did not fail, nor complete
            pruned = [r for r in ran if (rundir.read_summary(r) or {}).get("status") == "pruned"]
            log.info("%d of %d trials completed%s", len(ran) - len(pruned), len(ran),
                     f", {len(pruned)} pruned" if pruned else "")

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
