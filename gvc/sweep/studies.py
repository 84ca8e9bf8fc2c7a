"""Optuna studies that never mix up trials: named by what makes trials comparable, kept with their sweep, and
finished after a crash.

`StudySweeper` is Hydra's Optuna sweeper (hydra-optuna-sweeper's ask-and-tell loop) with gvc's guarantees:
- the study is named `gvc_MODEL_DATA_HASH`, HASH covering every identity key of the trials' config
  (gvc.trial.run_identity) that the search does not vary, the search space, the direction and the evaluator's
  record, so a Fashion-MNIST sweep never joins an MNIST study (hydra.sweeper.study_name names one yourself);
- the study lives in the sweep's folder (`hydra.sweep.dir/optuna.db`) unless hydra.sweeper.storage names one;
- a trial's folder is numbered by its study trial number, so invocations into one folder never collide;
- the console says whether the study is new or continued, and with how many trials;
- trials left RUNNING by a sweeper that died (same host, its process gone) are closed as failed and their
  parameters are asked again, into new trial folders; with trainer.resume=true, n_trials is the study's
  total, so re-running the crashed command finishes the study instead of adding n_trials more.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from pathlib import Path
from typing import Any, Sequence

import optuna
from hydra_plugins.hydra_optuna_sweeper._impl import OptunaSweeperImpl, create_params_from_overrides
from omegaconf import OmegaConf

from gvc.trial import run_identity
from gvc.trial.runlock import alive

log = logging.getLogger(__name__)

SWEEPER_ATTR = "gvc_sweeper"  # user attribute: {"host", "pid"} of the sweeper that asked the trial
RERUN_ATTR = "gvc_rerun_of"  # user attribute: the number of the dead trial whose parameters this one re-runs
STORAGE_FILE = "optuna.db"


def searched_keys(params: Sequence[str]) -> dict[str, str]:
    """The keys the search varies and their distributions, from `key=sweep(...)` override strings."""
    distributions, _ = create_params_from_overrides(list(params))
    return {k: repr(d) for k, d in sorted(distributions.items())}


def evaluator_record(data_name: str) -> str | None:
    """SHA-256 of the data set's evaluator description: a retrained evaluator measures in another space."""
    from gvc.evaluation.config import evaluator_files

    _, meta = evaluator_files(data_name)
    return hashlib.sha256(meta.read_bytes()).hexdigest() if meta.is_file() else None


def study_name(config: Any, params: Sequence[str], directions: list[str]) -> str:
    """`gvc_MODEL_DATA_HASH`: trials share a study only where their results are comparable."""
    task = run_identity.task_config(config)
    space = searched_keys(params)
    fixed = {k: v for k, v in run_identity.identity(task).items() if k not in space}
    key = {"fixed": fixed, "search_space": space, "directions": directions,
           "evaluator": evaluator_record(task["data"]["name"]) if task["eval"]["enabled"] else None}
    return f"gvc_{task['model']['name']}_{task['data']['name']}_{run_identity.fingerprint(key)}"



def orphaned(trial: optuna.trial.FrozenTrial) -> bool:
    """A RUNNING trial whose sweeper ran on this host and is gone (a trial asked elsewhere may still run)."""
    owner = trial.user_attrs.get(SWEEPER_ATTR) or {}
    return (trial.state == optuna.trial.TrialState.RUNNING and owner.get("host") == socket.gethostname()
            and not alive(int(owner.get("pid", -1))))


def finished(trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    """Trials with an outcome of their own (a closed orphan is accounted for by its re-run)."""
    rerun = {t.user_attrs.get(RERUN_ATTR) for t in trials}
    return [t for t in trials if t.state.is_finished() and t.number not in rerun]


def recover(study: optuna.Study) -> list[int]:
    """Close the trials a dead sweeper left RUNNING as failed and queue their parameters again; their numbers."""
    orphans = [t for t in study.get_trials(deepcopy=False) if orphaned(t)]
    for trial in orphans:
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(trial.params)  # asked first (FIFO); _configure_trials records which it re-runs
        log.warning("trial %d was left running by a sweeper that is gone: closed as failed; its parameters %s "
                    "run again as a new trial", trial.number, trial.params)
    return [t.number for t in orphans]


class StudySweeper(OptunaSweeperImpl):
    """hydra-optuna-sweeper's implementation with the guarantees in this module's docstring."""

    reruns: list[int] = []  # numbers of dead trials whose queued re-runs this invocation has yet to ask

    def sweep(self, arguments: list[str]) -> None:
        assert self.config is not None
        self._process_searchspace_config()
        params = [*self._parse_sweeper_params_config(), *arguments]
        directions = self._get_directions()
        if self.study_name is None:
            self.study_name = study_name(self.config, params, directions)
        if self.storage is None:
            folder = Path(str(self.config.hydra.sweep.dir)).absolute()
            folder.mkdir(parents=True, exist_ok=True)
            self.storage = f"sqlite:///{folder / STORAGE_FILE}"
        study = optuna.create_study(study_name=self.study_name, storage=self.storage, directions=directions,
                                    load_if_exists=True)
        earlier = study.get_trials(deepcopy=False)
        self.reruns = recover(study) if earlier else []
        done = len([t for t in finished(study.get_trials(deepcopy=False)) if t.number not in self.reruns])
        if OmegaConf.select(self.config, "trainer.resume", default=False):
            self.n_trials = max(0, self.n_trials - done)  # finish the study to n_trials
        if earlier:
            log.info("continuing Optuna study %s (%s): %d earlier trials, %d finished, %d re-run after a dead "
                     "sweeper; %d trials to go", self.study_name, self.storage, len(earlier), done, len(self.reruns),
                     self.n_trials)
        else:
            log.info("new Optuna study %s (%s): %d trials", self.study_name, self.storage, self.n_trials)
        super().sweep(arguments)

    def _configure_trials(self, trials, search_space_distributions, fixed_params):  # type: ignore[no-untyped-def]
        """Number the jobs (and so the trial folders) by study trial number; record who asked each trial."""
        numbers = [t.number for t in trials]
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            log.warning("trials %s of one batch are not consecutive (another sweeper shares the study): folders "
                        "are numbered from %d", numbers, numbers[0])
        self.job_idx = numbers[0]
        for trial in trials:
            trial.set_user_attr(SWEEPER_ATTR, {"host": socket.gethostname(), "pid": os.getpid()})
            if self.reruns:  # the queued re-runs come first
                trial.set_user_attr(RERUN_ATTR, self.reruns.pop(0))
        return super()._configure_trials(trials, search_space_distributions, fixed_params)
