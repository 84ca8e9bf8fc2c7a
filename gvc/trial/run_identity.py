"""A run is its config: which keys say what a run trained and measured, and whether a directory holds that run.

A run directory is resumed, or its result reported again, only when its recorded config matches the new
one on every key that changes what is trained or measured. What a key means is declared once, on its schema
field (`result=False` in gvc/knobs.py: gvc.config.execution_keys()); NOT_IDENTITY adds the groups that have no
schema of their own here (loggers, Hydra's node). Every other key counts, so a key added later is safe by
default: it is compared.

Used by gvc.trial.task (a single run: refuse before any compute, naming the keys and both values), by the
`gvc_trial_dir` resolver (a sweep: a re-used trial folder that holds another trial's run gets a fresh
folder) and by gvc.sweep.studies (an Optuna study named by what makes its trials comparable).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from gvc.trial import rundir, runlock

# Key prefixes outside the schema's metadata that change how or where a run is recorded, never what it trains.
NOT_IDENTITY: dict[str, str] = {
    "logger": "where the run is also recorded",
    "hydra": "Hydra's own settings",
}

# Key prefixes that count only while a switch is on in either config: evaluation settings of unevaluated runs
# measure nothing.
ONLY_WHEN: dict[str, str] = {"eval": "eval.enabled", "eval.along": "eval.along.enabled"}
# Keys added after runs were made, with the value that means what a run made before them did: a recorded config
# without the key is the same run as a new one with that value (a penalty on every GAN loss, off where an older
# gvc had none; evaluations along training, which older runs never made; no initial weights from another run).
BEFORE_THE_KEY: dict[str, Any] = {"loss.gp_weight": 0.0, "eval.along.enabled": False, "trainer.init_from": None}

ABSENT = "(absent)"


@functools.cache
def _execution_keys() -> frozenset[str]:
    from gvc.config import execution_keys  # the schema's `result=False` fields: how a run goes, not what it is

    return execution_keys()


def is_identity_key(key: str) -> bool:
    return key not in _execution_keys() and not any(key == k or key.startswith(k + ".") for k in NOT_IDENTITY)


def _switched_off(key: str, *configs: Mapping[str, Any]) -> bool:
    return any(key.startswith(prefix + ".") and key != switch and not any(c.get(switch, True) for c in configs)
               for prefix, switch in ONLY_WHEN.items())


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = list(value) if isinstance(value, tuple) else value
    return flat


def identity(config: Mapping[str, Any]) -> dict[str, Any]:
    """The flat `key: value` pairs that say what a run trains and measures."""
    return {k: v for k, v in _flatten(config).items() if is_identity_key(k)}


def config_differences(recorded: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """`key: RECORDED recorded, NEW now` for every identity key on which two configs differ (sorted)."""
    old, now = identity(recorded), identity(new)
    old.update({k: v for k, v in BEFORE_THE_KEY.items() if k not in old and k in now})
    return [f"{key}: {old.get(key, ABSENT)!r} recorded, {now.get(key, ABSENT)!r} now"
            for key in sorted(old.keys() | now.keys())
            if old.get(key, ABSENT) != now.get(key, ABSENT) and not _switched_off(key, old, now)]


def task_config(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The job's config as plain values, interpolations resolved, without Hydra's own node."""
    if not OmegaConf.is_config(cfg):
        return {k: v for k, v in cfg.items() if k != "hydra"}
    return {k: _plain(cfg, k) for k in cfg if k != "hydra"}


def _plain(cfg: DictConfig, key: str) -> Any:
    node = cfg._get_node(key)
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True)
    return cfg[key]


def recorded_config(run_dir: Path) -> dict[str, Any] | None:
    """What a run directory says it was run with: summary.json's `config`, else Hydra's .hydra/config.yaml."""
    summary = rundir.read_summary(run_dir)
    if summary and isinstance(summary.get("config"), dict):
        return summary["config"]
    path = Path(run_dir) / rundir.HYDRA_CONFIG
    if not path.is_file():
        return None
    saved = OmegaConf.load(path)
    try:
        return task_config(saved)
    except Exception:  # noqa: BLE001 - an interpolation that needs Hydra's runtime: compare what is written
        return {k: v for k, v in OmegaConf.to_container(saved, resolve=False).items() if k != "hydra"}


def same_run_differences(run_dir: Path, cfg: DictConfig | Mapping[str, Any]) -> list[str] | None:
    """None if `run_dir` holds no recorded run; else the identity keys on which it differs from `cfg`."""
    recorded = recorded_config(run_dir)
    return None if recorded is None else config_differences(recorded, task_config(cfg))


def refusal(run_dir: Path, differences: list[str]) -> str:
    added = [d.split(":")[0] for d in differences if f"{ABSENT!r} recorded" in d]
    older = (f" The keys recorded as {ABSENT} ({', '.join(added)}) did not exist in the gvc that made this run: "
             "resume it with that version of gvc; this one can still analyse it (python -m analysis), sample from "
             "it (python -m gvc.sample) and re-evaluate it (python -m gvc.evaluate).") if added else ""
    return (f"{run_dir} holds a run of another configuration, so it is neither resumed nor reported as this one; "
            f"it differs in {'; '.join(differences)}. Resume it with the recorded values, or choose a new "
            f"hydra.run.dir for this configuration.{older}")


def fingerprint(values: Mapping[str, Any], length: int = 10) -> str:
    """A short stable hash of plain values (for names that must differ when the values do)."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def trial_dir(name: str, *, _root_: DictConfig) -> str:
    """The `gvc_trial_dir` resolver of hydra.sweep.subdir: `name` unless that folder holds another trial's run
    or another live process holds it (gvc.trial.runlock), then `name-2`, `name-3`, ... (the first that is free or holds
    this very config, which a resumed sweep finds).

    Evaluated where the job runs, before Hydra writes .hydra/ into the folder, so no trial's record is
    overwritten by another's. The folder it returns is claimed by this process (gvc.trial.task releases it when the
    trial ends): trials racing for one name each get their own folder.
    """
    sweep_dir = Path(str(_root_.hydra.sweep.dir))
    new = task_config(_root_)
    candidate, n = name, 1
    while True:
        folder = sweep_dir / candidate
        try:
            created = runlock.claim(folder)
        except runlock.RunBusy:
            created = None
        if created is not None:
            recorded = recorded_config(folder) if rundir.is_run_dir(folder) else None
            if not rundir.is_run_dir(folder) or (recorded is not None and not config_differences(recorded, new)):
                return candidate
            runlock.release(folder)
        n += 1
        candidate = f"{name}-{n}"


def trial_prefix(*, _root_: DictConfig) -> str:
    """The `gvc_trial_prefix` resolver of the job log format: `[TRIAL_FOLDER]` in a sweep, so that parallel
    trials' interleaved lines say whose they are; nothing in a single run."""
    hydra = _root_.hydra
    if hydra.mode is None or not str(hydra.mode).endswith("MULTIRUN"):
        return ""
    return f"[{Path(str(hydra.runtime.output_dir)).name}]"


def register_resolvers() -> None:
    """The resolvers conf/config.yaml's Hydra node uses: `gvc_trial_dir` (hydra.sweep.subdir) and
    `gvc_trial_prefix` (the job log format). Called by the entry points (gvc.cli, gvc/__main__.py) beside
    gvc.config.register_configs, which must not import this module (it reads the schema)."""
    OmegaConf.register_new_resolver("gvc_trial_dir", trial_dir, replace=True)
    OmegaConf.register_new_resolver("gvc_trial_prefix", trial_prefix, replace=True)
