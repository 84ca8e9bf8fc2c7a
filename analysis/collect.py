"""Run directories -> one tidy table (one row per run), one long history table (one row per run-epoch) and one
long table of the evaluations along training (one row per run-point, from evals.csv).

Reads only the run-directory contract (gvc.trial.rundir); never imports training code, so runs made on another
machine or by an older gvc can be analysed here.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, ListConfig, OmegaConf

from gvc.config import non_hyperparameters
from gvc.trial import rundir

BOOKKEEPING = rundir.BOOKKEEPING
# The losses the paper's objectives log. Each run's summary.json names its objective's own (`loss.units`: e.g. a
# critic's wasserstein estimate and gp), which are training curves too; any other history column is an evaluated
# metric (e.g. fid on some epochs).
LOSS_COLUMNS = ("loss_d", "loss_g", "d_real", "d_fake", "loss", "bce", "kl", "test_loss", "test_bce", "test_kl")


def recorded_losses(runs: list["Run"]) -> set[str]:
    """Every loss name the runs' objectives declare (and its test_ column), beside the paper's LOSS_COLUMNS."""
    names = {n for r in runs for n in ((r.summary.get("loss") or {}).get("units") or {})}
    return set(LOSS_COLUMNS) | names | {f"test_{n}" for n in names}


@functools.cache
def not_hyperparameters() -> frozenset[str]:
    """Config keys that are no search's parameters (execution, measurement, identity), as their schema fields
    declare (gvc/knobs.py); keys the schema no longer has (older runs) count as parameters. On first use, not on
    import: the models' knobs are declared beside their nn.Modules, so reading them imports torch."""
    return non_hyperparameters()


# Keys a family's training never reads (GANs are not evaluated on test images): not swept for that family.
UNUSED_BY_FAMILY = {"gan": frozenset({"data.test_subset"})}
FLOOR_PREFIX = "floor_"  # the metric between real images: what a perfect model would reach
NOISE_PREFIX = "noise_"  # the metric for uniform-noise images: what a model that learned nothing reaches
REFERENCE_PREFIXES = (FLOOR_PREFIX, NOISE_PREFIX)
SKIP_DIRS = frozenset({rundir.SAMPLES, "checkpoints", "__pycache__", rundir.MLFLOW_ARTIFACTS})


class NoRunsError(RuntimeError):
    """None of the given paths holds a run directory."""


