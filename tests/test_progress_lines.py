"""Output that is not a terminal (SLURM logs, CI) gets a plain progress line inside long epochs."""

from __future__ import annotations

import logging

from gvc.trial.task import run
from tests.conftest import make_config

QUIET = ["model=linear_vae", "data.subset=512", "data.test_subset=64", "eval.enabled=false", "trainer.threads=1",
         "trainer.epochs=1", "trainer.log_every=2", "trainer.progress=true", "trainer.sample_every=100"]


def progress_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gvc.training.loop" and "  batch " in r.getMessage()]


def test_piped_output_gets_progress_lines_inside_an_epoch(tmp_path, mnist_root, caplog):
    with caplog.at_level(logging.INFO, logger="gvc.training.loop"):  # pytest's stderr is no terminal
        run(make_config([*QUIET, "trainer.progress_every_s=0"]), tmp_path / "run")
    lines = progress_lines(caplog)
    assert len(lines) == 4  # 8 batches of 64, a line at every second step's log point
    assert lines[0].startswith("epoch 1/1  batch 2/8  step 2  loss ") and "into the epoch" in lines[0]


def test_progress_lines_are_off_with_null(tmp_path, mnist_root, caplog):
    with caplog.at_level(logging.INFO, logger="gvc.training.loop"):
        run(make_config([*QUIET, "trainer.progress_every_s=null"]), tmp_path / "run")
    assert progress_lines(caplog) == []
