"""The run-directory contract: the one place that knows the file names a run writes and analysis reads.

    RUN/
      .hydra/config.yaml      the composed config (Hydra's own; overrides.yaml beside it)
      history.csv             one row per epoch: BOOKKEEPING columns, then every loss (and metric)
      summary.json            model, params, status, final losses, metrics, timings, device, versions
      samples/epoch_0005.png  5x5 grids from the run's 25 fixed latent vectors (what analysis reads)
      samples/view/epoch_0005.png  the same grid enlarged (nearest neighbour) for looking at
      steps.csv               the loss means over every trainer.log_every steps (and each epoch's last steps)
      losses.png              the loss curves
      checkpoints/last.pt     everything needed to continue or to sample (weights_only-loadable)
      tensorboard/            TensorBoard event files (logger=tensorboard)
      loggers.json            what a resumed run needs to continue its loggers' records (the MLflow run id)
      evaluations/*.json      re-evaluations of the checkpoint (`python -m gvc.evaluate`), never over summary.json
      evals.csv               evaluations along training (eval.along): one row per point, the end's two rows
      checkpoints/best.pt     the weights of the best evaluation along training (by the run's objective)

Reading functions never import training code, so analysis can read runs made elsewhere.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

HISTORY = "history.csv"
STEPS = "steps.csv"  # the step-level table beside history.csv: a curve even for a budget shorter than an epoch
SUMMARY = "summary.json"
SAMPLES = "samples"
LOSS_PLOT = "losses.png"
CHECKPOINT = Path("checkpoints") / "last.pt"
LOGGER_STATE = "loggers.json"
# logger=mlflow's local artifact store, beside its mlflow.db (a multirun folder, outputs/MODEL/): it holds copies
# of runs' files (summary.json, samples), which are not runs.
MLFLOW_ARTIFACTS = "mlartifacts"
HYDRA_CONFIG = Path(".hydra") / "config.yaml"
# history.csv's columns that describe the epoch rather than measure the model. `partial` is 1 for an epoch a
# budget cut short (trainer.max_steps, max_images or time_budget_s).
BOOKKEEPING = ("epoch", "step", "elapsed_s", "images", "partial")
HYDRA_OVERRIDES = Path(".hydra") / "overrides.yaml"

# `interrupted`: a signal (Ctrl-C, SIGTERM, SLURM's pre-emption) ended it after a checkpoint; it can be resumed.
# `stopped`: a hook ended it (Hook.request_stop; `reason` names the hook and why), after a checkpoint.
# `pruned`: a successive-halving sweep took it no further (gvc.sweep.halving; `reason` names the rung and its value).
STATUSES = ("running", "completed", "failed", "diverged", "interrupted", "stopped", "pruned")
TRAINED = ("completed", "pruned")  # trained to its budget (pruned: a halving sweep took it no further)
SAMPLE_VIEW = Path(SAMPLES) / "view"
SAMPLE_VIEW_MIN_PX = 600  # the viewing copy of a grid is enlarged by a whole factor to at least this width
TEMPORARY_SUFFIX = ".tmp"


class WriteError(OSError):
    """A run-directory file could not be written (full disk, no permission); the previous file is intact."""

    def __init__(self, path: Path, error: OSError):
        super().__init__(error.errno, f"could not write {path}: {error.strerror or error}")
        self.path = path


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it; restored at once
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, write) -> None:
    """Write through a temporary file in the same directory, then rename: readers never see half a file.

    The file gets the permissions any file the user creates gets (0666 less the umask), not mkstemp's 0600.
    An OSError (full disk, read-only or vanished folder) becomes a WriteError naming `path`; the previous
    file of that name is untouched and no temporary file is left.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and not isinstance(e, WriteError):
            raise WriteError(path, e) from e
        raise


def remove_stale_temporaries(run_dir: Path) -> None:
    """Delete the temporary files of writes a killed process never finished (`.NAME.XXXX.tmp`)."""
    for folder in (Path(run_dir), Path(run_dir) / CHECKPOINT.parent):
        for tmp in folder.glob(f".*{TEMPORARY_SUFFIX}"):
            tmp.unlink(missing_ok=True)