def to_float(value: Any) -> float:
    """summary.json numbers, including the strings "nan"/"inf" it uses for non-finite floats; else NaN."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def _resolve(node: Any) -> Any:
    """A plain container from an OmegaConf node, resolving what resolves and keeping the rest as raw text.

    Hydra saves config.yaml unresolved (e.g. `lr: ${model.paper.lr}`); custom resolvers of the training
    process may be unknown here, so one unresolvable value must not lose the whole config.
    """
    if isinstance(node, DictConfig):
        raw = OmegaConf.to_container(node, resolve=False)
        out = {}
        for key in node.keys():
            try:
                value = node[key]
            except Exception:  # noqa: BLE001 - an interpolation this process cannot resolve
                value = raw[key]
            out[str(key)] = _resolve(value)
        return out
    if isinstance(node, ListConfig):
        raw = OmegaConf.to_container(node, resolve=False)
        out_list = []
        for i in range(len(node)):
            try:
                value = node[i]
            except Exception:  # noqa: BLE001
                value = raw[i]
            out_list.append(_resolve(value))
        return out_list
    return node


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists become compact text so that table cells stay hashable."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            flat[name] = "[" + ", ".join(str(v) for v in value) + "]"
        else:
            flat[name] = value
    return flat


@dataclass
class Run:
    """Everything read from one run directory."""

    path: Path
    name: str
    model: str
    family: str
    status: str
    reason: str
    config: dict[str, Any]
    overrides: list[str]
    summary: dict[str, Any]
    history: pd.DataFrame
    sweep: str = ""
    job: int | None = None
    evals: pd.DataFrame = field(default_factory=pd.DataFrame)  # evals.csv (eval.along); empty for runs without

    @property
    def checkpoint(self) -> Path | None:
        path = self.path / rundir.CHECKPOINT
        return path if path.is_file() else None

    @property
    def sample_grids(self) -> dict[int, Path]:
        return rundir.sample_grids(self.path)


@dataclass
class Collection:
    """All runs, as records and as tidy tables, plus which columns are metrics, losses, floors, parameters."""

    runs: list[Run]
    table: pd.DataFrame  # one row per run
    history: pd.DataFrame  # one row per (run, epoch)
    inputs: list[Path]
    metric_names: list[str] = field(default_factory=list)  # from summary.metrics, floor and noise excluded
    loss_names: list[str] = field(default_factory=list)  # from summary.final, not also a metric
    floor_names: list[str] = field(default_factory=list)
    noise_names: list[str] = field(default_factory=list)  # noise_<metric>; absent in runs made before gvc had it
    param_names: list[str] = field(default_factory=list)  # flattened config keys
    history_metric_names: list[str] = field(default_factory=list)  # per-epoch evaluated metrics
    # Completed runs set aside as copies of a kept run (same identity, same seed): one row each (DUPLICATE_COLUMNS)
    duplicates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DUPLICATE_COLUMNS))
    # One row per (run, evaluation along training): run, model, family, then evals.csv's columns (analysis/curves.py)
    evals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["run", "model", "family"]))

    def run(self, name: str) -> Run:
        return next(r for r in self.runs if r.name == name)


# -- discovery -----------------------------------------------------------------------------------------------
def find_run_dirs(path: Path) -> list[Path]:
    """`path` itself if it is a run directory, else every run directory below it (not descending into runs)."""
    path = Path(path)
    if rundir.is_run_dir(path):
        return [path]
    found = []
    for root, dirs, _ in os.walk(path):
        root_path = Path(root)
        if root_path != path and rundir.is_run_dir(root_path):
            found.append(root_path)
            dirs[:] = []  # a run does not contain runs; its samples/ and checkpoints/ need no walk
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
    return sorted(found, key=_natural_key)


def _natural_key(path: Path) -> list[Any]:
    # "10_dcgan" after "9_dcgan": numbered Hydra job directories sort by job number.
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def sweep_of(run_dir: Path, root: Path) -> Path:
    """The sweep folder a trial's run directory belongs to: the nearest folder above it that Hydra's sweep wrote
    (multirun.yaml) or gvc indexed (index.csv), else its parent; a run lying directly in `root` is its own."""
    for folder in run_dir.parents:
        if folder == root or root not in folder.parents:
            break
        if (folder / "multirun.yaml").is_file() or (folder / rundir.INDEX).is_file():
            return folder
    return run_dir.parent if run_dir.parent != root else run_dir


def latest_multirun(root: Path, finished_only: bool = False) -> Path | None:
    """The newest sweep under `root` (./multirun) at any depth (`DATE/TIME`, `demo_STAMP`, any hydra.sweep.dir), by
    its runs' own recorded start (summary.json's started_at), not by folder names; names break ties only.
    With finished_only, only sweeps holding a run with a summary count."""
    if not root.is_dir():
        return None
    started: dict[Path, str] = {}
    for run_dir in find_run_dirs(root):
        summary = _read_summary(run_dir)[0]
        if summary is None and finished_only:
            continue
        sweep = sweep_of(run_dir, root)
        started[sweep] = max(started.get(sweep, ""), str((summary or {}).get("started_at") or ""))
    if not started:
        return None
    return max(started, key=lambda sweep: (started[sweep], _natural_key(sweep)))


def newest_run_per_model(root: Path) -> list[Path]:
    """For `outputs/`: the most recently started run of each model, so that the default report compares models."""
    newest: dict[str, tuple[str, Path]] = {}
    for run_dir in find_run_dirs(root) if root.is_dir() else []:
        summary = _read_summary(run_dir)[0] or {}
        model = summary.get("model") or run_dir.parent.name
        started = str(summary.get("started_at") or run_dir.name)
        if model not in newest or started > newest[model][0]:
            newest[model] = (started, run_dir)
    return sorted((p for _, p in newest.values()), key=_natural_key)


def default_inputs(cwd: Path | None = None) -> list[Path]:
    """No paths given: the latest multirun under ./multirun, else the newest run of each model under ./outputs."""
    cwd = Path(cwd or Path.cwd())
    multirun = latest_multirun(cwd / "multirun")
    if multirun is not None:
        return [multirun]
    runs = newest_run_per_model(cwd / "outputs")
    if runs:
        return runs
    raise NoRunsError(f"no runs found: neither {cwd / 'multirun'} nor {cwd / 'outputs'} holds a run directory; "
                      "pass run or multirun directories as arguments")


# -- reading one run -----------------------------------------------------------------------------------------
def _read_summary(run_dir: Path) -> tuple[dict[str, Any] | None, str]:
    try:
        summary = rundir.read_summary(run_dir)
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as e:
        return None, f"{rundir.SUMMARY} is unreadable ({type(e).__name__}: {e})"
    if summary is not None and not isinstance(summary, dict):
        return None, f"{rundir.SUMMARY} does not hold a JSON object"
    return summary, ""


def _read_config(run_dir: Path, summary: dict[str, Any] | None) -> dict[str, Any]:
    """Hydra's .hydra/config.yaml, else the resolved config summary.json records (runs trained in-process,
    through `gvc.trial.task.run`, have no .hydra/)."""
    path = run_dir / rundir.HYDRA_CONFIG
    if path.is_file():
        try:
            config = _resolve(OmegaConf.load(path))
            return config if isinstance(config, dict) else {}
        except Exception:  # noqa: BLE001 - a damaged config.yaml leaves the config columns blank
            return {}
    recorded = (summary or {}).get("config")
    return recorded if isinstance(recorded, dict) else {}


def _read_overrides(run_dir: Path, summary: dict[str, Any]) -> list[str]:
    path = run_dir / rundir.HYDRA_OVERRIDES
    if path.is_file():
        try:
            return [str(o) for o in OmegaConf.load(path)]
        except Exception:  # noqa: BLE001
            pass
    return [str(o) for o in summary.get("overrides") or []]


def _read_history(run_dir: Path) -> pd.DataFrame:
    try:
        rows = rundir.read_history(run_dir)
    except (OSError, ValueError, csv.Error):
        rows = []  # a history being written by a live run, or damaged: the run is listed without curves
    return pd.DataFrame(rows, dtype=float)


def _read_evals(run_dir: Path) -> pd.DataFrame:
    try:
        rows = rundir.read_evals(run_dir)
    except (OSError, ValueError, csv.Error):
        rows = []  # damaged: the run is listed without its curve
    return pd.DataFrame(rows, dtype=float)


def _read_index(sweep_dir: Path) -> dict[str, dict[str, str]]:
    """The sweep's index.csv (when the sweep wrote one), by run directory name."""
    path = sweep_dir / "index.csv"
    if not path.is_file():
        return {}
    try:
        with open(path, newline="") as f:
            return {Path(row.get("run_dir") or "").name: row for row in csv.DictReader(f) if row.get("run_dir")}
    except (OSError, csv.Error):
        return {}


