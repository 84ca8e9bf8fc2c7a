"""The command line around Hydra: `python -m gvc --help` / `list`, and refusing bad input before Hydra runs.

`check(overrides)` composes the configuration the way Hydra will and validates it, so a refused run leaves no
folder behind (Hydra creates the run directory as soon as it starts). Every refusal becomes one line,
`gvc: error: ...` naming the key and the fix, with exit status 2 (`fail`); unknown keys and options get a
"did you mean" from the schema's keys and the config groups' options.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from gvc.config import check_data, register_configs, validate
from gvc.trial import run_identity
from gvc.errors import EXIT_REFUSED, ConfigError, fail, warn  # noqa: F401 (re-exported: their home before gvc/errors.py)
from gvc.listing import CONF, config_groups, group_options, listing  # noqa: F401 (listing re-exported)

# Hydra's own options that do not run anything, or that choose another config: left to Hydra unchecked.
HYDRA_ONLY_FLAGS = ("--cfg", "-c", "--info", "-i", "--hydra-help", "--version", "--shell-completion", "-sc",
                    "--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--resolve", "--package",
                    "-p", "--experimental-rerun")
MULTIRUN_FLAGS = ("-m", "--multirun")


def initials(name: str) -> str:
    return "".join(part[0] for part in name.split("_") if part)


def close_matches(word: str, choices: list[str]) -> list[str]:
    """Spelling neighbours (difflib), and abbreviations either way (learning_rate ~ lr) of the last dotted part."""
    head, _, last = word.rpartition(".")
    same_parent = [c for c in choices if c.rpartition(".")[0] == head]
    abbreviated = [c for c in same_parent if len(last) > 1 and
                   (c.rpartition(".")[2] == initials(last) or initials(c.rpartition(".")[2]) == last)]
    by_name = {c.rpartition(".")[2]: c for c in same_parent}
    spelled = [by_name[n] for n in difflib.get_close_matches(last, list(by_name), n=3, cutoff=0.6)]
    elsewhere = difflib.get_close_matches(word, choices, n=3, cutoff=0.8)  # e.g. the right key under another group
    return list(dict.fromkeys(abbreviated + spelled + elsewhere))[:3]


def did_you_mean(word: str, choices: list[str]) -> str:
    close = close_matches(word, choices)
    return f" Did you mean {' or '.join(f'`{c}`' for c in close)}?" if close else ""


# -- composing as Hydra will -------------------------------------------------------------------------------
def compose(overrides: list[str], hydra: bool = False) -> DictConfig:
    """The configuration `python -m gvc OVERRIDES` runs (with the `hydra` node if asked)."""
    from hydra import compose as hydra_compose, initialize_config_dir

    register_configs()
    run_identity.register_resolvers()  # the Hydra node's gvc_trial_dir / gvc_trial_prefix
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF), job_name="gvc"):
        return hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=hydra)


def parse(overrides: list[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        return OverridesParser.create().parse_overrides(overrides)
    except OverrideParseException as e:
        raise ConfigError(f"cannot read the override: {str(e).splitlines()[0]}. Write overrides as key=value "
                          "(quote values with brackets or spaces in the shell)") from None


def dotted_keys(node: Any, prefix: str = "") -> list[str]:
    keys = []
    for key in node:
        full = f"{prefix}{key}"
        keys.append(full)
        if OmegaConf.is_dict(node[key]):
            keys += dotted_keys(node[key], f"{full}.")
    return keys


def _selected_loggers(parsed: list[Any]) -> set[str]:
    for o in parsed:
        if o.key_or_group == "logger" and not o.is_delete():
            value = o.value()
            return set(value if isinstance(value, list) else [value]) - {None}
    return set()


def _check_logger_keys(parsed: list[Any]) -> None:
    """`logger.mlflow.x=...` without `logger=mlflow` would crash Hydra's merge (the group is null by default)."""
    selected = _selected_loggers(parsed)
    for o in parsed:
        parts = o.key_or_group.split(".")
        if parts[0] == "logger" and len(parts) > 1 and parts[1] not in selected:
            name = parts[1]
            known = group_options("logger")
            if name not in known:
                raise ConfigError(f"{o.input_line}: there is no logger {name!r}; the loggers are {known}."
                                  f"{did_you_mean(name, known)}")
            raise ConfigError(f"{o.key_or_group} is a key of logger={name}, which is not selected; select it first: "
                              f"`logger={name} {o.input_line}`")


