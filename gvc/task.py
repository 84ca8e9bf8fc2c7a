"""One run, start to end: validate -> train -> (evaluate) -> summary.json -> the objective a sweeper minimises.

Failure is data: a failed or diverged run still writes summary.json with its status and reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import platform
import socket
import time
import traceback
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from gvc import rundir
from gvc.config import ConfigError, validate
from gvc.data import DataError
from gvc.facts import DIRECTIONS, FAMILIES, LOSSES, MAXIMIZE, MINIMIZE  # MINIMIZE/MAXIMIZE re-exported
from gvc.rundir import CheckpointError
from gvc.loggers import logger_status, make_loggers
from gvc.slurm import job_info
from gvc.training.hooks import Hook, Hooks
from gvc.training.loop import Diverged, Trainer

log = logging.getLogger(__name__)


def library_versions() -> dict[str, str]:
    import hydra
    import numpy
    import torchvision

    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "hydra": hydra.__version__, "numpy": numpy.__version__}


def objective_name(cfg: DictConfig, family: str, metrics: dict[str, float]) -> str:
    if cfg.trainer.objective != "auto":
        return cfg.trainer.objective
    if "fid" in metrics:
        return "fid"
    return FAMILIES[family].default_objective


def objective_direction(cfg: DictConfig, name: str, family: str) -> str:
    if cfg.trainer.objective_direction != "auto":
        return cfg.trainer.objective_direction
    if name in LOSSES[family]:
        return MINIMIZE
    return DIRECTIONS.get(name, MINIMIZE)


def worst_value(direction: str) -> float:
    """What a failed trial reports to the sweeper: the worst possible value, so it is never chosen."""
    return math.inf if direction == MINIMIZE else -math.inf


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """Refuse to overwrite a run a user already produced; resuming is explicit."""
    summary = rundir.read_summary(run_dir)
    has_checkpoint = (run_dir / rundir.CHECKPOINT).is_file()
    if (summary is not None or has_checkpoint) and not resume:
        raise ConfigError(
            f"{run_dir} already holds a run (status {summary.get('status') if summary else 'unknown'}); "
            "refusing to overwrite it. Continue it with trainer.resume=true, or choose a new hydra.run.dir."
        )


SETUP_ERRORS = (ConfigError, DataError, CheckpointError, ValueError)


def end_hooks(hooks: Hooks, summary: dict[str, Any], run_dir: Path) -> None:
    """Write summary.json, then hand it to the hooks (loggers record the outcome and upload it).

    The loggers' health goes into summary.json (`loggers`); a logger that fails only now is recorded by
    writing the summary again.
    """
    status = logger_status(hooks)
    if status:
        summary["loggers"] = status
    rundir.write_summary(run_dir, summary)
    hooks.run_end(summary)
    if logger_status(hooks) != status:
        summary["loggers"] = logger_status(hooks)
        rundir.write_summary(run_dir, summary)


def run(cfg: DictConfig, run_dir: Path, overrides: list[str] | None = None, raise_on_failure: bool = True) -> float:
    """Train one configuration into `run_dir` and return the objective (the worst value if it failed).

    With raise_on_failure=False (a sweep's trial) every failure, bad input included, is recorded in
    summary.json and reported as the worst value, so the other trials go on.
    """
    run_dir = Path(run_dir)
    check_run_dir(run_dir, cfg.trainer.resume)  # never caught: nothing may be written over a user's run
    summary: dict[str, Any] = {
        "model": cfg.model.name,
        "data": cfg.data.name,
        "status": "running",
        "reason": None,
        "seed": cfg.trainer.seed,
        "overrides": list(overrides or []),
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "versions": library_versions(),
    }
    if (slurm := job_info()) is not None:  # the SLURM job and its requeue count (pre-emptions, time limits)
        summary["slurm"] = slurm
    loggers: list[Hook] = []
    try:
        validate(cfg)
        previous = rundir.read_summary(run_dir) if cfg.trainer.resume else None
        if previous and previous.get("status") == "completed":
            log.info("%s already completed; not retraining (its objective is reported again)", run_dir)
            return float(previous["objective"]["value"])
        checkpoint = None
        if cfg.trainer.resume and (run_dir / rundir.CHECKPOINT).is_file():
            model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
            checkpoint = rundir.read_checkpoint(run_dir / rundir.CHECKPOINT, model_cfg)  # before any compute
            trained_on = ((checkpoint.get("config") or {}).get("data") or {}).get("name", "mnist")
            if trained_on != cfg.data.name:  # same image shape, other data: the weights would load silently
                raise CheckpointError(f"{run_dir / rundir.CHECKPOINT} was trained on data={trained_on}, but this "
                                      f"run is data={cfg.data.name}; resume with data={trained_on} or start a new run "
                                      "directory")
        loggers = make_loggers(cfg, run_dir)  # imports a logger's library only when it is selected
        trainer = Trainer(cfg, run_dir, hooks=loggers)  # device and data errors surface here, before any training
    except SETUP_ERRORS as e:
        if raise_on_failure:
            raise
        direction = cfg.trainer.objective_direction if cfg.trainer.objective_direction in (MINIMIZE, MAXIMIZE) else MINIMIZE
        summary.update(status="failed", reason=f"{type(e).__name__}: {e}",
                       objective={"name": cfg.trainer.objective, "direction": direction, "value": worst_value(direction)})
        end_hooks(Hooks(loggers), summary, run_dir)  # a refused trial still shows up in the loggers, as failed
        log.error("trial refused: %s", e)
        return worst_value(direction)
    started = time.perf_counter()
    if checkpoint is not None:
        trainer.load_checkpoint(checkpoint)
        summary["resumed_from"] = {"epoch": trainer.state.epoch, "step": trainer.state.step}
        log.info("resuming %s from epoch %d, step %d", run_dir, trainer.state.epoch, trainer.state.step)
    summary["loss"] = {**dataclasses.asdict(trainer.step_fn.loss), "units": trainer.step_fn.units()}  # its knobs, losses, units
    summary.update(family=trainer.model.family, params=trainer.model.parameter_counts(), device=str(trainer.device),
                   epoch_images=len(trainer.batches.data),  # a full epoch, so a budget's partial one is a share
                   numerics={"precision": trainer.numerics.precision, "channels_last": trainer.numerics.channels_last,
                             "note": trainer.numerics.note})
    rundir.write_summary(run_dir, summary)
    log.info("%s (%s parameters) on %s -> %s", cfg.model.name, f"{summary['params']['total']:,}", trainer.device, run_dir)
    metrics: dict[str, float] = {}
    error: BaseException | None = None
    try:
        trainer.fit()
        metrics = trainer.metrics
        summary["status"] = "completed"
        if metrics:  # numbers from different evaluators are never compared: name the one that measured these
            from gvc.evaluation.classifier import evaluator_identity

            summary["evaluator"] = evaluator_identity(cfg.data.name)
    except Diverged as e:
        summary.update(status="diverged", reason=str(e), diverged_at={"epoch": e.epoch, "step": e.step})
        log.error("diverged: %s (the last good checkpoint is kept)", e)
        error = e
    except Exception as e:  # noqa: BLE001 - any failure is recorded, then re-raised or reported to the sweeper
        summary.update(status="failed", reason=f"{type(e).__name__}: {e}", traceback=traceback.format_exc())
        error = e
    state = trainer.state
    history = state.history
    name = objective_name(cfg, trainer.model.family, metrics)
    direction = objective_direction(cfg, name, trainer.model.family)
    final = {k: v for k, v in (history[-1] if history else {}).items()
             if k not in rundir.BOOKKEEPING}
    value = {**final, **metrics}.get(name) if summary["status"] == "completed" else None
    if summary["status"] == "completed" and value is None:
        summary.update(status="failed", reason=f"objective {name!r} was not measured; choose one of {sorted({**final, **metrics})}")
    value = float(value) if value is not None and math.isfinite(value) else worst_value(direction)
    images = state.images
    summary.update(
        epochs=state.epoch,
        steps=state.step,
        images=images,
        stopped_by=state.stopped_by,  # which trainer.* budget ended training (null if it did not end normally)
        final=final,
        metrics=metrics,
        objective={"name": name, "direction": direction, "value": value},
        train_time_s=round(state.elapsed, 3),
        train_cpu_s=round(state.cpu_s, 3),  # CPU time of the training (all threads): shows other load
        threads=torch.get_num_threads(),
        wall_time_s=round(time.perf_counter() - started, 3),
        images_per_s=round(images / state.elapsed, 1) if state.elapsed > 0 else None,
        finished_at=dt.datetime.now().isoformat(timespec="seconds"),
    )
    end_hooks(trainer.hooks, summary, run_dir)
    log.info("%s: %s = %.4f (%s)", summary["status"], name, value, direction)
    if error is not None and raise_on_failure:
        raise error
    return value