def _family(model: str) -> str:
    try:
        from gvc.models import MODELS

        return MODELS[model].family
    except (ImportError, KeyError):
        return "unknown"


def read_run(run_dir: Path, name: str, index: dict[str, dict[str, str]] | None = None, metrics: str = "training") -> Run:
    run_dir = Path(run_dir)
    summary, problem = _read_summary(run_dir)
    config = _read_config(run_dir, summary)
    if metrics == "latest" and summary is not None:  # the newest `python -m gvc.evaluate` instead of training's
        summary, config = rundir.with_latest_evaluation(summary, config, run_dir)
    history = _read_history(run_dir)
    if summary is None:
        row = (index or {}).get(run_dir.name, {})
        status = row.get("status") or "unknown"
        reason = problem or (f"no {rundir.SUMMARY}: the job stopped before training started, or has not started")
        summary = {}
    else:
        status = str(summary.get("status") or "unknown")
        reason = str(summary.get("reason") or "")
    model = str(summary.get("model") or config.get("model", {}).get("name") or "unknown")
    family = str(summary.get("family") or _family(model))
    if status == "running":
        reason = reason or "unfinished: still running, or stopped without recording why"
    sweep = run_dir.parent
    is_sweep = (sweep / "multirun.yaml").is_file() or (sweep / "index.csv").is_file()
    match = re.match(r"^(\d+)_", run_dir.name)
    return Run(
        path=run_dir, name=name, model=model, family=family, status=status, reason=reason, config=config,
        overrides=_read_overrides(run_dir, summary), summary=summary, history=history,
        sweep=str(sweep) if is_sweep else "", job=int(match.group(1)) if (is_sweep and match) else None,
        evals=_read_evals(run_dir),
    )


