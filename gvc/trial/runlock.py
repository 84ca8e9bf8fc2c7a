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

from gvc.trial import rundir

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


# Who else is training a run folder: the claim, else a live trial that summary.json names (a SLURM job, a process).
def in_use_by(run_dir: Path) -> str | None:
    """`process PID on HOST` while a live process of this host trains the run (a trial outlives a killed joblib
    sweeper), `SLURM job ID` while SLURM still runs or queues the trial's job (it outlives a killed sweeper on
    any host); None otherwise. Such a directory is resumed by nobody else."""
    if holder := claimed_by(run_dir):
        return holder
    summary = rundir.read_summary(run_dir) or {}
    if summary.get("status") != "running":
        return None
    job = (summary.get("slurm") or {}).get("job_id")
    if job and os.environ.get("SLURM_JOB_ID") is None and slurm_job_active(str(job)):  # the sweeper's view
        return f"SLURM job {job} on {summary.get('host')}"
    pid = summary.get("pid")
    if summary.get("host") != socket.gethostname() or not isinstance(pid, int):
        return None
    if pid == os.getpid() or not alive(pid):
        return None
    return f"process {pid} on {summary['host']}"


def slurm_job_active(job: str) -> bool:
    """Whether SLURM still has the job (pending, running, requeued); False without squeue or an answer."""
    import shutil
    import subprocess

    if shutil.which("squeue") is None:
        return False
    try:
        answer = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return answer.returncode == 0 and bool(answer.stdout.strip())


def alive(pid: int) -> bool:
    """Whether a process of this host with that id exists (another user's counts)."""
    if pid <= 0:  # os.kill would signal a process group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def busy_refusal(run_dir: Path, owner: str) -> str:
    return (f"{run_dir} is being trained right now by {owner} (a sweeper that died can leave its trials running); "
            "wait for it to finish or stop it, then run again with trainer.resume=true.")


def claim_refusal(run_dir: Path, holder: str) -> str:
    """The loser's line when two processes start into one run folder together."""
    return (f"{run_dir} is in use right now by {holder}; two runs never share a folder. Choose another "
            "hydra.run.dir, or wait for that run to end (trainer.resume=true then continues it).")
