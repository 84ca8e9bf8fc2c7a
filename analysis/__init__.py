"""Compare gvc runs: tables, figures, image grids and a report from run and multirun directories.

    from analysis import build_report
    report_dir = build_report([Path("multirun/2026-01-01/12-00-00")])   # -> .../report (report.html inside)

or `python -m analysis [PATH ...]`. Reads run directories only (gvc.rundir's contract); never trains.
"""

from analysis.collect import Collection, NoRunsError, Run, collect, default_inputs, find_run_dirs
from analysis.report import ReportError, build_report
from analysis.stats import expected_best_of_n

__all__ = ["build_report", "collect", "Collection", "Run", "NoRunsError", "ReportError", "default_inputs",
           "find_run_dirs", "expected_best_of_n"]