def _run_names(run_dirs: list[Path]) -> list[str]:
    """Short unique names: each run's path relative to what all runs share."""
    if len(run_dirs) == 1:
        return [run_dirs[0].name]
    common = Path(os.path.commonpath([str(p) for p in run_dirs]))
    return [p.relative_to(common).as_posix() for p in run_dirs]


# -- the tables ----------------------------------------------------------------------------------------------
def _last(history: pd.DataFrame, column: str) -> float:
    return float(history[column].iloc[-1]) if column in history.columns and len(history) else math.nan


def _sum(history: pd.DataFrame, column: str) -> float:
    return float(history[column].sum()) if column in history.columns and len(history) else math.nan


def objective_label(loss: dict[str, Any]) -> str:
    """'ns', 'elbo beta=4', 'elbo likelihood=continuous_bernoulli': the objective and the knobs in which it
    departs from that objective's defaults; '' for a run of an older gvc (no `loss` in summary.json)."""
    name = loss.get("name")
    if not name:
        return ""
    try:
        import dataclasses

        from gvc.training.losses import get

        defaults = dataclasses.asdict(get(str(name)).Config())
    except (ImportError, ValueError):
        defaults = {}
    knobs = [f"{k}={v}" for k, v in loss.items() if k not in ("name", "units") and k in defaults and defaults[k] != v]
    return " ".join([str(name), *knobs])


def epochs_trained(run: Run) -> float:
    """Epochs of training data seen, counting a last epoch that a budget cut short by its share of a full epoch.

    The size of a full epoch is read from summary.json (`epoch_images`), the history (a row not marked partial) or
    data.subset; if none
    tells it (a run that never finished its first epoch on the full set), NaN: the run's row then says its last
    epoch was partial. Histories written before gvc marked partial epochs count every epoch as full.
    """
    h = run.history
    if "images" not in h.columns or h.empty:
        return math.nan
    partial = h["partial"].fillna(0).astype(bool) if "partial" in h.columns else pd.Series(False, index=h.index)
    full = h.loc[~partial, "images"]
    size = to_float(run.summary.get("epoch_images"))
    if not size > 0:
        size = float(full.iloc[0]) if len(full) else to_float((run.config.get("data") or {}).get("subset"))
    if not partial.any():
        return float(len(h))
    return float(len(full)) + float(h.loc[partial, "images"].sum()) / size if size > 0 else math.nan


def _row(run: Run) -> dict[str, Any]:
    s = run.summary
    objective = s.get("objective") or {}
    row: dict[str, Any] = {
        "run": run.name, "model": run.model, "family": run.family, "status": run.status, "reason": run.reason,
        "seed": to_float(s.get("seed", run.config.get("trainer", {}).get("seed"))),
        "sweep": run.sweep, "job": run.job, "overrides": " ".join(run.overrides),
        "objective_name": objective.get("name") or "", "objective_direction": objective.get("direction") or "",
        "objective": to_float(objective.get("value")),
        # An unfinished run's summary has no epoch count yet; its history says how far it got.
        "epochs": to_float(s.get("epochs", _last(run.history, "epoch"))),
        "steps": to_float(s.get("steps", _last(run.history, "step"))),
        "train_time_s": to_float(s.get("train_time_s")), "wall_time_s": to_float(s.get("wall_time_s")),
        "train_cpu_s": to_float(s.get("train_cpu_s")),  # far below train_time_s x threads: other load took the CPU
        "images_per_s": to_float(s.get("images_per_s")), "device": s.get("device") or "",
        # Which budget ended the run (epochs, max_steps, max_images, time_budget_s); older gvc did not record it.
        "stopped_by": s.get("stopped_by") or "",
        "images_seen": to_float(s.get("images", _sum(run.history, "images"))),
        "epochs_trained": epochs_trained(run),
        # 1 if a budget cut the last epoch short (history's `partial`), 0 if not, NaN where the history predates it
        "last_epoch_partial": _last(run.history, "partial"),
        # The numeric path training took (trainer.precision=auto chooses one); older gvc: the config's value.
        "precision_used": (s.get("numerics") or {}).get("precision") or "",
        # The objective trained (auto resolved) and its decoder likelihood; older gvc did not record them.
        "loss_name": (s.get("loss") or {}).get("name") or "",
        "objective_label": objective_label(s.get("loss") or {}),
        "likelihood": (s.get("loss") or {}).get("likelihood") or "",
        "started_at": s.get("started_at") or "", "finished_at": s.get("finished_at") or "",
        # metrics="latest": the re-evaluation (RUN/evaluations/FILE) the metrics come from; blank: training's
        "evaluation": s.get("evaluation") or "",
    }
    along = s.get("along") or {}  # evaluations along training: the schedule's unit and the best point (cheap N)
    row["along_unit"] = along.get("unit") or ""
    row["along_n_samples"] = to_float(along.get("n_samples"))
    row["along_budget"] = to_float(along.get("budget"))
    row["best_objective"] = to_float((along.get("best") or {}).get("value"))
    row["best_step"] = to_float((along.get("best") or {}).get("step"))
    for part, count in (s.get("params") or {}).items():
        row[f"params.{part}"] = to_float(count)
    # Final losses and metrics share one namespace, metrics taking precedence (as the objective does in gvc.trial.task).
    for name, value in {**(s.get("final") or {}), **(s.get("metrics") or {})}.items():
        row[name] = to_float(value)
    row.update(flatten(run.config))
    row["run_dir"] = str(run.path)
    row["checkpoint"] = str(run.checkpoint or "")
    grids = run.sample_grids
    row["sample_epochs"] = len(grids)
    row["final_samples"] = str(grids[max(grids)]) if grids else ""
    return row