def _json_safe(value: Any) -> Any:
    # JSON has no NaN/inf; write them as strings so the file stays valid JSON for any reader.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    text = json.dumps(_json_safe(summary), indent=2, sort_keys=False) + "\n"
    atomic_write_bytes(Path(run_dir) / SUMMARY, lambda f: f.write(text.encode()))


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    path = Path(run_dir) / SUMMARY
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def read_logger_state(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / LOGGER_STATE
    return json.loads(path.read_text()) if path.is_file() else {}


def update_logger_state(run_dir: Path, logger: str, state: dict[str, Any]) -> None:
    """Set one logger's entry in loggers.json, keeping the others'."""
    text = json.dumps({**read_logger_state(run_dir), logger: state}, indent=2) + "\n"
    atomic_write_bytes(Path(run_dir) / LOGGER_STATE, lambda f: f.write(text.encode()))


def write_history(run_dir: Path, rows: list[dict[str, float]], name: str = HISTORY) -> None:
    """history.csv (or another table of the run directory: STEPS), atomically."""
    if not rows:
        return
    write_table(Path(run_dir) / name, rows)


def write_table(path: Path, rows: list[dict[str, float]]) -> None:
    """rows as a CSV file, atomically: the union of their columns, in order of first appearance."""
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [c for c in row if c not in columns]

    def write(f):
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        f.write(text.getvalue().encode())

    atomic_write_bytes(path, write)


def read_history(run_dir: Path, name: str = HISTORY) -> list[dict[str, float]]:
    """history.csv (or another table of the run directory: STEPS) as rows of floats."""
    return read_table(Path(run_dir) / name)


def read_table(path: Path) -> list[dict[str, float]]:
    """A CSV file of numbers as rows of floats (a blank cell: NaN); [] when there is no file."""
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [{k: float(v) if v not in ("", None) else math.nan for k, v in row.items()} for row in csv.DictReader(f)]


def sample_path(run_dir: Path, epoch: int) -> Path:
    return Path(run_dir) / SAMPLES / f"epoch_{epoch:04d}.png"


def write_sample_grid(run_dir: Path, epoch: int, grid) -> None:
    """The grid (a 3xHxW tensor in [0, 1]) as samples/epoch_XXXX.png, and enlarged as samples/view/epoch_XXXX.png."""
    import torch.nn.functional as F
    from torchvision.utils import save_image

    factor = max(1, -(-SAMPLE_VIEW_MIN_PX // grid.shape[-1]))
    enlarged = F.interpolate(grid[None], scale_factor=factor, mode="nearest")[0]
    name = sample_path(run_dir, epoch).name
    for folder, image in ((Path(run_dir) / SAMPLES, grid), (Path(run_dir) / SAMPLE_VIEW, enlarged)):
        atomic_write_bytes(folder / name, lambda f, image=image: save_image(image, f, format="png"))


def sample_grids(run_dir: Path) -> dict[int, Path]:
    """Saved sample grids by epoch, in epoch order."""
    found = sorted(Path(run_dir, SAMPLES).glob("epoch_*.png"))
    return {int(p.stem.split("_")[1]): p for p in found}


def is_run_dir(path: Path) -> bool:
    return (Path(path) / SUMMARY).is_file() or (Path(path) / HYDRA_CONFIG).is_file()


# -- multirun index --------------------------------------------------------------------------------------
INDEX = "index.csv"
INDEX_COLUMNS = ["job", "run_dir", "overrides", "status", "objective", "objective_value", "reason"]


def find_run_dirs(root: Path) -> list[Path]:
    """Run directories at or below `root`, in job order where the names carry a job number."""
    root = Path(root)
    if is_run_dir(root):
        return [root]
    found = {p.parent.parent if p.name == "config.yaml" else p.parent
             for pattern in (SUMMARY, str(HYDRA_CONFIG)) for p in root.rglob(pattern)
             if MLFLOW_ARTIFACTS not in p.relative_to(root).parts}
    def order(p: Path):
        head = p.name.split("_", 1)[0]
        return (str(p.parent), int(head) if head.isdigit() else 1 << 30, p.name)
    return sorted(found, key=order)


def read_overrides(run_dir: Path) -> list[str]:
    path = Path(run_dir) / HYDRA_OVERRIDES
    if not path.is_file():
        return []
    import yaml

    return list(yaml.safe_load(path.read_text()) or [])


def index_rows(sweep_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for run in find_run_dirs(sweep_dir):
        summary = read_summary(run) or {}
        objective = summary.get("objective") or {}
        head = run.name.split("_", 1)[0]
        rows.append({
            "job": int(head) if head.isdigit() else "",
            "run_dir": run.relative_to(sweep_dir).as_posix(),
            "overrides": " ".join(read_overrides(run)),
            "status": summary.get("status", "not started"),
            "objective": objective.get("name", ""),
            "objective_value": objective.get("value", ""),
            "reason": (summary.get("reason") or "").splitlines()[0] if summary.get("reason") else "",
        })
    return rows


def write_multirun_index(sweep_dir: Path) -> Path:
    """index.csv in a multirun directory: one row per trial, rebuilt from what the trials wrote to disk."""
    sweep_dir = Path(sweep_dir)
    rows = index_rows(sweep_dir)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=INDEX_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(sweep_dir / INDEX, lambda f: f.write(text.getvalue().encode()))
    return sweep_dir / INDEX


# -- checkpoints ------------------------------------------------------------------------------------------
CHECKPOINT_FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint cannot be read, or belongs to another model or format."""


def read_checkpoint(path: Path, model: dict[str, Any] | None = None, architecture: Iterable[str] = ()) -> dict[str, Any]:
    """Load a checkpoint safely (weights_only: tensors and plain containers, no code) and check it.

    `model`, if given, is the model config the caller is about to use, and `architecture` the model keys that
    shape its networks (gvc.config.architecture_keys: declared on the models' config fields); a checkpoint that
    differs in one is refused rather than half-loaded.
    """
    import torch

    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise CheckpointError(f"cannot read checkpoint {path}: {type(e).__name__}: {str(e).splitlines()[0][:200]}. "
                              "It is corrupt or not a gvc checkpoint; delete it to start the run afresh.") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a gvc checkpoint of format {CHECKPOINT_FORMAT}")
    if model is not None:
        saved = ckpt["config"]["model"]
        for key in architecture:
            if list_or_value(saved.get(key)) != list_or_value(model.get(key)):  # a model may lack widths
                raise CheckpointError(
                    f"{path} holds a {saved.get('name')} with model.{key}={saved.get(key)!r}, but this run is a "
                    f"{model['name']} with model.{key}={model.get(key)!r}; resume with the checkpoint's model config "
                    "or start a new run directory")
    return ckpt


def write_checkpoint(run_dir: Path, ckpt: dict[str, Any]) -> None:
    """checkpoints/last.pt, atomically: a failed or interrupted write keeps the previous checkpoint."""
    import torch

    atomic_write_bytes(Path(run_dir) / CHECKPOINT, lambda f: torch.save(ckpt, f))


def list_or_value(v: Any) -> Any:
    return list(v) if isinstance(v, (list, tuple)) else v


# -- re-evaluations (`python -m gvc.evaluate`) ---------------------------------------------------------------
# RUN/evaluations/TIMESTAMP_stepK.json: one file per re-evaluation of the run's checkpoint, beside (never over)
# the training-time numbers in summary.json.
EVALUATIONS = "evaluations"


def read_evaluations(run_dir: Path) -> list[dict[str, Any]]:
    """The run's re-evaluations, oldest first (their names start with a timestamp), each with its `file`."""
    found = sorted(Path(run_dir, EVALUATIONS).glob("*.json"))
    return [{**json.loads(p.read_text()), "file": p.name} for p in found]


def with_latest_evaluation(summary: dict[str, Any], config: dict[str, Any],
                           run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's summary and config as its newest re-evaluation measured it (unchanged when it has none):
    its metrics, evaluator and eval settings, and `evaluation` naming the file."""
    # The last checkpoint's only: a re-evaluation of checkpoints/best.pt (gvc.evaluate --checkpoint best) is not final.
    evaluations = [e for e in read_evaluations(run_dir) if (e.get("checkpoint") or {}).get("name", "last") == "last"]
    if not evaluations:
        return summary, config
    latest = evaluations[-1]
    summary = {**summary, "metrics": latest["metrics"], "evaluator": latest.get("evaluator"),
               "evaluation": f"{EVALUATIONS}/{latest['file']}"}
    return summary, {**config, "eval": latest.get("eval", config.get("eval"))}


# -- evaluations along training (eval.along, gvc/training/along.py) ------------------------------------------
# evals.csv: one row per point of the run's budget (point, final, n_samples, epoch, step, images, train_s, cpu_s,
# eval_s, every metric); checkpoints/best.pt: the weights of its best cheap-N row (`best` in the file says which).
EVALS = "evals.csv"
BEST_CHECKPOINT = Path("checkpoints") / "best.pt"
CHECKPOINTS = {"last": CHECKPOINT, "best": BEST_CHECKPOINT}  # what --checkpoint NAME of gvc.sample/evaluate reads


def write_evals(run_dir: Path, rows: list[dict[str, float]]) -> None:
    """evals.csv from the rows so far; no rows: no file (a killed run's rows after its checkpoint are gone)."""
    path = Path(run_dir) / EVALS
    if rows:
        write_table(path, rows)
    else:
        path.unlink(missing_ok=True)


def read_evals(run_dir: Path) -> list[dict[str, float]]:
    """evals.csv's rows (numbers; NaN where a row lacks a metric), [] for a run without evaluations along training."""
    return read_table(Path(run_dir) / EVALS)


def write_best_checkpoint(run_dir: Path, ckpt: dict[str, Any]) -> None:
    import torch

    atomic_write_bytes(Path(run_dir) / BEST_CHECKPOINT, lambda f: torch.save(ckpt, f))
