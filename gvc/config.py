"""The typed configuration schema (registered in Hydra's ConfigStore) and its range checks.

Hydra checks types and unknown keys against these dataclasses while composing; `validate` checks
ranges and choices afterwards, before any data is loaded or any compute is spent.
"""

from __future__ import annotations

import math
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from gvc.errors import ConfigError  # re-exported too: gvc.config.ConfigError, its home before gvc/errors.py
from gvc.evaluation.config import EvalConfig, as_eval_config, evaluation_problem
from gvc import facts
from gvc.facts import LOSSES
from gvc.knobs import EXECUTION, MEASURED, SEED_KEY, KnobMeta, knob_meta, schema_knobs

# The schema imports no torch (analysis and `python -m gvc list` import it): the registries of models, losses
# and data sets, which do, are imported inside the functions that validate or register against them.
# A model's own keys live in its Config dataclass beside the model (gvc/models/); ModelConfig holds the
# keys every model shares and types `cfg.model` until the chosen model's schema is merged in.
from gvc.models.config import ModelConfig, PaperDefaults  # noqa: F401 (re-exported)
# An objective's own keys live in its Config dataclass beside its loss (gvc/training/losses/).
from gvc.training.losses.base import LossConfig


@dataclass
class OptimizerConfig:
    name: str = "adam"
    lr: float = field(default=MISSING, metadata=knob_meta(help="the paper's is model.paper.lr"))
    beta1: float = 0.9  # Adam's betas, as two keys so that sweeps can vary each
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0  # used by sgd and rmsprop only
    fused: Optional[bool] = field(default=None, metadata=EXECUTION)  # Adam/AdamW's fused kernel (same algorithm, one kernel); null = torch's choice


@dataclass
class DataConfig:
    name: str = field(default="mnist", metadata=MEASURED)  # a data set registered in gvc/datasets/
    root: str = field(default="~/.cache/gvc/data", metadata=EXECUTION)
    batch_size: int = field(default=MISSING, metadata=knob_meta(help="the paper's is model.paper.batch_size"))
    subset: Optional[int] = None  # number of training images; null = all
    test_subset: Optional[int] = None  # number of test images for per-epoch VAE evaluation; null = all
    download: bool = field(default=False, metadata=EXECUTION)  # let torchvision download the data set when no offline copy is available
    # none | dynamic: Bernoulli-draw every training pixel afresh per batch (VAEs; Burda et al. 2016)
    binarize: str = field(default="none", metadata=MEASURED)


@dataclass
class OwnDataConfig(DataConfig):
    """data=folder / data=array: a user's own images (gvc/datasets/own.py); `name` resolves to their hash name."""
    path: Optional[str] = field(default=None, metadata=EXECUTION)  # the files; what they hold is in data.name
    channels: Optional[int] = field(default=None, metadata=MEASURED)  # null = as stored; 1 or 3 = convert to it
    resize: Optional[List[int]] = field(default=None, metadata=MEASURED)  # null = never; [H, W] = resize to it
    test_fraction: float = field(default=0.1, metadata=MEASURED)  # held out as test images (no train/, test/)
    split_seed: int = field(default=0, metadata=MEASURED)
    autoencoder_epochs: int = field(default=5, metadata=MEASURED)  # the label-free space's training budget
    autoencoder_seed: int = field(default=0, metadata=MEASURED)


