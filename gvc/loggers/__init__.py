"""Loggers: the `logger` config group's hooks (TensorBoard, MLflow), built only when selected.

Neither library is imported unless its logger is selected (`logger=tensorboard`, `logger=mlflow`,
`'logger=[tensorboard,mlflow]'`). A logger is an observer: the run directory stays the source of truth,
and a logger whose backend fails reports it once, stops logging, and lets training go on
(the failure is recorded in summary.json under `loggers`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from gvc.training.hooks import Hook

log = logging.getLogger(__name__)

# name -> (module, class, the distribution a user installs, the module whose presence proves it installed)
LOGGERS: dict[str, tuple[str, str, str, str]] = {
    "tensorboard": ("gvc.loggers.tensorboard_logger", "TensorBoardLogger", "tensorboard", "tensorboard"),
    "mlflow": ("gvc.loggers.mlflow_logger", "MLflowLogger", "mlflow-skinny", "mlflow"),
}
# Epoch-row keys that are bookkeeping, not something to plot against the step.
NOT_LOGGED = ("epoch", "step", "partial")


def selected(cfg: DictConfig) -> list[str]:
    """The loggers a composed config selects, in LOGGERS order."""
    node = OmegaConf.select(cfg, "logger", default=None)
    return [name for name in LOGGERS if node is not None and node.get(name) is not None]


def missing_packages(cfg: DictConfig) -> list[str]:
    """Errors for selected loggers whose library is not installed (checked without importing it)."""
    errors = []
    for name in selected(cfg):
        _, _, dist, module = LOGGERS[name]
        if importlib.util.find_spec(module) is None:
            errors.append(f"logger={name} needs the package {dist!r}, which is not installed: "
                          f"`pip install {dist}` (or `pip install gvc[loggers]`), or drop logger={name}")
    return errors


def make_loggers(cfg: DictConfig, run_dir: Path) -> list[Hook]:
    """One hook per selected logger (imports its library now, not before)."""
    hooks = []
    for name in selected(cfg):
        module, cls, _, _ = LOGGERS[name]
        hooks.append(getattr(importlib.import_module(module), cls)(cfg, Path(run_dir)))
    return hooks


def guarded(event: Callable) -> Callable:
    """A logger event that never breaks training: the first error is recorded and reported, then it is off."""

    @functools.wraps(event)
    def call(self: "LoggerHook", *args: Any, **kwargs: Any) -> None:
        if self.failure is not None:
            return
        try:
            event(self, *args, **kwargs)
        except Exception as e:  # noqa: BLE001 - a logger's backend can fail in any way; training goes on
            self.failure = f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"
            log.warning("logger %s failed and is switched off for this run (training goes on; the run "
                        "directory keeps everything): %s", self.name, self.failure)
            self.close()

    return call


class LoggerHook(Hook):
    """What the loggers share: the config, the run directory, and which evaluation keys are metrics."""

    def __init__(self, cfg: DictConfig, run_dir: Path):
        self.cfg, self.run_dir = cfg, Path(run_dir)
        self.family: str | None = None
        self.metric_keys: set[str] = set()  # evaluation metrics, which the epoch row may repeat

    def close(self) -> None:
        """Release the backend (after a failure or at the end); must not raise."""

    def epoch_scalars(self, row: dict[str, float]) -> dict[str, float]:
        """The epoch row's numbers worth plotting, evaluation metrics aside (those are logged as eval/)."""
        return {k: float(v) for k, v in row.items()
                if k not in NOT_LOGGED and k not in self.metric_keys and isinstance(v, (int, float))}


def flat_config(cfg: DictConfig, sections: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The composed config as {"optimizer.lr": 0.0002, ...}; lists as their text."""
    container = OmegaConf.to_container(cfg, resolve=True)
    out: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[prefix] = str(node) if isinstance(node, (list, tuple)) else node

    for key, value in container.items():
        if sections is None or key in sections:
            walk(str(key), value)
    return out


def final_numbers(summary: dict[str, Any]) -> dict[str, float]:
    """A finished run's numbers: final losses, metrics and the objective, as floats (non-finite kept)."""
    out = {}
    for key, value in {**(summary.get("final") or {}), **(summary.get("metrics") or {})}.items():
        number = _to_float(value)
        if number is not None:
            out[key] = number
    objective = (summary.get("objective") or {}).get("value")
    if _to_float(objective) is not None:
        out["objective"] = _to_float(objective)
    return out


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # summary.json writes non-finite floats as "inf"/"nan"
    except (TypeError, ValueError):
        return None


def logger_status(hooks) -> dict[str, dict[str, Any]]:
    """For summary.json: each logger among `hooks`, whether it worked, and why not."""
    return {h.name: {"ok": h.failure is None, "error": h.failure} for h in hooks if isinstance(h, LoggerHook)}
