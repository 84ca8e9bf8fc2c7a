"""`python -m analysis [PATH ...]`: build the comparison report and print the path of its report.html."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger("analysis")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Compare gvc runs: tables, figures, image grids and report.md / report.html.",
        epilog="With no PATH: the latest multirun under ./multirun, else the newest run of each model under "
               "./outputs (runs with a summary.json only: a refused or never-started run is not a run). An existing report from the same inputs is refreshed; any other non-empty output "
               "directory is left alone and a timestamped one is written beside it (--force replaces a gvc report).",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="run directories, multirun directories, or any directory holding them")
    parser.add_argument("--out", type=Path, default=None,
                        help="report directory (default: report/ in the input, or in the inputs' common parent)")
    parser.add_argument("--force", action="store_true", help="replace an existing gvc report built from other inputs")
    parser.add_argument("--z-seed", type=int, default=0,
                        help="seed of the shared latent vectors for regenerated images (default 0: the fixed z of "
                             "seed-0 runs)")
    parser.add_argument("--metrics", choices=("training", "latest"), default="training",
                        help="training: the numbers measured when training ended (summary.json, default); latest: "
                             "each run's newest re-evaluation (python -m gvc.evaluate), where it has one")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the report path")
    return parser.parse_args(argv)


def finished_inputs(cwd: Path | None = None) -> list[Path]:
    """No PATH given: the latest multirun holding a run with a summary, else the newest such run of each model."""
    from analysis.collect import NoRunsError, find_run_dirs, latest_multirun
    from gvc.trial import rundir
    cwd = Path(cwd or Path.cwd())
    multirun = latest_multirun(cwd / "multirun", finished_only=True)
    if multirun is not None:
        runs = [r for r in find_run_dirs(multirun) if rundir.read_summary(r) is not None]
        log.info("reporting the newest sweep, %s (%d run%s, by the runs' recorded start times); pass paths to "
                 "report others", multirun, len(runs), "" if len(runs) == 1 else "s")
        return [multirun]
    newest: dict[str, tuple[str, Path]] = {}
    for run_dir in find_run_dirs(cwd / "outputs") if (cwd / "outputs").is_dir() else []:
        summary = rundir.read_summary(run_dir)
        if summary is None:  # Hydra's folder of a refused or never-started run
            continue
        model, started = str(summary.get("model") or run_dir.parent.name), str(summary.get("started_at") or "")
        if model not in newest or started > newest[model][0]:
            newest[model] = (started, run_dir)
    if not newest:
        raise NoRunsError(f"no finished runs found: neither {cwd / 'multirun'} nor {cwd / 'outputs'} holds a run "
                          f"directory with a {rundir.SUMMARY}; pass run or multirun directories as arguments")
    log.info("no sweep under %s: reporting the newest run of each model (by summary.json's started_at): %s",
             cwd / "multirun", ", ".join(str(p) for _, p in sorted(newest.values())))
    return sorted(p for _, p in newest.values())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)  # before the heavy imports: --help and a usage error answer at once
    from analysis.collect import NoRunsError
    from analysis.report import ReportError, build_report

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="analysis: %(message)s",
                        stream=sys.stderr)
    try:
        paths = args.paths or finished_inputs()
        out = build_report(paths, args.out, force=args.force, z_seed=args.z_seed, metrics=args.metrics)
    except (NoRunsError, ReportError) as e:
        print(f"analysis: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. an input directory one cannot write a report into: say so, without a traceback
        print(f"analysis: error: cannot write the report: {e}", file=sys.stderr)
        return 1
    print(out / "report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
