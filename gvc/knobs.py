"""What a config key means, declared once on its schema field: `field(metadata=knob_meta(...))`.

    hyperparameter  a setting of the training a search varies (analysis' swept parameters, the HParams table)
    architecture    changes the networks' shapes: a checkpoint made with another value cannot be loaded
    paper           the paper's value (the field's default unless declared; NO_PAPER_VALUE where it has none)
    result          changes what is trained or measured: two runs differing in it are different configurations
                    (the seed does too, but runs that differ only in their seed are one configuration's repeats)

Unmarked fields are hyperparameters that change the result, not architecture, with their default as the paper's
value. `gvc.config.knobs(cfg)` reads these for a composed config. Imports no torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING as DC_MISSING
from dataclasses import dataclass
from typing import Any

NO_PAPER_VALUE = "<no paper value>"  # the paper does not set this knob (or the value is a reference elsewhere)
SEED_KEY = "trainer.seed"


@dataclass(frozen=True)
class KnobMeta:
    hyperparameter: bool = True
    architecture: bool = False
    paper: Any = NO_PAPER_VALUE
    result: bool = True
    help: str = ""


def knob_meta(*, hyperparameter: bool = True, architecture: bool = False, paper: Any = NO_PAPER_VALUE,
              result: bool = True, help: str = "") -> dict[str, Any]:
    """The metadata dict for `field(metadata=...)` (only the keys given, so field defaults still apply)."""
    meta: dict[str, Any] = {"hyperparameter": hyperparameter, "architecture": architecture, "result": result}
    if paper is not NO_PAPER_VALUE:
        meta["paper"] = paper
    if help:
        meta["help"] = help
    return meta


# Execution and bookkeeping: how a run is executed or recorded, never what it learns or measures.
EXECUTION = knob_meta(hyperparameter=False, result=False)
# Changes the networks' shapes (a checkpoint of another value cannot be loaded).
ARCHITECTURE = knob_meta(architecture=True)
# Measurement settings and identity axes (data set, model, precision): change the numbers, not searched over.
MEASURED = knob_meta(hyperparameter=False, result=True)


def field_default(f: dataclasses.Field) -> Any:
    if f.default is not DC_MISSING:
        return f.default
    if f.default_factory is not DC_MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return NO_PAPER_VALUE


def schema_knobs(schema: type, prefix: str) -> dict[str, KnobMeta]:
    """Every leaf field of a config dataclass (nested dataclasses flattened to dotted keys) with its meaning."""
    out: dict[str, KnobMeta] = {}
    for f in dataclasses.fields(schema):
        key = f"{prefix}{f.name}"
        default = field_default(f)
        if dataclasses.is_dataclass(default) and not isinstance(default, type):
            out.update(schema_knobs(type(default), key + "."))
            continue
        meta = dict(f.metadata)
        paper = meta.pop("paper", default if _is_value(default) else NO_PAPER_VALUE)
        out[key] = KnobMeta(paper=paper, **{k: v for k, v in meta.items() if k in ("hyperparameter", "architecture",
                                                                                    "result", "help")})
    return out


def _is_value(default: Any) -> bool:
    # OmegaConf's MISSING ("???") means the value comes from elsewhere (the model's paper lr): no paper value here.
    return not (isinstance(default, str) and default == "???")
