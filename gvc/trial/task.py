"""One run, start to end, as Hydra's task function calls it: protect the run directory, then gvc.trial.lifecycle.

Failure is data: a failed or diverged run still writes summary.json with its status and reason.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from gvc.errors import ConfigError
from gvc.trial import run_identity, rundir, runlock
from gvc.trial.extend import BUDGET_KEYS, ExtensionRefused, extension
from gvc.trial.lifecycle import Run


def check_run_dir(run_dir: Path, resume: bool, cfg: DictConfig | None = None) -> None:
    """Refuse to overwrite a run a user already produced; resuming is explicit, and only of the same config."""
    summary = rundir.read_summary(run_dir)
    has_checkpoint = (run_dir / rundir.CHECKPOINT).is_file()
    extend = bool(cfg is not None and cfg.trainer.get("extend", False))
    resume = resume or extend  # raising a budget continues the run
    if (summary is not None or has_checkpoint) and not resume:
        raise ConfigError(
            f"{run_dir} already holds a run (status {summary.get('status') if summary else 'unknown'}); "
            "refusing to overwrite it. Continue it with trainer.resume=true, or choose a new hydra.run.dir."
        )
    if resume and cfg is not None and (differences := run_identity.same_run_differences(run_dir, cfg)):
        if not extend:
            budgets = [d for d in differences if d.split(":", 1)[0] in BUDGET_KEYS]
            hint = (" To train a finished run on to a larger budget, add trainer.extend=true."
                    if budgets and len(budgets) == len(differences) else "")
            raise ConfigError(run_identity.refusal(run_dir, differences) + hint)
        try:
            extension(run_identity.recorded_config(run_dir), run_identity.task_config(cfg),
                      (summary or {}).get("stopped_by"))
        except ExtensionRefused as e:
            raise ConfigError(f"{run_dir}: {e}") from None
    if resume and (owner := runlock.in_use_by(run_dir)):
        raise ConfigError(runlock.busy_refusal(run_dir, owner))


def run(cfg: DictConfig, run_dir: Path, overrides: list[str] | None = None, raise_on_failure: bool = True,
        sweep_dir: Path | None = None) -> float:
    """Train one configuration into `run_dir` and return the objective (the worst value if it failed).

    With raise_on_failure=False (a sweep's trial) every failure, bad input included, is recorded in
    summary.json and reported as the worst value, so the other trials go on; `sweep_dir` (a sweep's trial) makes
    an interruption name the sweep's resume command.
    """
    run_dir = Path(run_dir)
    try:
        claim(run_dir)  # a no-op where ProtectRuns or the trial-folder resolver already claimed it
        check_run_dir(run_dir, cfg.trainer.resume, cfg)  # never caught: nothing may be written over a user's run
        return Run(cfg, run_dir, overrides, sweep_dir).execute(raise_on_failure)
    finally:
        runlock.release(run_dir)  # a sweep's next trial in this process may need it; the process may go on


def claim(run_dir: Path) -> bool:
    """Claim the run folder for this process for the run's life (gvc.trial.runlock), or refuse naming its holder.
    Returns whether the folder was made by this claim."""
    try:
        return runlock.claim(run_dir)
    except runlock.RunBusy as busy:
        raise ConfigError(runlock.claim_refusal(run_dir, busy.holder)) from None
