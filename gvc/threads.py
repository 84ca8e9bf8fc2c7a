"""How many torch threads a run uses when trainer.threads=null: as many as there are cores nobody else uses.

Why: libgomp's threads busy-wait at every parallel region, so two processes that each run one thread per core
on the same cores fight: two default linear-GAN runs on 2 cores did 0.46x the work of one alone (NOTES.md,
2026-12-01), while with one thread each they did 1.20x. So a run counts the cores it may use (its CPU
affinity: SLURM's allocation too), the cores other processes keep busy (sampled from /proc/stat for a
quarter second) and the other gvc runs of this user on this machine (a registry of live process ids), and
takes the cores left, shared fairly with the other gvc runs, never fewer than one.
The choice is made once, at start: a run started first keeps its threads when a second one arrives.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import time
from pathlib import Path

from gvc.trial.runlock import alive

SAMPLE_S = 0.25  # how long the other processes' CPU use is sampled


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies of all CPUs, or None where /proc/stat does not exist."""
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def busy_cores(seconds: float = SAMPLE_S) -> float:
    """Cores the machine's processes kept busy over `seconds` (this one sleeps meanwhile); 0 if unknown."""
    before = _cpu_times()
    time.sleep(seconds)
    after = _cpu_times()
    if before is None or after is None or after[1] <= before[1]:
        return 0.0
    return (after[0] - before[0]) / (after[1] - before[1]) * (os.cpu_count() or 1)



def registry() -> Path:
    return Path(tempfile.gettempdir()) / f"gvc-runs-{os.getuid()}"


def register() -> None:
    """Enter this process in the registry of running gvc runs (left when it exits)."""
    folder = registry()
    folder.mkdir(parents=True, exist_ok=True)
    me = folder / str(os.getpid())
    if not me.exists():
        me.touch()
        atexit.register(me.unlink, missing_ok=True)


def other_runs() -> int:
    """How many other live gvc runs the registry holds (entries of killed runs are removed)."""
    others = 0
    for entry in registry().iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if alive(int(entry.name)):
            others += 1
        else:
            entry.unlink(missing_ok=True)  # a run that was killed
    return others


def choose_threads(requested: int | None) -> tuple[int, str]:
    """The torch intra-op thread count for this run and why (for the console)."""
    if requested is not None:
        return requested, f"trainer.threads={requested}"
    cores = usable_cores()
    register()
    busy = busy_cores()
    peers = other_runs()  # after sampling: runs started within SAMPLE_S of each other see each other
    free = max(1, cores - round(busy))
    n = max(1, min(free, cores // (1 + peers)))
    why = (f"{cores} usable cores, {busy:.1f} busy with other processes, {peers} other gvc run(s) here"
           f" -> {n} (set trainer.threads=N to choose)")
    return n, why
