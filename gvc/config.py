"""The typed configuration schema (registered in Hydra's ConfigStore) and its range checks.

Hydra checks types and unknown keys against these dataclasses while composing; `validate` checks
ranges and choices afterwards, before any data is loaded or any compute is spent.
"""

from __future__ import annotations

import math
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from gvc.evaluation.config import EvalConfig, as_eval_config, evaluator_files
from gvc.facts import DIRECTIONS, LOSSES


class ConfigError(ValueError):
    """A configuration value is out of range or not one of the allowed choices."""


# A model's own keys live in its Config dataclass beside the model (gvc/models/); ModelConfig holds the
# keys every model shares and types `cfg.model` until the chosen model's schema is merged in.
from gvc.models.base import ModelConfig, PaperDefaults  # noqa: E402,F401 (re-exported)


@dataclass
class OptimizerConfig:
    name: str = "adam"
    lr: float = MISSING
    beta1: float = 0.9  # Adam's betas, as two keys so that sweeps can vary each
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0  # used by sgd and rmsprop only
    fused: Optional[bool] = None  # Adam/AdamW's fused kernel (same algorithm, one kernel); null = torch's choice


@dataclass
class DataConfig:
    name: str = "mnist"  # a data set registered in gvc/datasets/
    root: str = "~/.cache/gvc/data"
    batch_size: int = MISSING
    subset: Optional[int] = None  # number of training images; null = all
    test_subset: Optional[int] = None  # number of test images for per-epoch VAE evaluation; null = all
    download: bool = False  # let torchvision download the data set when no offline copy is available


@dataclass
class TrainerConfig:
    epochs: int = 100
    max_steps: Optional[int] = None  # stop after this many optimisation steps (smoke runs); null = no limit
    max_images: Optional[int] = None  # stop after the step at which this many training images were seen
    time_budget_s: Optional[float] = None  # stop after the step at which training time (no eval, no I/O) reaches it
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    sample_every: int = 5  # epochs between sample grids (and always at the end)
    checkpoint_every: int = 1  # epochs between checkpoints (and always at the end)
    log_every: int = 50  # steps between progress-bar loss updates (each one syncs with the device)
    progress: bool = True
    objective: str = "auto"  # a metric name from summary.json; auto = fid if evaluated, else the final loss
    objective_direction: str = "auto"  # minimize | maximize | auto (from the metric)
    resume: bool = False
    precision: str = "fp32"  # fp32 (the paper's numerics) | bf16 (autocast) | auto (bf16 where native, else fp32)
    channels_last: bool = False  # NHWC memory layout for the convolutional models
    compile: bool = False  # torch.compile the networks (slower on small CPUs; try it on GPUs)
    tf32: bool = False  # TF32 matmuls and convolutions on CUDA (ignored elsewhere)
    threads: Optional[int] = None  # torch intra-op threads; null = the cores nobody else uses (gvc/threads.py)


@dataclass
class TensorBoardConfig:
    dir: str = "tensorboard"  # folder inside the run directory for the event files
    images: bool = True  # log the sample grids as images


@dataclass
class MLflowConfig:
    tracking_uri: Optional[str] = None  # null = sqlite:///<the run directory's parent>/mlflow.db
    experiment: Optional[str] = None  # null = the run directory's parent folder: one experiment per multirun
    request_timeout_s: float = 10.0  # HTTP tracking servers only
    max_retries: int = 1  # HTTP tracking servers only; then the logger gives up and training goes on
    images: bool = True  # log the sample grids as artifacts


@dataclass
class LoggerConfig:
    """The `logger` group: each selected logger fills its key (`logger=[tensorboard,mlflow]`); none by default."""

    tensorboard: Optional[TensorBoardConfig] = None
    mlflow: Optional[MLflowConfig] = None


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)


ROOT = Path(__file__).resolve().parent.parent  # the checkout (or editable install) holding conf/ and sweeps/


