"""Candidates of a halving sweep drawn by an Optuna sampler, and the study told what halving decided.

`hydra.sweeper.sampler` (an Optuna sampler node, e.g. `_target_: optuna.samplers.TPESampler`) with
`hydra.sweeper.n_trials` asks that many trials of a study (in the sweep's folder, named by gvc.sweep.studies.study_name)
over `hydra.sweeper.params` written as for the Optuna sweeper (`tag(log, interval(1e-5, 1e-3))`, `choice(...)`).
The asked trials are the rung-0 candidates; the journal keeps their study numbers. After each rung every trial
reports its value there as the intermediate value of step = the rung's number; a pruned trial is told PRUNED
(Optuna records its last intermediate value), a failed one FAIL, the last rung's COMPLETE with its value.
Only the sweeping process opens the study: no pruner runs anywhere (optuna 2.10's pruners are per-process).
All candidates are asked at once, so the sampler learns from earlier studies' completed trials, not this one's.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from pathlib import Path
from typing import Any, Mapping

import optuna
from optuna.trial import TrialState

from gvc.sweep import studies
log = logging.getLogger(__name__)


def open_study(config: Any, params: list[str], direction: str, sweep_dir: Path, storage: str | None,
               name: str | None) -> optuna.Study:
    """The sweep's study (created or continued); trials a dead sweeper left RUNNING are closed as failed."""
    storage = storage or f"sqlite:///{Path(sweep_dir).absolute() / studies.STORAGE_FILE}"
    name = name or studies.study_name(config, params, [direction])
    study = optuna.create_study(study_name=name, storage=storage, direction=direction, load_if_exists=True)
    for trial in study.get_trials(deepcopy=False):
        if studies.orphaned(trial):
            study.tell(trial.number, state=TrialState.FAIL)
            log.warning("study trial %d was asked by a sweeper that is gone before it was journaled: closed as "
                        "failed", trial.number)
    return study


def ask(study: optuna.Study, params: list[str], n: int) -> tuple[list[int], list[list[str]]]:
    """Ask n trials over the search space of `params`: their numbers and their overrides."""
    from hydra_plugins.hydra_optuna_sweeper._impl import create_params_from_overrides

    distributions, fixed = create_params_from_overrides(params)
    numbers, candidates = [], []
    for _ in range(n):
        trial = study.ask(distributions)
        trial.set_user_attr(studies.SWEEPER_ATTR, {"host": socket.gethostname(), "pid": os.getpid()})
        numbers.append(trial.number)
        candidates.append([f"{k}={v}" for k, v in {**trial.params, **fixed}.items()])
    return numbers, candidates


def tell(study: optuna.Study, numbers: list[int], decision: Mapping[str, Any], last: bool) -> None:
    """Report a rung's values and close the trials that end there (idempotent: a re-run after a crash)."""
    rung = int(decision["rung"])
    trials = study.get_trials(deepcopy=False)
    by_number = {t.number: t for t in trials}
    for n, outcome in decision["trials"].items():
        frozen = by_number[numbers[int(n)]]
        if frozen.state.is_finished():
            continue
        value = outcome["value"]
        if outcome["status"] != "completed" or value is None or not math.isfinite(value):
            study.tell(frozen.number, state=TrialState.FAIL)
            continue
        if rung not in frozen.intermediate_values:
            study._storage.set_trial_intermediate_value(frozen._trial_id, rung, value)
        if last:
            study.tell(frozen.number, value)
        elif int(n) in decision["pruned"]:
            study.tell(frozen.number, state=TrialState.PRUNED)
