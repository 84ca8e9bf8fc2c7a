"""Claiming a run folder: one process at a time trains into it, decided atomically by the kernel.

A claim is an exclusive `fcntl.flock` on RUN/.gvc.lock, held by this process for the run's life. The kernel
releases it when the process ends in any way (an exception, SIGKILL, a node's reboot), so a lock can never be
stale: a folder whose last holder died is free again, whatever the file still says. The file holds the holder's
`pid host`, only to name it in the loser's refusal. Checking a folder and then writing into it (the live-pid test
of summary.json) leaves a window in which two processes both pass; a claim has none.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

LOCK = ".gvc.lock"

_held: dict[Path, int] = {}  # run folder -> the descriptor whose flock this process holds


class RunBusy(Exception):
    """Another live process holds the folder's claim; `holder` names it (`process PID on HOST`)."""

    def __init__(self, run_dir: Path, holder: str):
        super().__init__(f"{run_dir} is claimed by {holder}")
        self.run_dir, self.holder = run_dir, holder


def _key(run_dir: Path) -> Path:
    return Path(os.path.abspath(run_dir))


def holds(run_dir: Path) -> bool:
    """Whether this process holds the claim of `run_dir`."""
    return _key(run_dir) in _held


def claim(run_dir: Path) -> bool:
    """Claim `run_dir` for this process (creating it), or raise RunBusy naming the live holder.

    Returns True when this call made the folder (a refused run may then remove it), False when it existed.
    Claiming a folder this process already holds is a no-op.
    """
    key = _key(run_dir)
    if key in _held:
        return False
    created = not key.exists()
    key.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(key / LOCK, os.O_RDWR | os.O_CREAT, 0o666)  # not inherited by child processes (PEP 446)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.pread(fd, 256, 0))
            os.close(fd)
            raise RunBusy(key, holder) from None
        if _still_linked(fd, key / LOCK):
            break
        os.close(fd)  # its holder released it (and unlinked the file) between our open and our flock: again
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
    _held[key] = fd
    return created


def _still_linked(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def release(run_dir: Path) -> None:
    """Give up this process's claim of `run_dir` (a run or a sweep's trial that ended; the process may go on).

    The file goes first, while still locked, so a folder a run left holds no lock file (a killed run's stays,
    unlocked: the next claim takes it)."""
    key = _key(run_dir)
    fd = _held.pop(key, None)
    if fd is not None:
        (key / LOCK).unlink(missing_ok=True)
        os.close(fd)  # closing the descriptor releases its flock


def release_all() -> None:
    for run_dir in list(_held):
        release(run_dir)


def claimed_by(run_dir: Path) -> str | None:
    """`process PID on HOST` while another live process holds `run_dir`'s claim; None if it is free or ours."""
    key = _key(run_dir)
    if key in _held or not (key / LOCK).is_file():
        return None
    try:
        fd = os.open(key / LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a test only: released at once below
    except BlockingIOError:
        return _describe(os.pread(fd, 256, 0))
    finally:
        os.close(fd)
    return None


def _describe(content: bytes) -> str:
    parts = content.decode(errors="replace").split()
    if len(parts) >= 2 and parts[0].isdigit():
        return f"process {parts[0]} on {parts[1]}"
    return "another process (it is starting)"