def register_configs() -> None:
    """Schemas into Hydra's ConfigStore; `${gvc_root:}` for the search path of the top-level sweeps/."""
    OmegaConf.register_new_resolver("gvc_root", lambda: ROOT.as_posix(), replace=True)
    from gvc.callbacks import trial_prefix  # the job log format: whose line it is, in a sweep
    from gvc.run_identity import trial_dir  # hydra.sweep.subdir: a fresh folder where another trial's run lies

    OmegaConf.register_new_resolver("gvc_trial_dir", trial_dir, replace=True)
    OmegaConf.register_new_resolver("gvc_trial_prefix", trial_prefix, replace=True)
    from gvc.models import MODELS, discover

    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    for group, node in [("model", ModelConfig), ("optimizer", OptimizerConfig), ("data", DataConfig),
                        ("trainer", TrainerConfig), ("eval", EvalConfig)]:
        cs.store(group=group, name=f"{group}_schema", node=node)
    discover()
    for name, model in MODELS.items():  # conf/model/NAME.yaml starts from `defaults: [NAME_schema]`
        cs.store(group="model", name=f"{name}_schema", node=model.Config)


OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
PRECISIONS = ("fp32", "bf16", "auto")
DEVICE_PREFIXES = ("auto", "cpu", "cuda", "mps")


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} is not allowed: {allowed}. Fix it with `{key}=...` on the command line.")


def _check_objective(cfg: DictConfig) -> None:
    name = cfg.trainer.objective
    if name == "auto":
        return
    from gvc.models import MODELS

    losses = LOSSES[MODELS[cfg.model.name].family]
    _check(name in losses or name in DIRECTIONS, "trainer.objective", name,
           f"auto, a final loss of this model {list(losses)} or an evaluation metric {sorted(DIRECTIONS)}")
    _check(name in losses or cfg.eval.enabled, "trainer.objective", name,
           "an evaluation metric needs eval.enabled=true")


def _check_loggers(cfg: DictConfig) -> None:
    lg = cfg.get("logger")
    if lg is None:
        return
    if lg.get("tensorboard") is not None:
        folder = Path(lg.tensorboard.dir)
        _check(bool(lg.tensorboard.dir) and not folder.is_absolute() and ".." not in folder.parts,
               "logger.tensorboard.dir", lg.tensorboard.dir, "a folder name inside the run directory")
    if lg.get("mlflow") is not None:
        m = lg.mlflow
        _check(m.request_timeout_s > 0, "logger.mlflow.request_timeout_s", m.request_timeout_s, "a positive number")
        _check(m.max_retries >= 0, "logger.mlflow.max_retries", m.max_retries, "a non-negative integer")
        _check(m.tracking_uri is None or bool(m.tracking_uri.strip()), "logger.mlflow.tracking_uri", m.tracking_uri,
               "null (a SQLite file beside the run directory) or a tracking URI such as http://HOST:5000")
        _check(m.experiment is None or bool(m.experiment.strip()), "logger.mlflow.experiment", m.experiment,
               "null (the run directory's parent folder) or a name")
    from gvc.loggers import missing_packages  # finds the libraries without importing them

    for error in missing_packages(cfg):
        raise ConfigError(error)


def _check_evaluator(cfg: DictConfig, title: str) -> None:
    """An evaluated run needs its data set's evaluator: stop before training, not after it."""
    weights, meta = evaluator_files(cfg.data.name)
    if cfg.eval.enabled and not (weights.is_file() and meta.is_file()):
        raise ConfigError(
            f"data={cfg.data.name}: {title} has no evaluator ({weights.name} and {meta.name} are not in "
            f"{weights.parent}), so its samples cannot be measured. Train one with `python -m "
            f"gvc.evaluation.train_classifier --data {cfg.data.name}`, or run without metrics with eval.enabled=false."
        )