def collect(paths: list[Path] | list[str], metrics: str = "training") -> Collection:
    """Every run under `paths` (run directories or directories holding them) as one Collection.

    metrics="latest" takes each run's metrics from its newest re-evaluation (RUN/evaluations/), where it has one."""
    inputs = [Path(p).expanduser().resolve() for p in paths]
    missing = [p for p in inputs if not p.exists()]
    if missing:
        raise NoRunsError(f"no such file or directory: {', '.join(map(str, missing))}")
    run_dirs: list[Path] = []
    for path in inputs:
        for run_dir in find_run_dirs(path):
            if run_dir not in run_dirs:
                run_dirs.append(run_dir)
    if not run_dirs:
        raise NoRunsError(f"no run directories (with {rundir.SUMMARY} or {rundir.HYDRA_CONFIG}) under "
                          f"{', '.join(map(str, inputs))}")
    indexes: dict[Path, dict[str, dict[str, str]]] = {}
    runs = []
    for run_dir, name in zip(run_dirs, _run_names(run_dirs)):
        if run_dir.parent not in indexes:
            indexes[run_dir.parent] = _read_index(run_dir.parent)
        runs.append(read_run(run_dir, name, indexes[run_dir.parent], metrics))
    runs, duplicates = set_aside_duplicates(runs)
    return _tabulate(runs, inputs, duplicates)


# -- one run, counted once -----------------------------------------------------------------------------------
DUPLICATE_COLUMNS = ["run", "model", "seed", "duplicate_of", "same_metrics", "run_dir", "kept_dir"]


def _seed_of(run: Run) -> float:
    return to_float(run.summary.get("seed", (run.config.get("trainer") or {}).get("seed")))


def _same_run(a: Run, b: Run) -> bool:
    """Same model, same seed and no identity key apart (gvc.trial.run_identity: the schema's `result=False` fields,
    loggers and Hydra's node do not count): one run recorded twice, not two seeds."""
    from gvc.trial.run_identity import config_differences

    return (a.model == b.model and _seed_of(a) == _seed_of(b) and bool(a.config) and bool(b.config)
            and not config_differences(a.config, b.config))