def _explain_composition(error: Exception, parsed: list[Any]) -> ConfigError:
    """A Hydra composition error as one line naming the key, with suggestions."""
    from hydra.errors import MissingConfigException

    text = str(error).splitlines()[0]
    if isinstance(error, MissingConfigException):  # an unknown option: "Could not find 'optimizer/sgdd'"
        for o in parsed:
            group = o.key_or_group
            if not o.is_delete() and "." not in group and isinstance(o.value(), str) and group in config_groups():
                options = group_options(group)
                if o.value() not in options:
                    return ConfigError(f"{group}={o.value()} is not an option of `{group}`; the options are "
                                       f"{options}.{did_you_mean(o.value(), options)}")
        return ConfigError(f"{text}. Run `python -m gvc list` to see what exists")
    cause = error.__cause__
    full_key = getattr(cause, "full_key", None)
    if cause is not None and type(cause).__name__ == "ConfigAttributeError" and full_key:
        if (elsewhere := _key_of_other_options(full_key, parsed)) is not None:
            return ConfigError(elsewhere)
        keys = dotted_keys(compose(_group_choices(parsed))) + [g for g in config_groups() if "/" not in g]
        return ConfigError(f"{full_key} is not a config key.{did_you_mean(full_key, keys)} "
                           "Run `python -m gvc --cfg job` to see every key")
    if cause is not None and full_key:  # a value of the wrong type: omegaconf says which and what was expected
        return ConfigError(f"{full_key}: {str(cause).splitlines()[0]}. Fix it with `{full_key}=...` on the command line")
    return ConfigError(f"{text}. Run `python -m gvc list` to see what exists")


def _chosen(parsed: list[Any], group: str) -> str:
    """The option of `group` this command line composes (its default where none is given)."""
    return str(compose(_group_choices(parsed), hydra=True).hydra.runtime.choices[group])


def _key_of_other_options(full_key: str, parsed: list[Any]) -> str | None:
    """`loss.k` under loss=auto, `model.ema_decay` on a VAE: a key that other options of its group (model, loss)
    have. Says which, instead of "not a config key"."""
    from dataclasses import fields

    group, _, key = full_key.partition(".")
    if group == "loss":
        from gvc.training import losses

        losses.discover()
        owners = [n for n, o in losses.LOSSES.items() if key in {f.name for f in fields(o.Config)}]
        if not owners:
            return None
        options = [o for o in group_options("loss") if _option_name("loss", o) in owners]
        first = options[0] if options else owners[0]
        return (f"{full_key} is a key of {' and '.join(f'loss={o}' for o in options or owners)}, not of the selected "
                f"loss={_chosen(parsed, 'loss')}; select it first: `loss={first} {full_key}=...`")
    if group == "model":
        from gvc.models import MODELS, discover

        discover()
        owners = [n for n, m in MODELS.items() if key in {f.name for f in fields(m.Config)}]
        if not owners:
            return None
        families = {MODELS[n].family for n in owners}
        who = f"{'GANs' if families == {'gan'} else 'VAEs'} only" if len(families) == 1 else "other models"
        return (f"{full_key} is a key of {who} ({', '.join(f'model={n}' for n in sorted(owners))}), not of the selected "
                f"model={_chosen(parsed, 'model')}")
    return None


def _option_name(group: str, option: str) -> str | None:
    """The `name:` an option's YAML sets (a preset such as loss=elbo_beta4 names the objective it configures)."""
    path = CONF / group / f"{option}.yaml"
    return OmegaConf.load(path).get("name") if path.is_file() else None


def _group_choices(parsed: list[Any]) -> list[str]:
    """The overrides that choose an option of a known config group (model=conv_vae), for the schema's keys."""
    groups = set(config_groups())
    return [o.input_line for o in parsed if o.key_or_group in groups and not o.is_add() and not o.is_delete()
            and not o.is_sweep_override()]