@dataclass
class TrainerConfig:
    epochs: int = 100
    max_steps: Optional[int] = None  # stop after this many optimisation steps (smoke runs); null = no limit
    max_images: Optional[int] = None  # stop after the step at which this many training images were seen
    time_budget_s: Optional[float] = None  # stop after the step at which training time (no eval, no I/O) reaches it
    # The same in this process's CPU seconds (time.process_time(), all threads): equal compute on a shared machine.
    cpu_budget_s: Optional[float] = None
    seed: int = field(default=0, metadata=MEASURED)
    device: str = field(default="auto", metadata=EXECUTION)  # auto | cpu | cuda | cuda:N | mps
    sample_every: int = field(default=5, metadata=EXECUTION)  # epochs between sample grids (and always at the end)
    checkpoint_every: int = field(default=1, metadata=EXECUTION)  # epochs between checkpoints (and always at the end)
    # also inside an epoch, after this much training time; null = off
    checkpoint_every_s: Optional[float] = field(default=300.0, metadata=EXECUTION)
    # also inside an epoch, every this many steps; null = off
    checkpoint_every_steps: Optional[int] = field(default=None, metadata=EXECUTION)
    # a loss beyond +-this (per image) ends the run `diverged`; null = no bound
    max_loss: Optional[float] = field(default=1.0e6, metadata=EXECUTION)
    log_every: int = field(default=50, metadata=EXECUTION)  # steps between progress-bar loss updates (each one syncs with the device)
    progress: bool = field(default=True, metadata=EXECUTION)
    # without a terminal (no bar): a progress line at most this often, at log points; null = epoch lines only
    progress_every_s: Optional[float] = field(default=60.0, metadata=EXECUTION)
    objective: str = field(default="auto", metadata=MEASURED)  # a metric name from summary.json; auto = fid if evaluated, else the final loss
    objective_direction: str = field(default="auto", metadata=MEASURED)  # minimize | maximize | auto (from the metric)
    resume: bool = field(default=False, metadata=EXECUTION)
    # continue a finished run to raised budgets (gvc/trial/extend.py): the only change of config a run accepts
    extend: bool = field(default=False, metadata=EXECUTION)
    # start from another run's weights (its folder or a checkpoint file): a departure from the paper's random start
    init_from: Optional[str] = field(default=None, metadata=MEASURED)
    precision: str = field(default="fp32", metadata=MEASURED)  # fp32 (the paper's numerics) | bf16 (autocast) | auto (bf16 where native, else fp32)
    channels_last: bool = field(default=False, metadata=EXECUTION)  # NHWC memory layout for the convolutional models
    compile: bool = field(default=False, metadata=EXECUTION)  # torch.compile the networks (slower on small CPUs; try it on GPUs)
    tf32: bool = field(default=False, metadata=MEASURED)  # TF32 matmuls and convolutions on CUDA (ignored elsewhere)
    threads: Optional[int] = field(default=None, metadata=EXECUTION)  # torch intra-op threads; null = the cores other processes leave free (gvc/threads.py)


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
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    # The hooks group (conf/hooks/): NAME -> {_target_: a gvc.training.hooks.Hook subclass, its knobs}.
    hooks: dict[str, Any] = field(default_factory=dict)


def knobs(cfg: Any = None) -> dict[str, KnobMeta]:
    """What each config key means (gvc/knobs.py), by dotted key: for a composed config, its model's and its
    objective's keys; without one, every registered model's and objective's (a key shared by several models
    has one meaning). Logger keys say where a run was watched: never hyperparameters."""
    from gvc.evaluation.config import EvalConfig as Eval
    from gvc.models import MODELS, discover
    from gvc.training import losses

    # OwnDataConfig: DataConfig's keys and those of data=folder / array (data.path says where, not what: not identity)
    out = {**schema_knobs(OptimizerConfig, "optimizer."), **schema_knobs(OwnDataConfig, "data."),
           **schema_knobs(TrainerConfig, "trainer.")}
    out.update({k: MEASURED_META if not k.endswith(".batch_size") else EXECUTION_META
                for k in schema_knobs(Eval, "eval.")})
    discover()
    if cfg is not None and cfg.get("model") is not None and cfg.model.get("name") in MODELS:
        model_schemas = [MODELS[cfg.model.name].Config]
        family = MODELS[cfg.model.name].family
        loss_schemas = [losses.get(losses.loss_name(cfg.get("loss"), family)).Config]
    else:
        model_schemas = [m.Config for m in MODELS.values()]
        loss_schemas = [o.Config for o in losses.LOSSES.values()]
    for schema in model_schemas:
        out.update({k: v for k, v in schema_knobs(schema, "model.").items() if k not in out})
    for schema in loss_schemas:
        out.update({k: v for k, v in schema_knobs(schema, "loss.").items() if k not in out})
    # Identity axes: the model (its architecture) and the objective (a swept axis whose paper value is the
    # family's objective: `auto`, or its name).
    out["model.name"] = KnobMeta(hyperparameter=False, architecture=True)
    paper_loss = losses.PAPER_LOSS[family] if cfg is not None and model_schemas != [] and len(model_schemas) == 1 \
        else losses.AUTO
    out["loss.name"] = KnobMeta(paper=paper_loss, help="the objective (loss=NAME); auto = the paper's of the family")
    return out