def set_aside_duplicates(runs: list[Run]) -> tuple[list[Run], pd.DataFrame]:
    """The runs with every completed copy of an earlier completed run (same identity, same seed: a copied sweep,
    a rerun that differed only in threads or data.root) set aside, and one row per copy naming the run it
    repeats. gvc is deterministic, so a copy is no new seed; counting it would shrink every spread.
    The earliest started (then first found) copy is kept; runs that did not complete are never set aside."""
    kept: dict[tuple[str, str], list[Run]] = {}  # by (model, seed): only those can be copies of each other
    rows = []
    order = sorted(range(len(runs)), key=lambda i: (str(runs[i].summary.get("started_at") or "~"), i))
    keep = set(range(len(runs)))
    for i in order:
        run = runs[i]
        if run.status != "completed":
            continue
        bucket = kept.setdefault((run.model, repr(_seed_of(run))), [])
        original = next((k for k in bucket if _same_run(k, run)), None)
        if original is None:
            bucket.append(run)
            continue
        keep.discard(i)
        same = (original.summary.get("metrics") or {}) == (run.summary.get("metrics") or {})
        rows.append({"run": run.name, "model": run.model, "seed": _seed_of(run),
                     "duplicate_of": original.name, "same_metrics": "yes" if same else "no",
                     "run_dir": str(run.path), "kept_dir": str(original.path)})
    return [r for i, r in enumerate(runs) if i in keep], pd.DataFrame(rows, columns=DUPLICATE_COLUMNS)


def subset(collection: Collection, names: Any) -> Collection:
    """The collection of only the named runs (tables recomputed; the duplicates of those runs kept with them)."""
    keep = set(names)
    return _tabulate([r for r in collection.runs if r.name in keep], collection.inputs, collection.duplicates)


def _tabulate(runs: list[Run], inputs: list[Path], duplicates: pd.DataFrame | None = None) -> Collection:
    table = pd.DataFrame([_row(r) for r in runs])
    metric_names: list[str] = []
    loss_names: list[str] = []
    for r in runs:
        for name in r.summary.get("metrics") or {}:
            if name not in metric_names:
                metric_names.append(name)
        for name in r.summary.get("final") or {}:
            if name not in loss_names:
                loss_names.append(name)
    floors = [m for m in metric_names if m.startswith(FLOOR_PREFIX)]
    noises = [m for m in metric_names if m.startswith(NOISE_PREFIX)]
    metric_names = [m for m in metric_names if not m.startswith(REFERENCE_PREFIXES)]
    loss_names = [n for n in loss_names if n not in metric_names and not n.startswith(REFERENCE_PREFIXES)]
    params = sorted({k for r in runs for k in flatten(r.config)})
    histories = []
    for r in runs:
        if not r.history.empty:
            h = r.history.copy()
            h.insert(0, "run", r.name)
            h.insert(1, "model", r.model)
            h.insert(2, "family", r.family)
            histories.append(h)
    history = pd.concat(histories, ignore_index=True) if histories else pd.DataFrame(columns=["run", "model", "family"])
    evals = [r.evals.assign(run=r.name, model=r.model, family=r.family) for r in runs if not r.evals.empty]
    evals_table = (pd.concat(evals, ignore_index=True) if evals else pd.DataFrame(columns=["run", "model", "family"]))
    losses = recorded_losses(runs)
    history_metrics = [c for c in history.columns if c not in ("run", "model", "family", *BOOKKEEPING) and c not in losses]
    names = {r.name for r in runs}
    duplicates = duplicates if duplicates is not None else pd.DataFrame(columns=DUPLICATE_COLUMNS)
    return Collection(runs=runs, table=table, history=history, inputs=inputs, metric_names=metric_names,
                      loss_names=loss_names, floor_names=floors, noise_names=noises, param_names=params,
                      history_metric_names=history_metrics, evals=evals_table,
                      duplicates=duplicates[duplicates["duplicate_of"].isin(names)].reset_index(drop=True))


def swept_parameters(collection: Collection, model: str) -> list[str]:
    """Hyperparameters that take more than one value across the runs of `model` (seed last)."""
    rows = collection.table[collection.table["model"] == model]
    unused = UNUSED_BY_FAMILY.get(str(rows["family"].iloc[0]) if len(rows) else "", frozenset())
    varying, not_swept = [], not_hyperparameters()
    for name in collection.param_names:
        # logger.* keys say where a run was watched (TensorBoard, MLflow), never what it learned
        if name in not_swept or name.startswith("logger.") or name in unused or name not in rows:
            continue
        if rows[name].map(_cell_key).nunique(dropna=False) > 1:
            varying.append(name)
    seed = [p for p in varying if p == "trainer.seed"]
    return [p for p in varying if p != "trainer.seed"] + seed


def _cell_key(value: Any) -> str:
    # NaN, None and "null" are one value (the config's null); numbers compare by value, not by spelling.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    return repr(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
