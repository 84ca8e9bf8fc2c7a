"""A signal during the end-of-training evaluation stops it at once: the run is `interrupted` with its metrics
pending and its checkpoint kept, and a resume evaluates it."""

from __future__ import annotations

import signal
import time

import pytest

import gvc.evaluation.evaluate as evaluation
from gvc.trial import rundir
from gvc.trial.lifecycle import TrialInterrupted
from gvc.trial.task import run
from tests.conftest import make_config

EVALUATED = ["model=linear_gan", "data.subset=256", "trainer.progress=false", "trainer.threads=1", "trainer.epochs=1",
             "trainer.sample_every=100", "eval=fast"]


@pytest.fixture
def terminal_signals():
    """SIGTERM as a terminal's foreground process has it, whatever started the suite; restored afterwards."""
    before = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGTERM, before)


@pytest.mark.slow  # two evaluated runs
def test_sigterm_during_the_final_evaluation_stops_it_at_once_and_a_resume_evaluates(tmp_path, mnist_root,
                                                                                     monkeypatch, terminal_signals):
    real = evaluation.generate

    def slow_generate(*args, **kwargs):  # the evaluation's first work: a signal arrives, then minutes would follow
        signal.raise_signal(signal.SIGTERM)
        time.sleep(120)
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluation, "generate", slow_generate)
    started = time.perf_counter()
    with pytest.raises(TrialInterrupted) as interrupted:
        run(make_config(EVALUATED), tmp_path)
    assert time.perf_counter() - started < 60 and interrupted.value.exit_code == 128 + signal.SIGTERM
    summary = rundir.read_summary(tmp_path)
    assert summary["status"] == "interrupted" and summary["metrics"] == {}
    assert "metrics are pending" in summary["reason"]
    checkpoint = rundir.read_checkpoint(tmp_path / rundir.CHECKPOINT)
    assert checkpoint["step"] == summary["steps"] == 2 and len(checkpoint["history"]) == 1  # training was done

    monkeypatch.undo()
    run(make_config([*EVALUATED, "trainer.resume=true"]), tmp_path)
    resumed = rundir.read_summary(tmp_path)
    assert resumed["status"] == "completed" and "fid" in resumed["metrics"] and resumed["steps"] == 2
    assert len(rundir.read_history(tmp_path)) == 1