def architecture_keys(cfg: Any = None) -> list[str]:
    """The model keys a checkpoint must agree on to load (without the `model.` prefix)."""
    return [k.split(".", 1)[1] for k, m in knobs(cfg).items() if m.architecture and k.startswith("model.")]


IDENTITY_KEYS = ("model.name", "data.name")  # what is trained on what: analysis groups by them, never "sweeps" them


def non_hyperparameters() -> frozenset[str]:
    """Keys analysis never counts as swept parameters: those that change nothing trained or measured, and the
    identity axes (model, data set) it groups by. The seed stays: runs differing in it are repeats."""
    return execution_keys() | frozenset(IDENTITY_KEYS)


def execution_keys() -> frozenset[str]:
    """Keys that change neither what is trained nor what is measured."""
    return frozenset(k for k, m in knobs().items() if not m.result)


MEASURED_META, EXECUTION_META = KnobMeta(**MEASURED), KnobMeta(**EXECUTION)
SEED = SEED_KEY


from gvc.listing import ROOT  # noqa: E402 (the checkout or editable install holding conf/ and sweeps/)


def register_configs() -> None:
    """Schemas into Hydra's ConfigStore; `${gvc_root:}` for the search path of the top-level sweeps/."""
    OmegaConf.register_new_resolver("gvc_root", lambda: ROOT.as_posix(), replace=True)
    from gvc.models import MODELS, discover

    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    for group, node in [("model", ModelConfig), ("optimizer", OptimizerConfig), ("data", DataConfig),
                        ("trainer", TrainerConfig), ("eval", EvalConfig)]:
        cs.store(group=group, name=f"{group}_schema", node=node)
    cs.store(group="data", name="own_data_schema", node=OwnDataConfig)
    from gvc.datasets import own

    own.register_resolver()  # conf/data/folder.yaml's `name: ${gvc_own_data:folder}`
    discover()
    for name, model in MODELS.items():  # conf/model/NAME.yaml starts from `defaults: [NAME_schema]`
        cs.store(group="model", name=f"{name}_schema", node=model.Config)
    from gvc.training import losses

    cs.store(group="loss", name="auto_schema", node=LossConfig)
    for name, loss in losses.LOSSES.items():  # conf/loss/NAME.yaml likewise
        cs.store(group="loss", name=f"{name}_schema", node=loss.Config)


OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
PRECISIONS = ("fp32", "bf16", "auto")
DEVICE_PREFIXES = ("auto", "cpu", "cuda", "mps")


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} is not allowed: {allowed}. Fix it with `{key}=...` on the command line.")


def _loss_schema(cfg: DictConfig) -> type:
    """The Config dataclass of the objective `loss` names (the shared one while the name is unknown or auto)."""
    from gvc.training import losses

    name = (cfg.get("loss") or {}).get("name", losses.AUTO)
    return losses.LOSSES[name].Config if name in losses.known() else LossConfig


def _check_loss(cfg: DictConfig) -> None:
    """The objective fits the model's family, its knobs are in range, and it can run as configured."""
    from gvc.models import MODELS
    from gvc.training import losses

    family = MODELS[cfg.model.name].family
    section = cfg.get("loss")
    name = losses.loss_name(section, family)
    _check(name in losses.known(), "loss.name", name, f"one of {['auto', *losses.known()]} (choose with loss=NAME)")
    _check(name in losses.known(family), "loss", name,
           f"an objective of the {family} family, which model={cfg.model.name} is: auto or one of "
           f"{losses.known(family)}")
    try:
        loss_cfg = losses.loss_config(section, family)
    except (OmegaConfBaseException, ValueError) as e:
        raise ConfigError(f"loss: {str(e).splitlines()[0]}. Run `python -m gvc --cfg job loss={name}` to see its "
                          "keys.") from None
    for key, ok, allowed in loss_cfg.check():
        _check(ok, f"loss.{key}", getattr(loss_cfg, key), allowed)
    from gvc.training.losses.penalties import needs_double_backward

    if cfg.trainer.compile and needs_double_backward(loss_cfg):
        raise ConfigError(f"loss={name} with a gradient penalty (loss.gp_weight / loss.r1_gamma) needs a double "
                          "backward through D, which torch.compile does not support. Fix it with "
                          "`trainer.compile=false` (or set the penalty weight to 0).")


