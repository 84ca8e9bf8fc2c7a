"""One trial's lifecycle in one place: validate -> set up (or resume) -> fit -> summary.json -> the objective.

`Run.execute` starts the hooks and ends them, whatever happens in between; builds summary.json from what
`Trainer.fit` returns (a FitResult) through gvc.trial.summary, the builder every path shares; and records every
failure, from a refused config through an unreadable checkpoint to a crash in training, in the run
directory before it is reported to the sweeper (the worst value) or raised (a single run).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import shlex
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from gvc.config import architecture_keys, validate
from gvc.loggers import logger_status, make_loggers
from gvc.process import Interrupts
from gvc.training.hooks import Hook, Hooks, make_hooks
from gvc.training.loop import FitResult, Trainer
from gvc.trial import extend, run_identity, rundir, summary as summaries
from gvc.trial.rundir import CheckpointError

log = logging.getLogger(__name__)


class TrialInterrupted(Exception):
    """A trial ended by a signal, its checkpoint written; `command` resumes it, `exit_code` is 128 + the signal."""

    def __init__(self, message: str, command: str, exit_code: int):
        super().__init__(message)
        self.command, self.exit_code = command, exit_code


def resume_command(run_dir: Path, overrides: list[str]) -> str:
    """The one command line that continues this run from its checkpoint."""
    kept = [o for o in overrides if not o.split("=", 1)[0].lstrip("+~") in ("trainer.resume", "hydra.run.dir")]
    return shlex.join([sys.executable.rsplit("/", 1)[-1], "-m", "gvc", *kept, f"hydra.run.dir={run_dir}",
                       "trainer.resume=true"])


def sweep_resume_command(sweep_dir: Path) -> str:
    """The one command line that finishes an interrupted sweep: its own overrides (from SWEEP/multirun.yaml, which
    Hydra's basic sweeper writes; else this process's command line, the sweeper's own with the basic launcher)
    into the same hydra.sweep.dir with trainer.resume=true."""
    recorded = Path(sweep_dir) / "multirun.yaml"
    if recorded.is_file():
        overrides = OmegaConf.load(recorded).hydra.overrides
        given = [*overrides.hydra, *overrides.task]
    else:
        given = [a for a in sys.argv[1:] if a not in ("-m", "--multirun")]
    skip = ("trainer.resume", "hydra.sweep.dir", "hydra.mode")
    kept = [o for o in given if o.split("=", 1)[0].lstrip("+~") not in skip]
    return shlex.join([sys.executable.rsplit("/", 1)[-1], "-m", "gvc", "-m", *kept, f"hydra.sweep.dir={sweep_dir}",
                       "trainer.resume=true"])


def start_line(cfg: DictConfig, facts: dict[str, Any], run_dir: Path) -> str:
    """The console's first line of a run: model, data set, device, numeric path (and why), threads, where."""
    numerics = facts["numerics"]
    path = numerics["precision"] + (" + channels-last" if numerics["channels_last"] else "")
    why = f" ({numerics['note']})" if numerics.get("note") else ""
    threads = torch.get_num_threads()
    return (f"{cfg.model.name} ({facts['params']['total']:,} parameters) on {cfg.data.name}, {facts['device']}, "
            f"{path}{why}, {threads} thread{'s' if threads != 1 else ''} -> {run_dir}")


class Run:
    """One trial: its config, its run directory and the overrides that made it."""

    def __init__(self, cfg: DictConfig, run_dir: Path, overrides: list[str] | None = None,
                 sweep_dir: Path | None = None):
        self.cfg, self.run_dir, self.overrides = cfg, Path(run_dir), list(overrides or [])
        self.sweep_dir = sweep_dir  # a sweep's trial: an interruption names the sweep's resume command
        self.summary = summaries.started(cfg, self.overrides)
        self.hooks = Hooks()
        self.extending: dict[str, list[Any]] = {}  # trainer.extend: the budgets raised over the finished run's
        self.previous: dict[str, Any] | None = None

    def execute(self, raise_on_failure: bool = True) -> float:
        """Train into the run directory and return the objective (the worst value if the trial failed).

        With raise_on_failure=False (a sweep's trial) every failure is recorded and reported as the worst
        value, so the other trials go on. A signal always ends the trial `interrupted` with a checkpoint; a
        single run then raises TrialInterrupted, naming the command that resumes it.
        """
        with Interrupts() as interrupts:
            try:
                if (value := self._reported_again()) is not None:
                    return value
                trainer, checkpoint = self._set_up(interrupts)
                if checkpoint is not None:
                    self._load(trainer, checkpoint)
            except Exception as e:  # noqa: BLE001 - a sweep's trial records any failure before training, too
                return self._refused(e, raise_on_failure)
            return self._train(trainer, checkpoint is not None, interrupts, raise_on_failure)

    # -- phases ----------------------------------------------------------------------------------------
    def _reported_again(self) -> float | None:
        validate(self.cfg)
        continues = self.cfg.trainer.resume or self.cfg.trainer.extend
        previous = rundir.read_summary(self.run_dir) if continues else None
        if previous and self.cfg.trainer.extend:  # any status: one killed in its final evaluation had trained
            recorded = run_identity.recorded_config(self.run_dir)
            self.extending = extend.extension(recorded, run_identity.task_config(self.cfg), previous.get("stopped_by"))
            self.previous = previous
        if previous and previous.get("status") in rundir.TRAINED and not self.extending:
            log.info("%s already %s; not retraining (its objective is reported again)", self.run_dir,
                     previous["status"])
            return float(previous["objective"]["value"])
        return None

    def _set_up(self, interrupts: Interrupts) -> tuple[Trainer, dict[str, Any] | None]:
        cfg, run_dir = self.cfg, self.run_dir
        checkpoint = None
        if (cfg.trainer.resume or cfg.trainer.extend) and (run_dir / rundir.CHECKPOINT).is_file():
            model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
            checkpoint = rundir.read_checkpoint(run_dir / rundir.CHECKPOINT, model_cfg,  # before any compute
                                                 architecture_keys(cfg))
            trained_on = ((checkpoint.get("config") or {}).get("data") or {}).get("name", "mnist")
            if trained_on != cfg.data.name:  # same image shape, other data: the weights would load silently
                raise CheckpointError(f"{run_dir / rundir.CHECKPOINT} was trained on data={trained_on}, but this "
                                      f"run is data={cfg.data.name}; resume with data={trained_on} or start a new run "
                                      "directory")
            if self.extending:
                self.summary["extended"] = extend.record(self.previous, self.extending, checkpoint,
                                                         dt.datetime.now().isoformat(timespec="seconds"))
                log.info("extending %s: %s", run_dir, ", ".join(f"{k} {a} -> {b}" for k, (a, b) in self.extending.items()))
                checkpoint = extend.reopen(checkpoint)
            elif (earlier := (rundir.read_summary(run_dir) or {}).get("extended")):  # an extended run resumed
                self.summary["extended"] = earlier
                if checkpoint.get("cut"):  # killed before its first checkpoint: still the budget's cut to re-open
                    checkpoint = extend.reopen(checkpoint)
        elif self.extending:
            raise CheckpointError(f"{run_dir} holds no checkpoint, so its run cannot be extended; start a new run "
                                  "directory with the larger budget")
        elif cfg.trainer.resume and self.sweep_dir is None:  # a resumed sweep's new trials have nothing to resume
            log.warning("trainer.resume=true, but %s holds no checkpoint: nothing to resume, training from the start. "
                        "To continue an earlier run, point at its folder: hydra.run.dir=outputs/%s/TIMESTAMP "
                        "(a sweep's trial: the same hydra.sweep.dir)", run_dir, cfg.model.name)
        initial = self._initial_weights() if checkpoint is None else None  # a resumed run has its own
        # The config's hooks, then the loggers (which import their library only when selected).
        hooks: list[Hook] = [*make_hooks(cfg.get("hooks")), *make_loggers(cfg, run_dir)]
        self.hooks = Hooks(hooks)
        trainer = Trainer(cfg, run_dir, hooks=hooks, interrupts=interrupts)  # device and data errors surface here
        self.hooks = trainer.hooks
        if initial is not None:
            self._load(trainer, initial, weights_only=True)
        return trainer, checkpoint

    def _initial_weights(self) -> dict[str, Any] | None:
        """trainer.init_from: another run's checkpoint, checked against this model before any compute."""
        source = self.cfg.trainer.init_from
        if not source:
            return None
        path = Path(source).expanduser()
        path = path / rundir.CHECKPOINT if path.is_dir() else path
        if not path.is_file():
            raise CheckpointError(f"trainer.init_from={source} holds no checkpoint ({path} is missing); name a run "
                                  "folder that has checkpoints/last.pt, or a checkpoint file")
        model_cfg = OmegaConf.to_container(self.cfg.model, resolve=True)
        initial = rundir.read_checkpoint(path, model_cfg, architecture_keys(self.cfg))
        self.summary["init_from"] = {"checkpoint": str(path.resolve()), "epoch": initial.get("epoch"),
                                     "step": initial.get("step")}
        log.info("starting from the weights of %s (epoch %s, step %s)", path, initial.get("epoch"), initial.get("step"))
        return initial

    def _load(self, trainer: Trainer, checkpoint: dict[str, Any], weights_only: bool = False) -> None:
        try:
            if weights_only:  # another run's weights; optimizers, streams and budgets start afresh
                trainer.model.load_state_dict(checkpoint["model"])
            else:
                trainer.load_checkpoint(checkpoint)
        except (RuntimeError, KeyError, ValueError) as e:  # a knob that changes a layer's shape, another optimizer
            raise CheckpointError(
                f"{self.run_dir / rundir.CHECKPOINT} does not fit this run's model or optimizer "
                f"({type(e).__name__}: {str(e).splitlines()[0][:300]}); resume with the config it was trained with "
                "or start a new run directory") from None

    def _refused(self, e: Exception, raise_on_failure: bool) -> float:
        """A trial that never trained. A sweep's trial is recorded as failed (loggers included) and reports the
        worst value; a single run raises (nothing is written over the run directory it was refused in)."""
        if raise_on_failure:
            raise e
        value = summaries.failed(self.summary, self.cfg, f"{type(e).__name__}: {e}")
        self._end()
        log.error("trial refused: %s", e)
        return value

    def _train(self, trainer: Trainer, resumed: bool, interrupts: Interrupts, raise_on_failure: bool) -> float:
        s, state = self.summary, trainer.state
        if resumed:
            s["resumed_from"] = {"epoch": state.epoch, "step": state.step}
            log.info("resuming %s from epoch %d, step %d", self.run_dir, state.epoch, state.step)
        facts = trainer.describe()
        s.update(facts)
        started = time.perf_counter()
        try:
            rundir.write_summary(self.run_dir, s)
        except rundir.WriteError as e:
            result = FitResult("failed", state, {}, reason=str(e), error=e)
        else:
            log.info(start_line(self.cfg, facts, self.run_dir))
            self.hooks.run_start(trainer.start_info())
            result = trainer.fit()
        value = self._finish(result, time.perf_counter() - started)
        if trainer.along is not None:  # eval.along: its points, what they cost, the best one
            s["along"] = trainer.along.summary()
        self._end()
        if result.status == "interrupted":  # a sweep stops too: the user (or the scheduler) asked for it
            if self.sweep_dir is not None:
                command, what = sweep_resume_command(self.sweep_dir), "the sweep"
            else:
                command, what = resume_command(self.run_dir, self.overrides), "it"
            message = (f"interrupted by {result.interrupted_by} at step {state.step}; checkpoint written. "
                       f"Resume {what} with:")
            log.warning("%s\n  %s", message, command)
            interrupts.chain()  # SLURM: submitit requeues the job now that the checkpoint is complete
            raise TrialInterrupted(message, command, 128 + int(getattr(signal, result.interrupted_by)))
        elif result.error is not None and raise_on_failure:
            raise result.error
        return value

    def _finish(self, result: FitResult, wall_s: float) -> float:
        """summary.json's outcome, from the FitResult alone; returns the objective's value."""
        cfg, s, state, metrics = self.cfg, self.summary, result.state, result.metrics
        family = s.get("family") or "gan"
        s.update(status=result.status, reason=result.reason)
        if result.status == "diverged":
            s["diverged_at"] = result.diverged_at
            log.error("diverged: %s (the last good checkpoint is kept)", result.reason)
        elif result.status == "stopped":
            log.warning("%s (resume it with trainer.resume=true)", result.reason)
        elif result.status == "failed" and result.error is not None:
            s["traceback"] = "".join(traceback.format_exception(result.error))
            log.error("failed: %s", result.reason)
        if metrics and result.status == "completed":  # name the evaluator that measured these numbers
            from gvc.evaluation.classifier import evaluator_identity

            s["evaluator"] = evaluator_identity(cfg.data.name)
        history = state.history
        name = summaries.objective_name(cfg, family, metrics)
        direction = summaries.objective_direction(cfg, name, family)
        final = {k: v for k, v in (history[-1] if history else {}).items() if k not in rundir.BOOKKEEPING}
        value = {**final, **metrics}.get(name) if result.status == "completed" else None
        if result.status == "completed" and value is None:
            s.update(status="failed",
                     reason=f"objective {name!r} was not measured; choose one of {sorted({**final, **metrics})}")
        value = float(value) if value is not None and math.isfinite(value) else summaries.worst_value(direction)
        s.update(
            epochs=state.epoch,
            steps=state.step,
            images=state.images,
            stopped_by=state.stopped_by,  # which trainer.* budget ended training (null if it did not end normally)
            final=final,
            metrics=metrics,
            objective={"name": name, "direction": direction, "value": value},
            train_time_s=round(state.elapsed, 3),
            train_cpu_s=round(state.cpu_s, 3),  # CPU time of the training (all threads): shows other load
            threads=torch.get_num_threads(),
            wall_time_s=round(wall_s, 3),
            images_per_s=round(state.images / state.elapsed, 1) if state.elapsed > 0 else None,
            finished_at=dt.datetime.now().isoformat(timespec="seconds"),
        )
        if s["status"] != "interrupted":
            log.info("%s: %s = %.4f (%s)", s["status"], name, value, direction)
        return value

    def _end(self) -> None:
        """Write summary.json, then hand it to the hooks (loggers record the outcome; the writer plots losses).

        The loggers' health goes into summary.json (`loggers`); a logger that fails only now is recorded by
        writing the summary again. A summary that cannot be written is logged with its path (the error
        says which), and the hooks still end.
        """
        s = self.summary
        status = logger_status(self.hooks)
        if status:
            s["loggers"] = status
        self._write_summary()
        try:
            self.hooks.run_end(s)
        except rundir.WriteError as e:
            s.update(status="failed", reason=str(e))
            log.error("%s", e)
        if logger_status(self.hooks) != status or s["status"] == "failed":
            s["loggers"] = logger_status(self.hooks)
            self._write_summary()

    def _write_summary(self) -> None:
        try:
            rundir.write_summary(self.run_dir, self.summary)
        except rundir.WriteError as e:
            log.error("the trial's outcome (%s) could not be recorded: %s", self.summary["status"], e)
