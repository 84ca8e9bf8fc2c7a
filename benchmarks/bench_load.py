"""Runs beside each other: does a default gvc run degrade gracefully when another busy process shares the CPU?

    python benchmarks/bench_load.py [--models linear_gan conv_vae] [--images 48000 6000] [--old-pair]

For each model it starts real `python -m gvc` runs (real MNIST, no evaluation) and reads their training
speed (images per second of training time) from summary.json:
- alone, torch's default threads (one per core: gvc's default before gvc/threads.py), the baseline;
- alone, gvc's default (trainer.threads=null: gvc.threads.choose_threads);
- two default runs started together;
- with --old-pair, also two runs at torch's default threads started together (what happened before).
Targets (issue 18.4): alone >= 0.97x the baseline; the pair's combined speed >= 0.9x one run alone.
Other processes' CPU use is sampled before each measurement and printed: on a shared machine say it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gvc.threads import busy_cores, usable_cores  # noqa: E402
from gvc.trial import rundir  # noqa: E402


def start(model: str, images: int, threads: str, out: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "gvc", f"model={model}", f"trainer.max_images={images}", "trainer.epochs=1000",
            "eval.enabled=false", "trainer.progress=false", "data.test_subset=256", "trainer.sample_every=1000",
            f"trainer.threads={threads}", f"hydra.run.dir={out}"]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}  # let torch and gvc choose
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def speeds(model: str, images: int, threads: str, n: int, work: Path) -> tuple[list[float], list[int]]:
    """Images/s of `n` runs started together, and the thread counts they used."""
    outs = [work / f"{model}_{threads}_{n}_{i}_{time.monotonic_ns()}" for i in range(n)]
    procs = [start(model, images, threads, out) for out in outs]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a run failed:\n{err[-2000:]}")
    summaries = [rundir.read_summary(out) for out in outs]
    return [s["images_per_s"] for s in summaries], [s["threads"] for s in summaries]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["linear_gan", "conv_vae"])
    parser.add_argument("--images", nargs="+", type=int, default=[48000, 6000], help="training images per run")
    parser.add_argument("--old-pair", action="store_true", help="also two runs at torch's default threads")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args()
    cores = usable_cores()
    print(f"{cores} usable cores, {os.cpu_count()} CPUs; torch's default = {cores} threads")
    results = {}
    with tempfile.TemporaryDirectory(prefix="gvc-bench-load-") as tmp:
        for model, images in zip(args.models, args.images):
            row: dict[str, object] = {"images": images}
            cases = [("baseline_alone", str(cores), 1), ("default_alone", "null", 1), ("default_pair", "null", 2)]
            if args.old_pair:
                cases.append(("old_pair", str(cores), 2))
            for name, threads, n in cases:
                load = busy_cores(1.0)
                speed, used = speeds(model, images, threads, n, Path(tmp))
                row[name] = {"images_per_s": speed, "threads": used, "other_load_cores": round(load, 2)}
                print(f"{model:<11} {name:<15} threads {used}  images/s {' + '.join(f'{s:,.0f}' for s in speed)}"
                      f"  (other processes busy on {load:.1f} cores just before)", flush=True)
            base = row["baseline_alone"]["images_per_s"][0]
            alone = row["default_alone"]["images_per_s"][0]
            row["alone_ratio"] = round(alone / base, 3)
            row["pair_ratio"] = round(sum(row["default_pair"]["images_per_s"]) / alone, 3)  # each against its own
            if args.old_pair:
                row["old_pair_ratio"] = round(sum(row["old_pair"]["images_per_s"]) / base, 3)
            print(f"{model:<11} default alone {row['alone_ratio']:.2f}x the baseline (target >= 0.97); two default "
                  f"runs together {row['pair_ratio']:.2f}x one default run alone (target >= 0.9)"
                  + (f"; two baseline runs together {row['old_pair_ratio']:.2f}x one alone" if args.old_pair else ""),
                  flush=True)
            results[model] = row
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
