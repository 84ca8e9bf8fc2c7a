"""Compare gvc runs: tables, figures, image grids and a report from run and multirun directories.

    from analysis import build_report
    report_dir = build_report([Path("multirun/2026-01-01/12-00-00")])   # -> .../report (report.html inside)

or `python -m analysis [PATH ...]`. Reads run directories only (gvc.trial.rundir's contract); never trains.

The names below are imported when first used (PEP 562), so `python -m analysis --help` answers without
importing pandas, matplotlib or torch.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_HOMES = {"build_report": "analysis.report", "ReportError": "analysis.report", "expected_best_of_n": "analysis.stats",
          **{name: "analysis.collect" for name in ("Collection", "NoRunsError", "Run", "collect", "default_inputs",
                                                    "find_run_dirs")}}

__all__ = ["build_report", "collect", "Collection", "Run", "NoRunsError", "ReportError", "default_inputs",
           "find_run_dirs", "expected_best_of_n"]


class _Package(types.ModuleType):
    """`analysis.collect` stays the function `collect`, as when these names were imported eagerly: the import
    system sets a package's attribute to a submodule of the same name once that submodule has loaded."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _HOMES.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Any:
        if name not in _HOMES:
            raise AttributeError(f"module 'analysis' has no attribute {name!r}")
        value = getattr(importlib.import_module(_HOMES[name]), name)
        setattr(self, name, value)
        return value


sys.modules[__name__].__class__ = _Package
