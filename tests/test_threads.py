"""trainer.threads=null: the cores nobody else uses, shared fairly with the other gvc runs, never fewer than one."""

import subprocess
import sys

import pytest

from gvc import threads


@pytest.fixture
def quiet_machine(tmp_path, monkeypatch):
    """A 4-core machine with a private run registry and no other load (each test adds what it needs)."""
    monkeypatch.setattr(threads, "registry", lambda: tmp_path / "runs")
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=threads.SAMPLE_S: 0.0)
    return tmp_path / "runs"


def test_a_requested_count_is_kept(quiet_machine):
    assert threads.choose_threads(3) == (3, "trainer.threads=3")


def test_alone_on_an_idle_machine_a_run_uses_every_core(quiet_machine):
    n, why = threads.choose_threads(None)
    assert n == 4 and "4 usable cores" in why and "trainer.threads=N" in why


def test_cores_busy_with_other_processes_are_left_to_them(quiet_machine, monkeypatch):
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=threads.SAMPLE_S: 2.8)
    assert threads.choose_threads(None)[0] == 1
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=threads.SAMPLE_S: 9.0)
    assert threads.choose_threads(None)[0] == 1  # never fewer than one


def test_other_live_gvc_runs_share_the_cores_and_dead_ones_are_forgotten(quiet_machine):
    quiet_machine.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (quiet_machine / str(other.pid)).touch()
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        (quiet_machine / dead.stdout.strip()).touch()
        n, why = threads.choose_threads(None)
        assert n == 2 and "1 other gvc run" in why
        assert not (quiet_machine / dead.stdout.strip()).exists()
    finally:
        other.kill()
        other.wait()


def test_busy_cores_reads_the_machine():
    assert 0.0 <= threads.busy_cores(0.05) <= threads.os.cpu_count() + 0.5