def logged_losses(cfg: DictConfig) -> list[str]:
    """The loss names a run of this config logs: its family's and its objective's own (and their test_ columns)."""
    from gvc.models import MODELS
    from gvc.training import losses as registry
    from gvc.training.losses.decoders import rec_name

    family = MODELS[cfg.model.name].family
    loss_cfg = registry.loss_config(cfg.get("loss"), family)
    names = [*LOSSES[family], *registry.get(loss_cfg.name).losses]
    if hasattr(loss_cfg, "likelihood"):
        names += [rec_name(loss_cfg.likelihood), f"test_{rec_name(loss_cfg.likelihood)}"]
    return list(dict.fromkeys(names))


def _check_objective(cfg: DictConfig) -> None:
    name = cfg.trainer.objective
    if name == "auto":
        return
    from gvc.models import MODELS

    losses = logged_losses(cfg)
    objectives = facts.OBJECTIVES  # read now: the registry as it stands (a metric added since import included)
    # A metric's spec says whether it may be optimised (gvc/facts.py: a spread such as kid_std, or a reference
    # such as the test images' own distance to the training set, may not).
    why = (f"{name} is measured but may not be optimised (its spec in gvc/facts.py says objective=False); "
           if name in facts.DIRECTIONS and name not in objectives else "")
    _check(name in losses or name in objectives, "trainer.objective", name,
           f"{why}auto, a final loss of this model {list(losses)} or an evaluation metric {sorted(objectives)}")
    _check(name in losses or cfg.eval.enabled, "trainer.objective", name,
           "an evaluation metric needs eval.enabled=true")


def _check_hooks(cfg: DictConfig) -> None:
    from gvc.training.hooks import hook_problems

    section = cfg.get("hooks")
    for key, problem in hook_problems(OmegaConf.to_container(section, resolve=True) if section else None):
        raise ConfigError(f"{key} {problem}; fix its YAML in conf/hooks/ or drop it from hooks=[...]")


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


def check_evaluator(cfg: DictConfig, title: str) -> None:
    """An evaluated run needs its data set's evaluators: stop before training (or re-evaluation), not after it."""
    problem = evaluation_problem(cfg.data.name, title, bool(cfg.eval.get("second_space", True)))
    if cfg.eval.enabled and problem:
        raise ConfigError(problem)


def _data_schema(cfg: DictConfig) -> type:
    """OwnDataConfig for data=folder / data=array (their own keys), else DataConfig."""
    return OwnDataConfig if "path" in cfg.data else DataConfig


def check_data(d: DictConfig):
    """data.root usable as gvc's cache, then the data set: registered, or a user's own files read and checked."""
    from gvc import datasets
    from gvc.data import DataError, root_problem
    from gvc.datasets import own

    problem = root_problem(d.root)
    if problem:
        raise ConfigError(problem)
    datasets.discover()  # registers the sources of own data (folder.py, array.py)
    try:
        spec = own.resolve_config(d)
    except DataError as e:
        raise ConfigError(str(e)) from None
    if spec is None:
        known = datasets.known()
        _check(d.name in known, "data.name", d.name, f"one of the known data sets {known} (choose with data=NAME)")
        return datasets.get(d.name)
    n_train = d.subset or spec.n_images(train=True)  # own data is the user's size: say what does not fit now
    if d.batch_size > n_train:
        raise ConfigError(f"data.batch_size={d.batch_size} is more than the {n_train} training images of "
                          f"{spec.title}: set data.batch_size={n_train} or less, or add images")
    return spec


def _check_model_fits(m: DictConfig, spec) -> None:
    """Build the model on the meta device (no memory, no compute): an architecture that cannot take the images'
    shape says so now, not after a run folder exists."""
    import torch

    from gvc.models import build_model

    try:
        with torch.device("meta"):
            build_model(m, spec.image_shape)
    except ValueError as e:
        _, height, width = spec.image_shape
        raise ConfigError(f"model={m.name} cannot take the {height}x{width} images of {spec.title}: {e}. Resize "
                          "them with data.resize=[H,W] (data=folder) or choose another model (model=linear_gan, "
                          "model=linear_vae take any size)") from None


