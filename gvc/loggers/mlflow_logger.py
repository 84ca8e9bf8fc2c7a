"""`logger=mlflow`: one MLflow run per gvc run, one experiment per multirun folder (or a name you give).

Where: `logger.mlflow.tracking_uri`, or by default a SQLite database `mlflow.db` in the folder that holds the
run directory (the multirun folder in a sweep; `outputs/MODEL/` for a single run), with the artifacts beside
it in `mlartifacts/`. The experiment is `logger.mlflow.experiment`, or that folder's name (below `multirun/` or
`outputs/`: `2026-12-01/16-55-00-123456`, `dcgan`). In a database of its own gvc retires MLflow's empty
`Default` experiment, which would point at the working directory's `mlruns/`.

What: params = the composed config, flattened (`optimizer.lr`, ...); metrics by global step with the same
names as TensorBoard's tags (train/<loss> per log point, epoch/<name> per epoch, eval/<metric> and
eval/floor_<metric> per evaluation, final/<name> at the end); the sample grids (samples/) and summary.json
as artifacts; tags model, family, status and seed; the MLflow run ends FINISHED, or FAILED for a failed or
diverged gvc run.

Resuming: the MLflow run id is kept in RUN/loggers.json; a resumed gvc run reopens that MLflow run and skips
every metric step it already holds, so nothing is logged twice.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import torch
from omegaconf import DictConfig

from gvc.loggers import LoggerHook, final_numbers, flat_config, guarded
from gvc.trial import rundir

DB_NAME = "mlflow.db"
END_STATUS = {"completed": "FINISHED", "failed": "FAILED", "diverged": "FAILED"}
MAX_PARAM_LENGTH = 500  # MLflow's limit varies by backend; longer values are cut, not refused
BATCH = 100  # params per log_batch call (MLflow's limit)


def default_tracking_uri(run_dir: Path) -> str:
    return f"sqlite:///{(Path(run_dir).absolute().parent / DB_NAME).as_posix()}"


def default_experiment(run_dir: Path) -> str:
    """The name of the folder holding the run directory: its path below the nearest `multirun/` or `outputs/`
    (Hydra's DATE/TIME, or the model), else the folder's own name; never a path of this machine."""
    folder = Path(run_dir).absolute().parent
    for depth, parent in enumerate(folder.parents):
        if parent.name in ("multirun", "outputs"):
            return folder.relative_to(parent).as_posix() if depth < 2 else folder.name
    return folder.name


def sqlite_path(uri: str) -> Path | None:
    return Path(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else None


@contextlib.contextmanager
def file_lock(path: Path | None) -> Iterator[None]:
    """Serialise the first use of a shared SQLite file: parallel trials would race creating its tables."""
    if path is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: no fcntl; trials there run one after another anyway (basic launcher)
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def retire_default_experiment(client: Any) -> None:
    """Soft-delete MLflow's `Default` experiment (id 0) of a fresh database while it holds no runs: every store
    creates one, pointing at the working directory's mlruns/, and gvc never logs into it."""
    default = client.get_experiment("0")
    if default.lifecycle_stage == "active" and not client.search_runs(["0"], max_results=1):
        client.delete_experiment("0")


class MLflowLogger(LoggerHook):
    name = "mlflow"

    def __init__(self, cfg: DictConfig, run_dir: Path):
        super().__init__(cfg, run_dir)
        self.options = cfg.logger.mlflow
        self.tracking_uri = self.options.tracking_uri or default_tracking_uri(self.run_dir)
        self.experiment = self.options.experiment or default_experiment(self.run_dir)
        self.client = None
        self.run_id: str | None = None
        self.logged_upto: dict[str, int] = {}  # metric -> last step the MLflow run already holds (resume)

    # -- connecting ------------------------------------------------------------------------------------
    def _connect(self) -> None:
        if self.client is not None:
            return
        if self.tracking_uri.startswith(("http://", "https://")):
            # Fail in seconds, not after MLflow's default minutes of retries: the run directory has it all anyway.
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(self.options.max_retries))
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(max(1, int(self.options.request_timeout_s))))
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        from mlflow.tracking import MlflowClient

        db = sqlite_path(self.tracking_uri)
        with file_lock(db):
            client = MlflowClient(tracking_uri=self.tracking_uri)
            experiment = client.get_experiment_by_name(self.experiment)
            if experiment is None:
                location = (db.parent / rundir.MLFLOW_ARTIFACTS).absolute().as_uri() if db is not None else None
                experiment_id = client.create_experiment(self.experiment, artifact_location=location)
            else:
                experiment_id = experiment.experiment_id
            if db is not None and self.options.tracking_uri is None:
                retire_default_experiment(client)
            state = rundir.read_logger_state(self.run_dir).get(self.name) or {}
            if state.get("run_id") and state.get("tracking_uri") == self.tracking_uri:
                self.run_id = state["run_id"]
                self._resume(client)
            else:
                run = client.create_run(experiment_id, run_name=self.run_dir.name, tags=self._tags("running"))
                self.run_id = run.info.run_id
                self._log_params(client)
                rundir.update_logger_state(self.run_dir, self.name, {
                    "run_id": self.run_id, "tracking_uri": self.tracking_uri, "experiment_id": experiment_id})
        self.client = client

    def _resume(self, client) -> None:
        run = client.get_run(self.run_id)
        for key in run.data.metrics:
            self.logged_upto[key] = max(m.step for m in client.get_metric_history(self.run_id, key))
        client.update_run(self.run_id, status="RUNNING")
        client.set_tag(self.run_id, "status", "running")

    def _tags(self, status: str) -> dict[str, str]:
        tags = {"model": str(self.cfg.model.name), "status": status, "seed": str(self.cfg.trainer.seed),
                "run_dir": str(self.run_dir.absolute())}
        if self.family:
            tags["family"] = self.family
        return tags

    def _log_params(self, client) -> None:
        from mlflow.entities import Param

        params = [Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in flat_config(self.cfg).items()]
        for i in range(0, len(params), BATCH):
            client.log_batch(self.run_id, params=params[i:i + BATCH])

    def _metrics(self, values: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        new = [Metric(k, float(v), now, int(step)) for k, v in values.items() if step > self.logged_upto.get(k, -1)]
        if new:
            self.client.log_batch(self.run_id, metrics=new)

    # -- events ----------------------------------------------------------------------------------------
    @guarded
    def run_start(self, start) -> None:
        self.family = start.family
        self._connect()
        self.client.set_tag(self.run_id, "family", self.family)

    @guarded
    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        self._metrics({f"train/{k}": v for k, v in losses.items()}, step)

    @guarded
    def samples(self, epoch: int, step: int, grid: torch.Tensor) -> None:
        if not self.options.images:
            return
        from torchvision.utils import save_image

        with tempfile.TemporaryDirectory() as tmp:
            path = rundir.sample_path(Path(tmp), epoch)  # the run directory's name: samples/epoch_XXXX.png
            path.parent.mkdir(parents=True)
            save_image(grid, path)
            self.client.log_artifact(self.run_id, str(path), rundir.SAMPLES)

    @guarded
    def evaluation(self, epoch: int, step: int, metrics: dict[str, float]) -> None:
        self.metric_keys.update(metrics)
        self._metrics({f"eval/{k}": v for k, v in metrics.items()}, step)

    @guarded
    def epoch_end(self, row: dict[str, float], last: bool) -> None:
        self._metrics({f"epoch/{k}": v for k, v in self.epoch_scalars(row).items()}, int(row["step"]))

    @guarded
    def run_end(self, summary: dict[str, Any]) -> None:
        self.family = self.family or summary.get("family")
        self._connect()  # a run that failed before training started is still recorded, with its status
        status = summary.get("status", "running")
        self._metrics({f"final/{k}": v for k, v in final_numbers(summary).items()}, int(summary.get("steps") or 0))
        for key, value in self._tags(status).items():
            self.client.set_tag(self.run_id, key, value)
        if summary.get("reason"):
            self.client.set_tag(self.run_id, "reason", str(summary["reason"]).splitlines()[0][:MAX_PARAM_LENGTH])
        for name in (rundir.SUMMARY, rundir.LOSS_PLOT):
            if (self.run_dir / name).is_file():
                self.client.log_artifact(self.run_id, str(self.run_dir / name))
        if status in END_STATUS:
            self.client.set_terminated(self.run_id, END_STATUS[status])
