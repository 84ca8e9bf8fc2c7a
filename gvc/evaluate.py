"""`python -m gvc.evaluate RUN_DIR [eval=default] [eval.KEY=VALUE ...]`: re-evaluate a trained run's checkpoint.

Measures the run's last checkpoint (`--checkpoint best`: the best one along training) with the `eval` settings given (as in training: conf/eval/, default
N = 10,000) against its own data set's evaluator, and writes the result as a new file
RUN_DIR/evaluations/TIMESTAMP_stepK.json. The training-time numbers in summary.json are never touched;
`python -m analysis --metrics latest` reports the newest re-evaluation of each run instead of them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from gvc.cli import check_eval_overrides
from gvc.errors import ConfigError, fail
from gvc.trial import rundir
from gvc.trial.rundir import CheckpointError
from gvc.trial.trained import TrainedRun, load_trained


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gvc.evaluate", description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory with a checkpoint")
    parser.add_argument("overrides", nargs="*", metavar="eval=...",
                        help="the evaluation settings: eval=default|fast and eval.KEY=VALUE (see conf/eval/)")
    parser.add_argument("--checkpoint", choices=("last", "best"), default="last",
                        help="last (default): the final weights; best: the best evaluation along training (eval.along)")
    parser.add_argument("--ema", action="store_true", help="evaluate the EMA of the generator's weights (model.ema_decay)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or mps")
    return parser.parse_args(argv)


def evaluate_run(trained: TrainedRun, eval_cfg: Any, device: str, data_root: str,
                 overrides: list[str] | None = None) -> Path:
    """Evaluate the trained model and write RUN/evaluations/TIMESTAMP_stepK.json; returns its path."""
    from gvc.evaluation.classifier import evaluator_identity
    from gvc.evaluation.evaluate import evaluate
    from gvc.training.device import resolve_device

    target = resolve_device(device)
    started = time.perf_counter()
    metrics = evaluate(trained.model.to(target), eval_cfg, target, data_root, dataset=trained.data,
                       binarize=str((trained.config.get("data") or {}).get("binarize", "none")))  # as it trained
    record = {
        "evaluated_at": dt.datetime.now().isoformat(timespec="seconds"),
        "checkpoint": {"name": trained.checkpoint, "epoch": trained.epoch, "step": trained.step, "ema": trained.ema},
        "data": trained.data,
        "evaluator": evaluator_identity(trained.data),
        "eval": OmegaConf.to_container(eval_cfg, resolve=True),
        "overrides": list(overrides or []),
        "device": str(target),
        "eval_time_s": round(time.perf_counter() - started, 3),
        "metrics": metrics,
    }
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    folder = trained.run_dir / rundir.EVALUATIONS
    which = "_best" if trained.checkpoint == "best" else ""  # never taken for the run's final numbers (--metrics latest)
    path, k = folder / f"{stamp}_step{trained.step}{which}.json", 1
    while path.exists():  # two evaluations within a second: never overwrite the first
        k += 1
        path = folder / f"{stamp}_step{trained.step}{which}_{k}.json"
    text = json.dumps(rundir._json_safe(record), indent=2) + "\n"
    rundir.atomic_write_bytes(path, lambda f: f.write(text.encode()))
    return path


def main(argv: list[str] | None = None) -> int:
    from gvc.data import DataError
    from gvc.evaluation.classifier import EvaluatorError

    args = parse_args(argv)
    try:
        trained = load_trained(args.run_dir, ema=args.ema, checkpoint=args.checkpoint)
        if (trained.summary.get("status") or "running") == "running":
            raise ConfigError(f"{trained.run_dir} is still running, or was stopped without finishing (status "
                              f"{trained.summary.get('status', 'unknown')}); finish it with trainer.resume=true, then "
                              "evaluate it")
        cfg = check_eval_overrides(args.overrides, trained.data)
        root = str((trained.config.get("data") or {}).get("root") or cfg.data.root)
        root = root if Path(root).expanduser().is_dir() else cfg.data.root  # a run made on another machine
        path = evaluate_run(trained, cfg.eval, args.device, root, args.overrides)
    except (ConfigError, CheckpointError, DataError, EvaluatorError, ValueError) as e:
        fail(str(e))
    record = json.loads(path.read_text())
    shown = "  ".join(f"{k} {record['metrics'][k]:.4g}" for k in ("fid", "precision", "recall", "coverage", "test_nelbo")
                      if k in record["metrics"])
    print(f"{path}\n{shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
