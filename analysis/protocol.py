"""How runs depart from the paper's protocol, read from each run's own config and summary, never assumed.

The paper's protocol, for every model: Adam with PyTorch's default betas (0.9, 0.999) and no weight decay,
the model's own learning rate and batch size (`model.paper.lr`, `model.paper.batch_size` in the run's config),
100 epochs of the full training set, in fp32, the family's objective (non-saturating BCE for GANs, the Bernoulli
ELBO for VAEs), and every model and objective knob at the paper's value as its schema field declares it
(gvc/knobs.py: dropout, widths, EMA, beta, d_steps, ...). A setting a run's config does not record (a run made by an older
gvc) is "not recorded", never guessed.

Works on a run table (Collection.table, or the rows of one data set), like the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from functools import lru_cache, partial

import pandas as pd
from omegaconf import OmegaConf

from gvc.knobs import NO_PAPER_VALUE

from analysis.tables import COMPLETED, fmt, order_models

PAPER_EPOCHS = 100
PAPER_OPTIMIZER = "adam"
PAPER_BETAS = (0.9, 0.999)  # PyTorch's Adam defaults, as the paper's notebooks use
PAPER_WEIGHT_DECAY = 0.0
PAPER_PRECISION = "fp32"
PAPER_INITIAL_WEIGHTS = "random (seeded)"
BUDGET_KEYS = ("trainer.max_steps", "trainer.max_images", "trainer.time_budget_s", "trainer.cpu_budget_s")  # beside epochs
NOT_RECORDED = "not recorded"
MAX_VALUES = 4  # distinct values listed per model before "…"


def _get(row: pd.Series, key: str) -> Any:
    """The row's value for `key`; None where the key is absent or null."""
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _close(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return str(a) == str(b)


def _betas(row: pd.Series) -> tuple[float, float] | None:
    b1, b2 = _get(row, "optimizer.beta1"), _get(row, "optimizer.beta2")
    if b1 is not None and b2 is not None:
        return float(b1), float(b2)
    old = _get(row, "optimizer.betas")  # gvc before beta1/beta2 keys: a list, flattened to "[0.9, 0.999]"
    if isinstance(old, str) and old.startswith("["):
        try:
            b1, b2 = (float(v) for v in old.strip("[]").split(","))
            return b1, b2
        except ValueError:
            return None
    return None


def _adam_betas(row: pd.Series) -> tuple[float, float] | None:
    # betas belong to Adam-like optimizers only; RMSprop's departure is already the optimizer row
    name = _get(row, "optimizer.name")
    return _betas(row) if name is None or str(name).startswith("adam") else None


def _budget(row: pd.Series) -> str | None:
    epochs = _get(row, "trainer.epochs")
    if epochs is None:
        return None
    limits = [f"epochs={fmt(epochs)}"]
    limits += [f"{key.split('.')[1]}={fmt(_get(row, key))}" for key in BUDGET_KEYS if _get(row, key) is not None]
    return ", ".join(limits)


def _trained(row: pd.Series) -> float | str | None:
    """Epochs of data seen (a partial last epoch by its share); where that share is unknown (a partial epoch on a
    training set of unrecorded size) the text '<E', E the epochs begun."""
    if row.get("status") != COMPLETED:
        return None  # a run that stopped early is a failure, listed elsewhere, not a budget
    if _get(row, "epochs_trained") is not None:
        return float(_get(row, "epochs_trained"))
    begun = _get(row, "epochs")
    if begun is None:
        return None
    return f"<{fmt(begun)}" if _get(row, "last_epoch_partial") == 1 else float(begun)


def _trained_enough(trained: float | str, paper: float) -> bool:
    # '<E' is fewer than E epochs: enough only if E - 1 full epochs already are
    return float(trained[1:]) - 1 >= paper if isinstance(trained, str) else float(trained) >= paper


def _precision(row: pd.Series) -> str | None:
    # the numeric path training took (trainer.precision=auto picks one and summary.json records it), else the config's
    precision = _get(row, "precision_used") or _get(row, "trainer.precision")
    if precision is None:
        return None
    tf32 = bool(_get(row, "trainer.tf32")) and str(_get(row, "device") or "").startswith("cuda")  # CUDA only
    return f"{precision} + TF32 matmuls" if tf32 else str(precision)


def _subset(row: pd.Series) -> str | None:
    if _get(row, "data.batch_size") is None:
        return None  # no data config at all: unknown, not "the full set"
    subset = _get(row, "data.subset")
    return "full training set" if subset is None else f"first {fmt(subset)} images"


def _initial_weights(row: pd.Series) -> str | None:
    # trainer.init_from (gvc before it: a random start, wherever the run's trainer config is recorded)
    source = _get(row, "trainer.init_from")
    if source is not None:
        return f"from {source}"
    return PAPER_INITIAL_WEIGHTS if _get(row, "trainer.epochs") is not None else None


@dataclass(frozen=True)
class Setting:
    """One aspect of the protocol: a run's value, the paper's value for that run, and whether they agree."""

    name: str
    value: Callable[[pd.Series], Any]
    paper: Callable[[pd.Series], Any]
    agrees: Callable[[Any, Any], bool] = _close
    show: Callable[[Any], str] = fmt


def _show_betas(b: Any) -> str:
    return f"({fmt(b[0])}, {fmt(b[1])})"


FIXED_SETTINGS = (  # then the objective and every knob with a paper value: settings()
    Setting("learning rate", lambda r: _get(r, "optimizer.lr"), lambda r: _get(r, "model.paper.lr")),
    Setting("batch size", lambda r: _get(r, "data.batch_size"), lambda r: _get(r, "model.paper.batch_size")),
    Setting("optimizer", lambda r: _get(r, "optimizer.name"), lambda r: PAPER_OPTIMIZER),
    Setting("Adam betas", _adam_betas, lambda r: PAPER_BETAS,
            agrees=lambda a, b: _close(a[0], b[0]) and _close(a[1], b[1]), show=_show_betas),
    Setting("weight decay", lambda r: _get(r, "optimizer.weight_decay"), lambda r: PAPER_WEIGHT_DECAY),
    Setting("training budget", _budget, lambda r: f"epochs={PAPER_EPOCHS}", agrees=lambda a, b: a == b),
    Setting("epochs trained", _trained, lambda r: PAPER_EPOCHS, agrees=_trained_enough),
    Setting("training data", _subset, lambda r: "full training set", agrees=lambda a, b: a == b),
    Setting("precision", _precision, lambda r: PAPER_PRECISION, agrees=lambda a, b: a == b),
    Setting("initial weights", _initial_weights, lambda r: PAPER_INITIAL_WEIGHTS, agrees=lambda a, b: a == b),
)


def _objective(row: pd.Series) -> str | None:
    """The objective the run trained: summary.json's (auto resolved), else its config's loss.name; a config
    without a `loss` section was made by a gvc that had only the paper's objective."""
    name = _get(row, "loss_name") or _get(row, "loss.name")
    return _paper_objective(row) if name in (None, "auto") else str(name)


def _paper_objective(row: pd.Series) -> str | None:
    from gvc.training.losses import PAPER_LOSS

    return PAPER_LOSS.get(str(row.get("family")))


@lru_cache(maxsize=None)
def _paper_values(model: str, objective: str | None) -> dict[str, object]:
    """The paper's value of every model and objective knob of this model trained with this objective."""
    from gvc.config import knobs

    cfg = OmegaConf.create({"model": {"name": model}, "loss": {"name": objective or "auto"}})
    try:
        table = knobs(cfg)
    except ValueError:  # a model or objective this gvc does not know
        return {}
    return {k: _null(m.paper) for k, m in table.items() if k.startswith(("model.", "loss.")) and m.hyperparameter
            and m.paper is not NO_PAPER_VALUE and k != "loss.name"}


def _null(value: object) -> object:
    return "null" if value is None else value  # a knob that is off (EMA: null) is a value, not "not recorded"


def knob_settings() -> tuple[Setting, ...]:
    """One Setting per model / objective knob that has a paper value, from the schema fields' metadata."""
    from gvc.config import knobs

    keys = [k for k, m in knobs().items() if k.startswith(("model.", "loss.")) and m.hyperparameter and k != "loss.name"]
    return tuple(Setting(key, partial(_knob_value, key=key),
                         lambda r, k=key: _paper_values(r["model"], _objective(r)).get(k, None),
                         show=_show_knob) for key in keys)


def _knob_value(row: pd.Series, key: str) -> object:
    """The run's value of a knob its model / objective has (None where it has none); `loss=auto` records no
    knobs: it trains the family's objective at its defaults, the paper's values."""
    paper = _paper_values(row["model"], _objective(row))
    if key not in paper:
        return None
    if key.startswith("loss.") and (_get(row, "loss.name") or "auto") == "auto" and _get(row, key) is None:
        return paper[key]
    return _null(_get(row, key))


def _show_knob(value: object) -> str:
    return "null" if value is None else fmt(value)


@lru_cache(maxsize=None)
def settings() -> tuple[Setting, ...]:
    """Every setting the departures table compares. On first use, not on import: the knobs are read from the
    model and objective registries, whose modules import torch."""
    return FIXED_SETTINGS + (Setting("objective", _objective, _paper_objective, agrees=lambda a, b: a == b),) + \
        knob_settings()


def __getattr__(name: str) -> Any:
    if name == "SETTINGS":  # the name settings() had as a constant
        return settings()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


LONG_COLUMNS = ["model", "setting", "value", "paper", "departs", "runs"]


def _span(values: list[float], show: Callable[[float], str]) -> str:
    lo, hi = min(values), max(values)
    return show(lo) if show(lo) == show(hi) else f"{show(lo)}–{show(hi)}"


def _trained_text(runs: pd.DataFrame, trained: list[float | str]) -> tuple[str, str]:
    """('1.25–1.5', ' (1,600–1,920 images)'): epochs of data seen by completed runs (see _trained), and the images
    they saw ('' where not recorded)."""
    numbers = [v for v in trained if not isinstance(v, str)]
    epochs = (_span(numbers, lambda x: fmt(x, 3)) if len(numbers) == len(trained) else
              _listing([v if isinstance(v, str) else fmt(v, 3) for v in trained]))
    done = runs[runs["status"] == COMPLETED]
    images = [float(i) for i in done["images_seen"].dropna()] if "images_seen" in done.columns else []
    return epochs, (f" ({_span(images, lambda x: f'{x:,.0f}')} images)" if images else "")


def epochs_trained_text(table: pd.DataFrame) -> str:
    """How long the completed runs in `table` trained, e.g. '<1 epoch (192–12,480 images)'; '' if unknown."""
    trained = [v for v in (_trained(r) for _, r in table.iterrows()) if v is not None]
    if not trained:
        return ""
    epochs, images = _trained_text(table, trained)
    return f"{epochs} epoch{'' if epochs in ('1', '<1') else 's'}{images}"


def _listing(values: list[str]) -> str:
    distinct = list(dict.fromkeys(values))
    return ", ".join(distinct[:MAX_VALUES]) + (", …" if len(distinct) > MAX_VALUES else "")


def departures_long(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, setting): the values its runs used, the paper's value(s), whether any run departs
    (None when no run of the model records the setting), and how many runs recorded it."""
    rows = []
    for model in order_models(table["model"]):
        runs = table[table["model"] == model]
        for s in settings():
            pairs = [(v, p) for v, p in ((s.value(r), s.paper(r)) for _, r in runs.iterrows()) if v is not None]
            if s.name.startswith(("model.", "loss.")) and not pairs:
                continue  # a knob this model (or its objective) does not have: nothing to say, not "not recorded"
            known = [(v, p) for v, p in pairs if p is not None]
            departs = any(not s.agrees(v, p) for v, p in known) if known else None
            if s.name == "epochs trained" and pairs:  # a range reads better than a list of epoch counts
                value = "".join(_trained_text(runs, [v for v, _ in pairs]))
            else:
                value = _listing([s.show(v) for v, _ in pairs]) if pairs else NOT_RECORDED
            paper = _listing([s.show(p) for _, p in known]) if known else NOT_RECORDED
            rows.append({"model": model, "setting": s.name, "value": value, "paper": paper, "departs": departs,
                         "runs": len(pairs)})
    out = pd.DataFrame(rows, columns=LONG_COLUMNS)
    out["departs"] = pd.Series([r["departs"] for r in rows], index=out.index, dtype=object)  # True/False/None
    return out


def stopped_by(table: pd.DataFrame, model: str) -> str:
    """Which budgets ended the model's completed runs, e.g. 'time_budget_s (3)'; '' where none recorded it."""
    runs = table[(table["model"] == model) & (table["status"] == COMPLETED)]
    ended = [str(v) for v in runs.get("stopped_by", pd.Series(dtype=str)) if isinstance(v, str) and v]
    counts = pd.Series(ended, dtype=str).value_counts(sort=False)
    return ", ".join(f"{name} ({n})" for name, n in counts.items())


def departures_table(table: pd.DataFrame) -> pd.DataFrame:
    """Settings as rows, models as columns, only settings in which some model departs or is not recorded.

    A departing cell reads 'VALUE (paper: PAPER)'; an agreeing one 'VALUE (as paper)'."""
    long = departures_long(table)
    models = order_models(table["model"])
    shown = [s.name for s in settings() if (long.loc[long["setting"] == s.name, "departs"] != False).any()]  # noqa: E712
    out = pd.DataFrame(index=shown, columns=models, dtype=object)
    for _, r in long[long["setting"].isin(shown)].iterrows():
        if r["departs"] is None:
            cell = NOT_RECORDED if r["value"] == NOT_RECORDED else f"{r['value']} (paper: not recorded)"
        elif r["departs"]:
            cell = f"{r['value']} (paper: {r['paper']})"
        else:
            cell = f"{r['value']} (as paper)"
        if r["setting"] == "epochs trained":
            ended = stopped_by(table, r["model"])
            cell += f"; stopped by {ended}" if ended else ""
        out.loc[r["setting"], r["model"]] = cell
    out.index.name = "setting"
    return out.fillna("")


def departure_summary(table: pd.DataFrame) -> str:
    """One sentence for the top of the report: in which settings which models depart from the paper."""
    long = departures_long(table)
    models = order_models(table["model"])
    parts, unknown = [], []
    for s in settings():
        rows = long[long["setting"] == s.name]
        departing = [m for m, d in zip(rows["model"], rows["departs"]) if d is not None and bool(d)]
        if departing:
            who = "all models" if len(departing) == len(models) and len(models) > 1 else ", ".join(departing)
            parts.append(f"{s.name} ({who})")
        if any(d is None for d in rows["departs"]):
            unknown.append(s.name)
    text = ("These runs depart from the paper's protocol in: " + "; ".join(parts) + "." if parts else
            "These runs follow the paper's protocol in every setting their configs record.")
    if unknown:
        text += f" Not recorded by some runs' configs: {', '.join(unknown)}."
    return text