def validate(cfg: DictConfig) -> None:
    """Range and choice checks that types alone cannot express. Raises ConfigError naming the key."""
    from gvc import datasets
    from gvc.models import MODELS, discover

    m, o, d, t = cfg.model, cfg.optimizer, cfg.data, cfg.trainer
    discover()
    _check(m.name in MODELS, "model.name", m.name, f"one of {sorted(MODELS)} (choose with model=NAME)")
    try:  # `+key=value` bypasses Hydra's struct check; an unknown key is a typo, not a setting
        schema = OmegaConf.merge(OmegaConf.structured(Config), {"model": OmegaConf.structured(MODELS[m.name].Config)})
        model_cfg = OmegaConf.to_object(OmegaConf.merge(schema, OmegaConf.to_container(cfg, resolve=False)).model)
    except OmegaConfBaseException as e:
        raise ConfigError(f"unknown or mistyped config key: {str(e).splitlines()[0]}. "
                          "Run `python -m gvc --cfg job` to see every key.") from None
    for key, ok, allowed in model_cfg.check():  # the model's own ranges, declared beside it
        _check(ok, f"model.{key}", m[key] if not OmegaConf.is_config(m[key]) else OmegaConf.to_container(m[key]), allowed)
    _check(o.name in OPTIMIZERS, "optimizer.name", o.name, f"one of {list(OPTIMIZERS)}")
    _check(math.isfinite(o.lr) and o.lr > 0, "optimizer.lr", o.lr, "a positive learning rate")
    for key in ("beta1", "beta2"):
        _check(0.0 <= o[key] < 1.0, f"optimizer.{key}", o[key], "a number in [0, 1)")
    _check(o.eps > 0, "optimizer.eps", o.eps, "a positive number")
    _check(o.weight_decay >= 0, "optimizer.weight_decay", o.weight_decay, "a non-negative number")
    _check(0.0 <= o.momentum < 1.0, "optimizer.momentum", o.momentum, "a number in [0, 1)")
    known = datasets.known()
    _check(d.name in known, "data.name", d.name, f"one of the known data sets {known} (choose with data=NAME)")
    spec = datasets.get(d.name)
    _check(d.batch_size >= 1, "data.batch_size", d.batch_size, "a positive integer")
    n_train, n_test = spec.n_images(train=True), spec.n_images(train=False)
    _check(d.subset is None or 1 <= d.subset <= n_train, "data.subset", d.subset,
           f"null (all {n_train:,} {spec.title} training images) or between 1 and {n_train}")
    _check(d.test_subset is None or 1 <= d.test_subset <= n_test, "data.test_subset", d.test_subset,
           f"null (all {n_test:,} {spec.title} test images) or between 1 and {n_test}")
    _check_evaluator(cfg, spec.title)
    _check(t.epochs >= 1, "trainer.epochs", t.epochs, "a positive integer")
    _check(t.max_steps is None or t.max_steps >= 1, "trainer.max_steps", t.max_steps, "null or a positive integer")
    _check(t.max_images is None or t.max_images >= 1, "trainer.max_images", t.max_images, "null or a positive integer")
    _check(t.time_budget_s is None or (math.isfinite(t.time_budget_s) and t.time_budget_s > 0), "trainer.time_budget_s",
           t.time_budget_s, "null or a positive number of seconds")
    for key in ("sample_every", "checkpoint_every", "log_every"):
        _check(t[key] >= 1, f"trainer.{key}", t[key], "a positive integer")
    _check(t.device.split(":")[0] in DEVICE_PREFIXES, "trainer.device", t.device,
           "auto, cpu, cuda, cuda:N or mps")
    _check(t.precision in PRECISIONS, "trainer.precision", t.precision, f"one of {list(PRECISIONS)}")
    _check(t.objective_direction in ("auto", "minimize", "maximize"), "trainer.objective_direction",
           t.objective_direction, "auto, minimize or maximize")
    _check(t.threads is None or t.threads >= 1, "trainer.threads", t.threads, "null or a positive integer")
    _check_objective(cfg)
    _check_loggers(cfg)
    try:
        as_eval_config(cfg.eval)
    except ValueError as e:
        raise ConfigError(f"{e}. Fix it with `eval.KEY=...` on the command line.") from None