def _check_added_keys(parsed: list[Any]) -> None:
    """`+trainer.foo=1` adds a key the schema does not have: a typo, not a setting."""
    groups = set(config_groups())
    for o in parsed:
        key = o.key_or_group
        if o.is_add() and "." in key and key.split(".")[0] in groups and key.split(".")[0] != "sweeps":
            parent = key.rsplit(".", 1)[0]
            siblings = [f"{parent}.{k}" for k in OmegaConf.select(compose(_group_choices(parsed)), parent) or {}]
            if key not in siblings:
                raise ConfigError(f"{key} is not a config key (unknown, added with +).{did_you_mean(key, siblings)} "
                                  "Run `python -m gvc --cfg job` to see every key")


def _check_device(cfg: DictConfig, trainer: str | None = None) -> None:
    from gvc.training.device import resolve_device

    try:
        resolve_device(cfg.trainer.device)
    except ValueError as e:
        hint = " (trainer=gpu asks for CUDA; on this machine use trainer=cpu or trainer=cpu_fast)" \
            if cfg.trainer.device.startswith("cuda") and trainer == "gpu" else ""
        raise ConfigError(f"{e}{hint}") from None


def _check_loss_choice(full: DictConfig) -> None:
    """A loss option of the other family, named as typed (`loss=elbo_beta4`, not the objective it sets), with every
    option of the model's family (presets such as ns_r1 included)."""
    from gvc.models import MODELS, discover
    from gvc.training import losses

    choice, model = str(full.hydra.runtime.choices.get("loss")), full.model.name
    discover()
    losses.discover()
    if model not in MODELS or choice in ("auto", "None"):
        return
    family, name = MODELS[model].family, full.loss.get("name")
    if name not in losses.known() or name in losses.known(family):
        return
    fitting = [o for o in group_options("loss") if o == "auto" or _option_name("loss", o) in losses.known(family)]
    raise ConfigError(f"loss={choice} is not allowed: it is an objective of the {losses.get(name).family} family, "
                      f"and model={model} is a {family.upper()}; its objectives are {fitting}. Fix it with "
                      "`loss=...` on the command line.")


def _check_launcher(full: DictConfig) -> None:
    """A SLURM launcher launches sweeps only: without -m Hydra would ignore it and train here, on this machine."""
    launcher = str(full.hydra.runtime.choices.get("hydra/launcher"))
    if launcher.startswith(("slurm", "submitit_slurm")):
        raise ConfigError(f"hydra/launcher={launcher} submits sweeps only (-m); without -m this would train here, on "
                          "this machine. Add -m (`python -m gvc -m ...`) to submit it as a job, or drop the launcher "
                          "to train here")


def _warn_unlikely(cfg: DictConfig) -> None:
    """Settings that run, but not as a user would expect: one warning line each."""
    from gvc import datasets

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cfg.trainer.threads is not None and cfg.trainer.threads > cores:
        warn(f"trainer.threads={cfg.trainer.threads} is more than the {cores} cores this process may use; the "
             f"threads will share them, which is slower than trainer.threads={cores} (null chooses for you)")
    d = cfg.data
    images = d.subset if d.subset is not None else datasets.get(d.name).n_images(train=True)
    if d.batch_size > images:
        warn(f"data.batch_size={d.batch_size} is larger than the {images:,} training images"
             f"{f' (data.subset={d.subset})' if d.subset is not None else ''}: every step is one batch of all "
             f"{images:,}, an epoch one step")