def validate(cfg: DictConfig) -> None:
    """Range and choice checks that types alone cannot express. Raises ConfigError naming the key."""
    from gvc.data import BINARIZE
    from gvc.models import MODELS, discover

    m, o, d, t = cfg.model, cfg.optimizer, cfg.data, cfg.trainer
    discover()
    _check(m.name in MODELS, "model.name", m.name, f"one of {sorted(MODELS)} (choose with model=NAME)")
    try:  # `+key=value` bypasses Hydra's struct check; an unknown key is a typo, not a setting
        schema = OmegaConf.merge(OmegaConf.structured(Config), {"model": OmegaConf.structured(MODELS[m.name].Config),
                                                                "loss": OmegaConf.structured(_loss_schema(cfg)),
                                                                "data": OmegaConf.structured(_data_schema(cfg))})
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
    spec = check_data(d)
    if spec.load is not None:  # your own images' shape: does this architecture take it, before anything trains
        _check_model_fits(m, spec)
    _check(d.batch_size >= 1, "data.batch_size", d.batch_size, "a positive integer")
    n_train, n_test = spec.n_images(train=True), spec.n_images(train=False)
    _check(d.subset is None or 1 <= d.subset <= n_train, "data.subset", d.subset,
           f"null (all {n_train:,} {spec.title} training images) or between 1 and {n_train}")
    _check(d.test_subset is None or 1 <= d.test_subset <= n_test, "data.test_subset", d.test_subset,
           f"null (all {n_test:,} {spec.title} test images) or between 1 and {n_test}")
    _check(d.get("binarize", "none") in BINARIZE, "data.binarize", d.get("binarize"), f"one of {list(BINARIZE)}")
    _check(d.get("binarize", "none") == "none" or MODELS[m.name].family == "vae", "data.binarize", d.get("binarize"),
           "none for a GAN (binarised images are a likelihood protocol for VAEs)")
    check_evaluator(cfg, spec.title)
    # N generated images are compared with as many test images: a larger N than the test set is not that N's FID
    _check(not cfg.eval.enabled or cfg.eval.n_samples <= n_test, "eval.n_samples", cfg.eval.n_samples,
           f"at most {n_test:,}, the {spec.title} test images the samples are compared with (e.g. eval=fast: 1,000)")
    _check(t.epochs >= 1, "trainer.epochs", t.epochs, "a positive integer")
    _check(t.max_steps is None or t.max_steps >= 1, "trainer.max_steps", t.max_steps, "null or a positive integer")
    _check(t.max_images is None or t.max_images >= 1, "trainer.max_images", t.max_images, "null or a positive integer")
    for key in ("time_budget_s", "cpu_budget_s"):
        _check(t.get(key) is None or (math.isfinite(t[key]) and t[key] > 0), f"trainer.{key}", t.get(key),
               "null or a positive number of seconds")
    for key in ("sample_every", "checkpoint_every", "log_every"):
        _check(t[key] >= 1, f"trainer.{key}", t[key], "a positive integer")
    _check(t.checkpoint_every_s is None or t.checkpoint_every_s > 0, "trainer.checkpoint_every_s",
           t.checkpoint_every_s, "null or a positive number of seconds of training")
    _check(t.checkpoint_every_steps is None or t.checkpoint_every_steps >= 1, "trainer.checkpoint_every_steps",
           t.checkpoint_every_steps, "null or a positive integer")
    _check(t.get("progress_every_s") is None or t.progress_every_s >= 0, "trainer.progress_every_s",
           t.get("progress_every_s"), "null or a number of seconds >= 0")
    _check(t.max_loss is None or t.max_loss > 0, "trainer.max_loss", t.max_loss, "null or a positive number")
    _check(t.device.split(":")[0] in DEVICE_PREFIXES, "trainer.device", t.device,
           "auto, cpu, cuda, cuda:N or mps")
    _check(t.precision in PRECISIONS, "trainer.precision", t.precision, f"one of {list(PRECISIONS)}")
    _check(t.objective_direction in ("auto", "minimize", "maximize"), "trainer.objective_direction",
           t.objective_direction, "auto, minimize or maximize")
    _check(t.threads is None or t.threads >= 1, "trainer.threads", t.threads, "null or a positive integer")
    _check_loss(cfg)
    _check_objective(cfg)
    _check_loggers(cfg)
    _check_hooks(cfg)
    try:
        as_eval_config(cfg.eval)
    except ValueError as e:
        raise ConfigError(f"{e}. Fix it with `eval.KEY=...` on the command line.") from None
