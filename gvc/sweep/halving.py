"""Successive halving over compute: every candidate trains to the first rung's budget, the best 1/eta of them are
promoted by continuing their own runs to the next rung's budget (trainer.resume=true trainer.extend=true, in
their own folders), the others end `pruned`; the last rung's trials are the sweep's results.

`HalvingSweeper` is a Hydra sweeper (`hydra/sweeper=halving`; the plugin in hydra_plugins/gvc_halving_sweeper/).
Every decision is made here, in the sweeping process, from what the trials wrote to their run folders
(summary.json's objective), so it is the same on the basic, joblib and SLURM launchers: each rung is one batch
of the launcher, which returns when all of its trials have ended. No pruner runs inside a trial.

The decisions are kept in HALVING_FILE in the sweep's folder, written atomically before they are acted on:
the same command with trainer.resume=true after a crash (kill -9 of this process included) skips the rungs
already decided, marks their pruned trials again, re-runs the rung that was in flight (finished trials are
reported again, unfinished ones resume from their checkpoints) and so finishes the same sweep with the same
decisions. Each decided rung lists every trial's value there, for comparing rankings between rungs.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from omegaconf import DictConfig, OmegaConf

from gvc.errors import ConfigError
from gvc.facts import MAXIMIZE, MINIMIZE
from gvc.trial import run_identity, rundir, runlock
from gvc.trial.extend import BUDGET_KEYS

log = logging.getLogger(__name__)

HALVING_FILE = "halving.json"
JOURNAL_FORMAT = 1
PRUNED = "pruned"
# Keys the sweeper sets on each rung's trials itself; given on the command line or in params they would clash.
SET_PER_RUNG = ("trainer.resume", "trainer.extend")


@dataclass(frozen=True)
class Plan:
    """What a halving sweep is: its budget unit, rungs, reduction factor and candidates (override lists)."""

    budget: str
    rungs: list[float]
    eta: int
    candidates: list[list[str]]  # the searched overrides of each candidate (the sweep's grid), in trial order
    fixed: str  # fingerprint of the trials' shared config, the budget excepted
    shared: tuple[str, ...] = ()  # the command line's other overrides, given to every trial (not in the journal)
    sampling: dict[str, Any] | None = None  # with an Optuna sampler: its search space and n_trials (candidates asked)
    brackets: tuple[tuple[int, int], ...] = ()  # Hyperband: (first rung, candidates) of each bracket; () = one, all
    groups: tuple[tuple[str, int], ...] = ()  # group_by: (its values, candidates) of each group, halved on its own

    def overrides(self, n: int, *per_rung: str) -> list[str]:
        return [*self.shared, *self.candidates[n], *per_rung]

    def kept(self, n: int) -> int:
        """How many of n trials that reached a rung go on to the next: the best 1/eta, at least one."""
        return max(1, n // self.eta)

    def as_record(self) -> dict[str, Any]:
        record = {"budget": self.budget, "rungs": self.rungs, "eta": self.eta, "candidates": self.candidates,
                  "fixed": self.fixed, "sampling": self.sampling, "brackets": [list(b) for b in self.brackets]}
        if self.groups:  # absent without group_by, so journals written before it still match
            record["groups"] = [list(g) for g in self.groups]
        return record

    def layout(self) -> list[tuple[int, list[int]]]:
        """(first rung, candidate numbers) of each bracket; plain successive halving is one bracket of all, a
        grouped one a bracket per group (each from the first rung)."""
        if not self.brackets and not self.groups:
            return [(0, list(range(len(self.candidates))))]
        out, first = [], 0
        for rung, n in self.brackets or [(0, n) for _, n in self.groups]:
            out.append((rung, list(range(first, first + n))))
            first += n
        return out


def hyperband_brackets(rungs: int, eta: int, brackets: Any) -> tuple[tuple[int, int], ...]:
    """Hyperband's brackets (Li et al. 2018): bracket s = s_max, s_max - 1, ... starts ceil((s_max + 1) / (s + 1)
    * eta^s) candidates at rung s_max - s, so the later brackets try fewer candidates on larger budgets."""
    if not isinstance(brackets, int) or isinstance(brackets, bool) or not 1 <= brackets <= rungs:
        raise ConfigError(f"hydra.sweeper.brackets={brackets!r}: choose 1 (successive halving) up to the number of "
                          f"rungs ({rungs}, Hyperband's every bracket)")
    s_max = rungs - 1
    return tuple((s_max - s, math.ceil((s_max + 1) / (s + 1) * eta ** s))
                 for s in range(s_max, s_max - brackets, -1))



def grouped(candidates: list[list[str]], group_by: Sequence[str], varied: Sequence[str],
            ) -> tuple[list[list[str]], tuple[tuple[str, int], ...]]:
    """The candidates reordered so each value of the group_by keys is one contiguous run of trial numbers (in
    the grid's order otherwise), and (those values, how many candidates) per group."""
    unknown = [key for key in group_by if key not in varied]
    if unknown:
        raise ConfigError(f"hydra.sweeper.group_by={list(group_by)}: {', '.join(unknown)} is not searched (a,b,c in "
                          f"hydra.sweeper.params or on the command line); group by one of {list(varied)}")

    def label(candidate: list[str]) -> str:
        values = dict(o.split("=", 1) for o in candidate)
        return " ".join(f"{key}={values[key]}" for key in group_by)

    labels = list(dict.fromkeys(label(c) for c in candidates))
    ordered = sorted(candidates, key=lambda c: labels.index(label(c)))  # stable: grid order within a group
    groups = tuple((g, sum(label(c) == g for c in candidates)) for g in labels)
    return ordered, groups


def rungs_of(budget_min: float | None, budget_max: float | None, eta: Any, rungs: Sequence[Any] | None) -> list[float]:
    """The rungs' budgets: `rungs` as given, or min, min*eta, min*eta^2, ... up to max (max is the last rung)."""
    if not isinstance(eta, int) or isinstance(eta, bool) or eta < 2:
        raise ConfigError(f"hydra.sweeper.eta={eta!r}: the reduction factor must be a whole number of at least 2 "
                          "(3 keeps the best third at each rung)")
    if rungs is not None:
        values = list(rungs)
        if not values or any(not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0 for v in values):
            raise ConfigError(f"hydra.sweeper.rungs={values!r}: the rungs are positive budgets, e.g. [2,4,8]")
        if any(b <= a for a, b in zip(values, values[1:])):
            raise ConfigError(f"hydra.sweeper.rungs={values!r} are not increasing: each rung's budget must be larger "
                              "than the one before, e.g. [30,90,270]")
        return values
    if budget_min is None or budget_max is None:
        raise ConfigError("hydra.sweeper.min and hydra.sweeper.max (the first and last rung's budgets) are needed, "
                          "or hydra.sweeper.rungs=[...]")
    if not 0 < budget_min < budget_max:
        raise ConfigError(f"hydra.sweeper.min={budget_min!r}, max={budget_max!r}: the rungs are not increasing; "
                          "choose 0 < min < max, e.g. min=30 max=270")
    values, budget = [], budget_min
    while budget < budget_max:
        values.append(budget)
        budget = budget * eta
    return values + [budget_max]


def check_budget_key(budget: str, varied: Sequence[str]) -> None:
    if budget not in BUDGET_KEYS:
        raise ConfigError(f"hydra.sweeper.budget={budget!r} is not a budget unit the trials use; choose one of "
                          f"{list(BUDGET_KEYS)}")
    if budget in varied:
        raise ConfigError(f"{budget} is set by the halving sweeper at each rung (hydra.sweeper.rungs / min / max); "
                          f"remove it from the command line and hydra.sweeper.params")


def check_single_objective(direction: Any, varied: Sequence[str]) -> str:
    """The sweep's direction (auto, minimize or maximize); a multi-objective sweep is refused."""
    if OmegaConf.is_list(direction) or isinstance(direction, (list, tuple)):
        if len(direction) != 1:
            raise ConfigError(f"hydra.sweeper.direction={list(direction)}: successive halving ranks trials by one "
                              "objective; a multi-objective (Pareto) sweep cannot prune. Use +sweeps=optuna for it, "
                              "or give one direction")
        direction = direction[0]
    if direction not in ("auto", MINIMIZE, MAXIMIZE):
        raise ConfigError(f"hydra.sweeper.direction={direction!r}: choose auto (the objective's own), minimize or "
                          "maximize")
    for key in ("trainer.objective", "trainer.objective_direction"):
        if key in varied:
            raise ConfigError(f"{key} varies between the candidates: successive halving ranks all trials by one "
                              "objective. Fix it for the sweep (one value)")
    return str(direction)


def check_epochs_do_not_end_first(task: DictConfig, budget: str, last: float) -> None:
    """trainer.epochs would end every trial before the last rung's step or image count: refused before compute
    (a time budget's reach cannot be known ahead; a trial it stops early stops the sweep at that rung)."""
    from gvc import datasets

    epochs = task.trainer.epochs
    if epochs is None or budget not in ("trainer.max_steps", "trainer.max_images"):
        return
    d = task.data
    images = d.subset if d.subset is not None else datasets.get(d.name).n_images(train=True)
    reach = epochs * (-(-images // d.batch_size)) if budget == "trainer.max_steps" else epochs * images
    if reach < last:
        unit = "steps" if budget == "trainer.max_steps" else "images"
        raise ConfigError(f"trainer.epochs={epochs} ends the trials after at most {reach:,} {unit} ({images:,} images "
                          f"in batches of {d.batch_size}), before the last rung's {budget}={last}: the rungs would "
                          "not be trained. Set trainer.epochs=null (or large enough) for the sweep")


def fixed_fingerprint(config: DictConfig, varied: Sequence[str], budget: str) -> str:
    """What every trial of the sweep shares (its identity keys less the searched ones and the budget)."""
    task = run_identity.task_config(config)
    fixed = {k: v for k, v in run_identity.identity(task).items()
             if k != budget and not any(k == key or k.startswith(f"{key}.") for key in varied)}
    return run_identity.fingerprint(fixed)


# -- the journal -------------------------------------------------------------------------------------------
def read_journal(sweep_dir: Path) -> dict[str, Any] | None:
    path = Path(sweep_dir) / HALVING_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def write_journal(sweep_dir: Path, journal: Mapping[str, Any]) -> None:
    text = json.dumps(journal, indent=2, default=rundir.list_or_value)
    rundir.atomic_write_bytes(Path(sweep_dir) / HALVING_FILE, lambda f: f.write(text.encode()))


def open_journal(sweep_dir: Path, plan: Plan, direction: str) -> dict[str, Any]:
    """The sweep's journal: the earlier one if it is of this very sweep, a new one if there is none."""
    journal = read_journal(sweep_dir)
    if journal is None:
        return {"format": JOURNAL_FORMAT, **plan.as_record(), "direction": direction, "folders": {}, "decided": []}
    record = {**plan.as_record(), "direction": direction}
    earlier = {k: journal.get(k) for k in record}
    if earlier != json.loads(json.dumps(record)):
        differs = [k for k, v in record.items() if json.loads(json.dumps(v)) != earlier[k]]
        raise ConfigError(f"{Path(sweep_dir) / HALVING_FILE} is the journal of another halving sweep (it differs in "
                          f"{', '.join(differs)}); its decisions would not fit these trials. Choose a new "
                          "hydra.sweep.dir, or repeat the earlier sweep's command to finish it")
    return journal


# -- a rung's decision -------------------------------------------------------------------------------------
def trial_outcome(folder: Path) -> dict[str, Any]:
    """A trial's status, objective value and what stopped it, as its run folder says."""
    summary = rundir.read_summary(folder) or {}
    objective = summary.get("objective") or {}
    value = objective.get("value")
    return {"status": summary.get("status", "not started"), "objective": objective.get("name"),
            "direction": objective.get("direction"), "value": None if value is None else float(value),
            "stopped_by": summary.get("stopped_by")}


def decide(trials: Mapping[int, Mapping[str, Any]], direction: str, keep: int) -> tuple[list[int], list[int]]:
    """(promoted, pruned) trial numbers: the best `keep` completed trials by value go on; the other completed
    ones are pruned; failed ones are neither (they stay failed). Ties go to the lower trial number."""
    ranked = ranked_completed(trials, direction)
    return sorted(ranked[:keep]), sorted(ranked[keep:])


def ranked_completed(trials: Mapping[int, Mapping[str, Any]], direction: str) -> list[int]:
    sign = -1.0 if direction == MAXIMIZE else 1.0
    completed = [n for n, t in trials.items()
                 if t["status"] == "completed" and t["value"] is not None and math.isfinite(t["value"])]
    return sorted(completed, key=lambda n: (sign * trials[n]["value"], n))


def pruned_reason(rung: int, budget: str, value: float, rank: int, of: int) -> str:
    return f"pruned at rung {rung} (budget {budget}): value {value:.6g}, rank {rank} of {of}"


def mark_pruned(folder: Path, decision: Mapping[str, Any], number: int, budget_key: str) -> None:
    """Record in the trial's summary.json that it ends here: status `pruned`, the rung, its value and rank."""
    ranked = decision["ranked"]
    value = decision["trials"][str(number)]["value"]
    budget = f"{budget_key}={decision['budget']}"
    rank = ranked.index(number) + 1
    runlock.claim(folder)  # the trial has ended; nobody else may write its summary meanwhile
    try:
        summary = rundir.read_summary(folder)
        if summary is None or summary.get("status") != "completed":
            return
        trained_to = run_identity.identity(summary.get("config") or {}).get(budget_key)
        if trained_to != decision["budget"]:  # trained on by hand since (trainer.extend): the user's run now
            log.info("%s was trained on to %s=%s after it was pruned; left as it is", folder, budget_key, trained_to)
            return
        summary.update(status=PRUNED, reason=pruned_reason(decision["rung"], budget, value, rank, len(ranked)),
                       pruned={"rung": decision["rung"], "budget": {budget_key: decision["budget"]}, "value": value,
                               "rank": rank, "of": len(ranked)})
        rundir.write_summary(folder, summary)
    finally:
        runlock.release(folder)


def objective_direction_of(task: DictConfig) -> str:
    """The direction of the objective a trial of `task` will report (as gvc.trial.summary resolves it)."""
    from gvc.facts import FAMILIES
    from gvc.models import discover
    from gvc.trial.summary import objective_direction

    family = discover()[task.model.name].family
    name = task.trainer.objective
    if name == "auto":
        name = "fid" if task.eval.enabled else FAMILIES[family].default_objective
    return objective_direction(task, name, family)


def job_folder(job_return: Any, sweep_dir: Path) -> Path:
    """The run folder a launched job trained in (a SLURM trial lost outside gvc names it as its working_dir)."""
    working = Path(str(job_return.working_dir or "")).absolute()
    if sweep_dir.absolute() in working.parents:
        return working
    return Path(str(job_return.hydra_cfg.hydra.runtime.output_dir))


class HalvingSweeper:
    """Hydra's Sweeper interface (setup, sweep) for successive halving; see this module's docstring."""

    def __init__(self, budget: str, min: float | None = None, max: float | None = None,  # noqa: A002 - config keys
                 eta: int = 3, rungs: Sequence[float] | None = None, direction: Any = "auto",
                 params: Mapping[str, str] | None = None, sampler: Any = None, n_trials: int | None = None,
                 storage: str | None = None, study_name: str | None = None, brackets: int = 1,
                 group_by: Sequence[str] | None = None) -> None:
        self.brackets = brackets
        self.group_by = [] if group_by is None else [group_by] if isinstance(group_by, str) else list(group_by)
        self.budget, self.min, self.max, self.eta = budget, min, max, eta
        self.sampler, self.n_trials, self.storage, self.study_name = sampler, n_trials, storage, study_name
        self.rungs = None if rungs is None else list(rungs)
        self.direction = direction
        self.params = dict(params or {})
        self.config: DictConfig | None = None
        self.hydra_context: Any = None
        self.launcher: Any = None

    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(hydra_context=hydra_context,
                                                                 task_function=task_function, config=config)

    # -- planning (refusals before any compute) -----------------------------------------------------------
    def plan(self, arguments: list[str]) -> tuple[Plan, str]:
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser
        from hydra.errors import HydraException

        assert self.config is not None
        overrides = OverridesParser.create(config_loader=self.hydra_context.config_loader).parse_overrides(
            [*(f"{k}={v}" for k, v in self.params.items()), *arguments])
        searched = [o for o in overrides if o.is_sweep_override()]
        varied = [o.key_or_group for o in searched]
        check_budget_key(self.budget, [o.key_or_group for o in overrides])
        direction = check_single_objective(self.direction, varied)
        rungs = rungs_of(self.min, self.max, self.eta, self.rungs)
        shared = tuple(f"{o.get_key_element()}={o.get_value_element_as_str()}" for o in overrides
                       if not o.is_sweep_override() and o.key_or_group not in SET_PER_RUNG)
        sampling, brackets = None, ()
        if self.brackets != 1:
            brackets = hyperband_brackets(len(rungs), self.eta, self.brackets)
            if self.sampler is None:
                raise ConfigError(f"hydra.sweeper.brackets={self.brackets}: Hyperband's brackets each draw their own "
                                  "candidates; give hydra.sweeper.sampler (a grid is halved in one bracket)")
        if self.sampler is None:
            try:
                candidates = BasicSweeper.split_arguments(searched, None)[0] if searched else [[]]
            except HydraException as e:
                raise ConfigError(f"{e}: intervals and log scales need an Optuna sampler "
                                  "(hydra.sweeper.sampler, hydra.sweeper.n_trials); a grid takes a,b,c lists") from None
        else:
            sampling = self._sampling([o.input_line for o in searched], sum(n for _, n in brackets))
            candidates = []
        groups: tuple[tuple[str, int], ...] = ()
        if self.group_by:
            if self.sampler is not None or brackets:
                raise ConfigError("hydra.sweeper.group_by halves a grid per group; with a sampler or Hyperband's "
                                  "brackets, run one halving sweep per group instead")
            candidates, groups = grouped(candidates, self.group_by, varied)
        plan = Plan(self.budget, rungs, self.eta, candidates, fixed_fingerprint(self.config, varied, self.budget),
                    shared, sampling, brackets, groups)
        first = [*shared, *(candidates[0] if candidates else []), f"{self.budget}={rungs[0]}"]
        task = self._check_objective(first)
        check_epochs_do_not_end_first(task, self.budget, rungs[-1])
        if sampling is not None and direction == "auto":  # a study is created with its direction
            direction = objective_direction_of(task)
        return plan, direction

    def _sampling(self, space: list[str], hyperband: int) -> dict[str, Any]:
        from gvc.sweep.studies import searched_keys

        n = hyperband or self.n_trials  # Hyperband's brackets say how many candidates each draws
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"hydra.sweeper.n_trials={n!r}: with hydra.sweeper.sampler, say how many candidates "
                              "to draw (a whole number, e.g. 27)")
        if not space:
            raise ConfigError("hydra.sweeper.sampler is set but nothing is searched: give hydra.sweeper.params "
                              "(e.g. optimizer.lr: tag(log, interval(1e-5, 1e-3)))")
        return {"space": searched_keys(space), "lines": space, "n_trials": n,
                "sampler": type(self.sampler_object()).__name__}

    def sampler_object(self) -> Any:
        """The Optuna sampler (Hydra instantiates a nested _target_ node with the sweeper; a test may not)."""
        import optuna
        from hydra.utils import instantiate

        if not isinstance(self.sampler, optuna.samplers.BaseSampler):
            self.sampler = instantiate(self.sampler)
        return self.sampler

    def _check_objective(self, overrides: list[str]) -> DictConfig:
        """The objective must be one the trials report (a loss of the model, or a metric when evaluated)."""
        from gvc.config import _check_objective

        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        task = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
        _check_objective(task)
        return task

    # -- the sweep ---------------------------------------------------------------------------------------
    def sweep(self, arguments: list[str]) -> list[Any]:
        from gvc.errors import fail

        assert self.config is not None
        sweep_dir = Path(str(self.config.hydra.sweep.dir)).absolute()
        try:
            plan, direction = self.plan(arguments)
            journal = open_journal(sweep_dir, plan, direction)
        except ConfigError as e:
            fail(str(e))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        self.study = None
        if plan.sampling is not None:
            plan = self._asked(plan, journal, direction, sweep_dir)
        resumed = bool(OmegaConf.select(self.config, "trainer.resume", default=False))
        if journal["decided"]:
            log.info("continuing the halving sweep in %s: rungs %s decided", sweep_dir,
                     [d["rung"] for d in journal["decided"]])
        else:
            log.info("halving sweep: %d candidates in %d bracket(s), rungs %s=%s, eta %d", len(plan.candidates),
                     len(plan.layout()), plan.budget, plan.rungs, plan.eta)
        returns = []
        for bracket, (first, survivors) in enumerate(plan.layout()):
            decided = [d for d in journal["decided"] if d.get("bracket", 0) == bracket]
            if plan.groups:
                log.info("group %s: %d candidates", plan.groups[bracket][0], len(survivors))
            elif len(plan.layout()) > 1:
                log.info("bracket %d: %d candidates from rung %d", bracket, len(survivors), first)
            for decision in decided:  # rungs an earlier invocation decided: act on them again, never anew
                self._apply(sweep_dir, journal, decision)
                survivors = decision["promoted"]
            for rung in range(first + len(decided), len(plan.rungs)):
                results = self._launch(plan, journal, rung, survivors, resumed, fresh=rung == first)
                returns.append(results)
                trials = {n: trial_outcome(sweep_dir / journal["folders"][str(n)]) for n in survivors}
                decision = self._decision(plan, rung, trials, direction, last=rung == len(plan.rungs) - 1)
                decision["bracket"] = bracket
                if plan.groups:
                    decision["group"] = plan.groups[bracket][0]
                journal["decided"].append(decision)
                write_journal(sweep_dir, journal)  # before acting on it: a crash from here on repeats it
                self._apply(sweep_dir, journal, decision)
                survivors = decision["promoted"]
        rundir.write_multirun_index(sweep_dir)
        return returns

    def _launch(self, plan: Plan, journal: dict[str, Any], rung: int, survivors: list[int], resumed: bool,
                fresh: bool) -> Any:
        budget = plan.rungs[rung]
        setting = f"{plan.budget}={budget}"
        log.info("rung %d: %d trial(s) at %s", rung, len(survivors), setting)
        if fresh:  # new trials, in the folders the trial-folder resolver gives them (job number = trial)
            batch = [plan.overrides(n, setting, *(["trainer.resume=true"] if resumed else [])) for n in survivors]
            results = self.launcher.launch(batch, initial_job_idx=survivors[0])
            sweep_dir = Path(str(self.config.hydra.sweep.dir)).absolute()
            for n, result in zip(survivors, results):
                journal["folders"][str(n)] = job_folder(result, sweep_dir).name
            write_journal(sweep_dir, journal)
            return results
        # Promotion: each trial continues its own run, in its own folder, to the larger budget.
        batch = [plan.overrides(n, setting, "trainer.resume=true", "trainer.extend=true",
                                f"hydra.sweep.subdir={journal['folders'][str(n)]}") for n in survivors]
        return self.launcher.launch(batch, initial_job_idx=survivors[0])

    def _decision(self, plan: Plan, rung: int, trials: dict[int, dict[str, Any]], direction: str,
                  last: bool) -> dict[str, Any]:
        from gvc.errors import fail

        directions = {t["direction"] for t in trials.values() if t["status"] == "completed"}
        if direction == "auto":
            if len(directions) > 1:
                fail(f"the trials report objectives of different directions {sorted(directions)}; set "
                     "hydra.sweeper.direction=minimize or maximize")
            direction = directions.pop() if directions else MINIMIZE
        unit = plan.budget.split(".", 1)[1]
        stopped_early = {n: t["stopped_by"] for n, t in trials.items()
                         if t["status"] == "completed" and t["stopped_by"] not in (unit, None) and not last}
        if stopped_early:
            n, by = next(iter(stopped_early.items()))
            fail(f"trial {n} stopped at trainer.{by} before {plan.budget} reached {plan.rungs[rung]}, so it cannot "
                 f"be promoted by raising {plan.budget}: the trials do not use that budget unit. Set trainer.{by}=null "
                 f"(or large enough) for the sweep, or choose hydra.sweeper.budget=trainer.{by}")
        ranked = ranked_completed(trials, direction)
        promoted, pruned = ([], []) if last else decide(trials, direction, plan.kept(len(trials)))
        if last:
            promoted = sorted(trials)
        log.info("rung %d (%s=%s): ranked %s; promoted %s; pruned %s", rung, plan.budget, plan.rungs[rung],
                 [(n, trials[n]["value"]) for n in ranked], promoted if not last else "-", pruned)
        return {"rung": rung, "budget": plan.rungs[rung], "direction": direction,
                "trials": {str(n): {"status": t["status"], "value": t["value"]} for n, t in sorted(trials.items())},
                "ranked": ranked, "promoted": promoted, "pruned": pruned}

    def _asked(self, plan: Plan, journal: dict[str, Any], direction: str, sweep_dir: Path) -> Plan:
        """The sampler's candidates: asked once, journaled before they run, read back by a re-run."""
        from gvc.sweep import halving_study
        self.study = halving_study.open_study(self.config, plan.sampling["lines"], direction, sweep_dir,
                                              self.storage, self.study_name)
        self.study.sampler = self.sampler_object()
        if "asked" not in journal:
            numbers, candidates = halving_study.ask(self.study, plan.sampling["lines"], plan.sampling["n_trials"])
            journal["asked"] = {"study": self.study.study_name, "numbers": numbers, "candidates": candidates}
            write_journal(sweep_dir, journal)
            log.info("asked %d candidates of Optuna study %s (study trials %s)", len(numbers),
                     self.study.study_name, numbers)
        return replace(plan, candidates=journal["asked"]["candidates"])

    def _apply(self, sweep_dir: Path, journal: dict[str, Any], decision: Mapping[str, Any]) -> None:
        for n in decision["pruned"]:
            mark_pruned(sweep_dir / journal["folders"][str(n)], decision, n, journal["budget"])
        if getattr(self, "study", None) is not None:
            from gvc.sweep import halving_study
            halving_study.tell(self.study, journal["asked"]["numbers"], decision,
                               last=decision["rung"] == len(journal["rungs"]) - 1)
        rundir.write_multirun_index(sweep_dir)
