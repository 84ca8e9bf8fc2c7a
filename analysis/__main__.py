"""`python -m analysis [PATH ...]`: build the comparison report and print the path of its report.html."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from analysis.collect import NoRunsError
from analysis.report import ReportError, build_report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Compare gvc runs: tables, figures, image grids and report.md / report.html.",
        epilog="With no PATH: the latest multirun under ./multirun, else the newest run of each model under "
               "./outputs. An existing report from the same inputs is refreshed; any other non-empty output "
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
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the report path")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="analysis: %(message)s",
                        stream=sys.stderr)
    try:
        out = build_report(args.paths, args.out, force=args.force, z_seed=args.z_seed)
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
