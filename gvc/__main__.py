"""`python -m gvc [overrides]`: train one configuration; `python -m gvc -m ...`: sweep.

Run `python -m gvc --help` (or `list`) for the config groups and `python -m gvc --cfg job` for the composed config.
Bad input is refused by gvc.cli before Hydra creates a run directory; what only shows later (data, checkpoints)
is refused the same way, and the folder Hydra made for the refused run is removed.
"""

from __future__ import annotations

import signal
import sys

INTERRUPTED = ("gvc: interrupted (Ctrl-C). A run that had started keeps its last checkpoint: the same command "
               "with trainer.resume=true continues it.")


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C outside training (imports, Hydra's start-up, between trials): one line, exit 130, no traceback.
    Inside a training step gvc.process.Interrupts takes over (checkpoint, `interrupted`, the resume command)."""
    print(INTERRUPTED, file=sys.stderr)
    sys.exit(128 + signum)


# Installed before the heavy imports below, which take seconds; an ignored Ctrl-C (a background job) stays ignored.
if __name__ == "__main__" and signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
    signal.signal(signal.SIGINT, _interrupted)

if __name__ == "__main__":  # `list` and `--help` need no torch, Hydra or config schema: answered at once
    from gvc import listing

    if listing.main(sys.argv[1:]):
        sys.exit(0)

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from hydra.types import RunMode  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from gvc import cli  # noqa: E402
from gvc.config import ROOT, register_configs  # noqa: E402
from gvc.data import DataError  # noqa: E402
from gvc.errors import ConfigError, fail  # noqa: E402
from gvc.trial import run_identity, rundir, runlock  # noqa: E402
from gvc.trial.rundir import CheckpointError, WriteError  # noqa: E402

register_configs()
run_identity.register_resolvers()


# An absolute path: with `python -m`, a relative config_path would be looked up inside the package.
@hydra.main(version_base="1.3", config_path=str(ROOT / "conf"), config_name="config")
def main(cfg: DictConfig) -> float:
    from gvc.process import configure_process
    from gvc.trial.lifecycle import TrialInterrupted
    from gvc.trial.task import run

    configure_process(cfg)  # threads, TF32, global seeds: the process's, set here and nowhere else
    hc = HydraConfig.get()
    multirun = hc.mode == RunMode.MULTIRUN
    try:
        # In a sweep, a failed trial is recorded and reported as the worst value; the sweep goes on.
        return run(cfg, Path(hc.runtime.output_dir), list(hc.overrides.task), raise_on_failure=not multirun,
                   sweep_dir=Path(hc.sweep.dir).absolute() if multirun else None)
    except (ConfigError, DataError, CheckpointError, WriteError) as e:
        if not multirun:
            remove_litter(Path(hc.runtime.output_dir))
        fail(str(e))
    except TrialInterrupted as e:  # the log said how to resume; no traceback
        if multirun:  # Hydra's on_job_end, which indexes the trial, is skipped by the exit
            rundir.write_multirun_index(Path(hc.sweep.dir))
        sys.exit(e.exit_code)


def remove_litter(run_dir: Path) -> None:
    """Remove what Hydra wrote for a refused run (.hydra/, the log), but never a folder holding a run."""
    held = [run_dir / rundir.SUMMARY, run_dir / rundir.CHECKPOINT, run_dir / rundir.HISTORY]
    if run_dir.is_dir() and not any(p.exists() for p in held) and \
            {p.name for p in run_dir.iterdir()} <= {".hydra", "gvc.log", runlock.LOCK}:
        shutil.rmtree(run_dir)


if __name__ == "__main__":
    try:
        cli.main(sys.argv[1:], run_hydra=main)
    except KeyboardInterrupt:  # Ctrl-C twice inside a training step: stopped at once, without a checkpoint
        print(INTERRUPTED, file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