def _check_slurm(hydra_cfg: DictConfig) -> None:
    """A SLURM launcher needs sbatch and a configured cluster: say which is missing, before anything is submitted."""
    target = str(OmegaConf.select(hydra_cfg, "hydra.launcher._target_", default="") or "")
    if "Slurm" not in target:
        return
    sbatch = shutil.which("sbatch")
    if sbatch is None:
        raise ConfigError("a SLURM launcher is selected (hydra/launcher=slurm_cpu or slurm_gpu) but `sbatch` is not on "
                          "PATH here. Run the sweep on a machine of your cluster (a login node), try it on this machine "
                          "with `scripts/slurm-local.sh up` and the `export SLURM_CONF=...` it prints, or choose a local "
                          "launcher: hydra/launcher=basic, joblib or submitit_local")
    conf = os.environ.get("SLURM_CONF")
    candidates = [Path(conf)] if conf else [Path("/etc/slurm/slurm.conf"), Path("/etc/slurm-llnl/slurm.conf")]
    if any(p.is_file() for p in candidates):
        return
    try:  # configless clusters have no local slurm.conf; scontrol finds theirs
        ok = subprocess.run(["scontrol", "show", "config"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        where = f"SLURM_CONF={conf} does not exist" if conf else "no slurm.conf in /etc/slurm/ and SLURM_CONF is unset"
        raise ConfigError(f"a SLURM launcher is selected and `sbatch` is installed ({sbatch}), but no cluster is "
                          f"configured: {where}. Export SLURM_CONF=/path/to/slurm.conf of your cluster (on this "
                          "machine `scripts/slurm-local.sh up` starts one and prints it), or choose a local launcher: "
                          "hydra/launcher=basic, joblib or submitit_local")


def _first_value(o: Any) -> str | None:
    """A sweep's override with its first value (its key and type are what every trial shares); others as given."""
    if not o.is_sweep_override():
        return o.input_line
    try:
        first = next(iter(o.sweep_string_iterator()))
    except Exception:  # noqa: BLE001 - ranges and intervals (the Optuna sweeper's) have no first element to compose
        return None
    return f"{o.get_key_element()}={first}"


def check(overrides: list[str], multirun: bool = False) -> DictConfig | None:
    """Refuse what Hydra would refuse, and what `validate` refuses, before Hydra runs; ConfigError if bad.

    A single run is validated in full (config, devices). A sweep is checked for what every trial shares
    (keys, options, the launcher); a bad value of one trial is that trial's recorded failure, as always.
    Returns the composed config of a single run.
    """
    from hydra.errors import HydraException

    parsed = parse(overrides)
    _check_logger_keys(parsed)
    try:
        full = compose([_first_value(o) for o in parsed if _first_value(o) is not None], hydra=True)
    except HydraException as e:
        raise _explain_composition(e, parsed) from None
    _check_added_keys(parsed)
    if multirun:  # only a sweep launches: a single run ignores hydra/launcher
        _check_slurm(full)
        check_data(full.data)  # data.root and your own images, as the first trial has them: before the sweep folder
        return None
    _check_launcher(full)
    cfg = OmegaConf.masked_copy(full, [k for k in full if k != "hydra"])
    _check_loss_choice(full)
    validate(cfg)
    _check_device(cfg, str(full.hydra.runtime.choices.get("trainer")))
    _warn_unlikely(cfg)
    return cfg


def main(argv: list[str], run_hydra) -> None:
    """Entry point of `python -m gvc`: help and list here, checks, then Hydra (`run_hydra()`)."""
    from gvc import listing as listings

    if listings.main(argv):  # gvc/__main__.py answers these before its heavy imports; here for other callers
        return
    if not any(a.split("=")[0] in HYDRA_ONLY_FLAGS for a in argv):
        multirun = any(a in MULTIRUN_FLAGS for a in argv)
        try:
            check([a for a in argv if not a.startswith("-")], multirun=multirun)
        except ConfigError as e:
            fail(str(e))
    run_hydra()


def check_eval_overrides(overrides: list[str], data: str) -> DictConfig:
    """The config for re-evaluating a run of data set `data`: only eval=... and eval.KEY=... may be given."""
    from gvc.config import check_evaluator
    from gvc.evaluation.config import as_eval_config

    for o in parse(overrides):
        if o.key_or_group.split(".")[0] != "eval":
            raise ConfigError(f"{o.input_line}: only the evaluation settings can be chosen here (eval=default|fast, "
                              "eval.KEY=VALUE); the model and its data come from the run's checkpoint")
    try:
        cfg = compose([f"data={data}", *overrides]) if (CONF / "data" / f"{data}.yaml").is_file() else compose(overrides)
    except Exception as e:  # noqa: BLE001 - Hydra's composition errors, explained as for training
        from hydra.errors import HydraException

        if isinstance(e, HydraException):
            raise _explain_composition(e, parse(overrides)) from None
        raise
    try:
        as_eval_config(cfg.eval)
    except ValueError as e:
        raise ConfigError(f"{e}. Fix it with `eval.KEY=...` on the command line") from None
    with_data = OmegaConf.merge(cfg, {"eval": {"enabled": True}})
    check_evaluator(with_data, data)
    return cfg
