"""summary.json's contents: what a trial records when it starts, fails, or ends, and what it reports to a sweeper.

One builder for every path that writes a trial's summary (gvc.trial.lifecycle, the SLURM launcher's lost
trials), so a trial looks the same on disk however it ended. Imports no training code.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import socket
from typing import Any

from omegaconf import DictConfig

from gvc.facts import FAMILIES, LOSSES, MAXIMIZE, MINIMIZE, direction_of_key
from gvc.trial import run_identity


def library_versions() -> dict[str, str]:
    import hydra
    import numpy
    import torch
    import torchvision

    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "hydra": hydra.__version__, "numpy": numpy.__version__}


def job_info() -> dict[str, Any] | None:
    """The SLURM job this process runs in and how often SLURM restarted it (requeues), or None outside SLURM."""
    env = os.environ
    if "SLURM_JOB_ID" not in env:
        return None
    array = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    return {"job_id": f"{array[0]}_{array[1]}" if all(array) else env["SLURM_JOB_ID"],
            "restarts": int(env.get("SLURM_RESTART_COUNT") or 0)}


def worst_value(direction: str) -> float:
    """What a failed trial reports to the sweeper: the worst possible value, so it is never chosen."""
    return math.inf if direction == MINIMIZE else -math.inf


def objective_name(cfg: DictConfig, family: str, metrics: dict[str, float]) -> str:
    if cfg.trainer.objective != "auto":
        return cfg.trainer.objective
    if "fid" in metrics:
        return "fid"
    if "ae_fid" in metrics:  # an unlabelled data set: measured in its label-free space alone
        return "ae_fid"
    return FAMILIES[family].default_objective


def objective_direction(cfg: DictConfig, name: str, family: str | None) -> str:
    if cfg.trainer.objective_direction != "auto":
        return cfg.trainer.objective_direction
    if family is not None and name in LOSSES[family]:
        return MINIMIZE
    return direction_of_key(name) or MINIMIZE


def own_data_record(cfg: DictConfig) -> dict[str, Any] | None:
    """What gvc/datasets/own.py recorded of the user's images a run trains on (None for a registered data set)."""
    from gvc import datasets

    try:
        return datasets.get(cfg.data.name).record or None
    except KeyError:
        return None


def started(cfg: DictConfig, overrides: list[str] | None) -> dict[str, Any]:
    """A trial's summary when it starts: what it is, where and with what it runs; status `running`."""
    summary: dict[str, Any] = {
        "model": cfg.model.name,
        "data": cfg.data.name,
        "status": "running",
        "reason": None,
        "seed": cfg.trainer.seed,
        "overrides": list(overrides or []),
        "config": run_identity.task_config(cfg),  # what a resume or a re-used sweep folder is compared with
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "pid": os.getpid(),  # with host: a live process still training this run is never joined by another
        "versions": library_versions(),
    }
    if (record := own_data_record(cfg)) is not None:  # a user's own images: the exact files, split and shape
        summary["data_set"] = record
    if (slurm := job_info()) is not None:  # the SLURM job and its requeue count (pre-emptions, time limits)
        summary["slurm"] = slurm
    return summary


def failed(summary: dict[str, Any], cfg: DictConfig, reason: str, family: str | None = None) -> float:
    """Mark `summary` failed with `reason` and the worst objective value; returns that value.

    Used for trials that never trained (refused config, unreadable checkpoint) and trials lost outside gvc
    (a SLURM job killed before it wrote a result). A name and direction already recorded are kept.
    """
    objective = summary.get("objective") or {}
    name = objective.get("name") or cfg.trainer.objective
    direction = objective.get("direction") or cfg.trainer.objective_direction
    if direction not in (MINIMIZE, MAXIMIZE):
        direction = objective_direction(cfg, name, family) if name != "auto" else MINIMIZE
    value = worst_value(direction)
    summary.update(status="failed", reason=reason, objective={"name": name, "direction": direction, "value": value})
    return value
