"""One trial's lifecycle: no import cycles, trials that own their randomness, checkpoints inside an epoch, signals
that end a run `interrupted` and resumable, faults named truly, and results written with the user's umask."""

from __future__ import annotations

import ast
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from gvc.training.gan import GANStep
from gvc.training.hooks import Hook
from gvc.training.loop import Trainer
from gvc.training.vae import proportionate_test_subset
from gvc.trial import rundir
from gvc.trial.lifecycle import TrialInterrupted
from gvc.trial.task import run
from tests.conftest import DATA_ROOT, ROOT, TINY, make_config, without_timing

# 1,024 images: 8 GAN batches (128) or 16 VAE batches (64) per epoch, so a step can land inside an epoch.
EPOCHS = ["trainer=smoke", "data.subset=1024", "data.test_subset=128", "trainer.max_steps=null", "trainer.epochs=2",
          "trainer.progress=false", "eval.enabled=false", "trainer.log_every=1"]


# -- import graph ------------------------------------------------------------------------------------------
def gvc_imports(path: Path, package_root: Path) -> set[str]:
    """The gvc modules a module imports anywhere in its body (lazy imports and TYPE_CHECKING ones included)."""
    modules = {".".join(p.relative_to(package_root).with_suffix("").parts).removesuffix(".__init__")
               for p in (package_root / "gvc").rglob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from gvc import rundir` imports the module gvc.trial.rundir; `from gvc.trial.task import run`, gvc.trial.task.
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                      for a in node.names}
    return {name for name in found if name in modules}


def import_graph(package_root: Path = ROOT) -> dict[str, set[str]]:
    files = {".".join(p.relative_to(package_root).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (package_root / "gvc").rglob("*.py")}
    return {name: gvc_imports(path, package_root) - {name} for name, path in files.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules, found by depth-first search."""
    cycles, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in path:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, path + [nxt])
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    return cycles


def test_no_module_of_gvc_imports_one_that_imports_it_back():
    graph = import_graph()
    assert {"gvc.trial.task", "gvc.trial.lifecycle", "gvc.sweep.slurm", "gvc.training.loop", "gvc.training.hooks"} <= set(graph)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles (move the shared helper to the lower module): " + "; ".join(
        " -> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_lazy_cycle(tmp_path):
    (tmp_path / "gvc").mkdir()
    (tmp_path / "gvc" / "__init__.py").write_text("")
    (tmp_path / "gvc" / "a.py").write_text("from gvc.b import x\n")
    (tmp_path / "gvc" / "b.py").write_text("def f():\n    from gvc import a\n")
    assert import_cycles(import_graph(tmp_path)) == [["gvc.a", "gvc.b", "gvc.a"]]


# -- trials own their randomness ---------------------------------------------------------------------------
class Turns:
    """Two threads that take strict turns: only one ever runs, so they interleave like coroutines."""

    def __init__(self):
        self.cond, self.turn, self.done = threading.Condition(), 0, set()

    def wait(self, me: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.turn == me)

    def hand_over(self, me: int) -> None:
        with self.cond:
            if 1 - me not in self.done:
                self.turn = 1 - me
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.turn == me)

    def finish(self, me: int) -> None:
        with self.cond:
            self.done.add(me)
            self.turn = 1 - me
            self.cond.notify_all()


class HandOverEveryStep(Hook):
    def __init__(self, turns: Turns, me: int):
        self.turns, self.me = turns, me

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        self.turns.hand_over(self.me)


TRIALS = [["model=linear_gan", "trainer.seed=1"],  # dropout in D and latents: the default generator's draws
          ["model=linear_vae", "trainer.seed=2", "model.dropout=0.2"]]  # dropout and reparameterisation noise


def test_two_trials_interleaved_step_by_step_get_the_histories_each_gets_alone(tmp_path, mnist_root):
    configs = [make_config([*EPOCHS, "trainer.max_steps=12", *extra]) for extra in TRIALS]
    alone = []
    for i, cfg in enumerate(configs):
        Trainer(cfg, tmp_path / f"alone{i}").fit()
        alone.append(rundir.read_history(tmp_path / f"alone{i}"))

    turns = Turns()
    trainers = [Trainer(cfg, tmp_path / f"together{i}", hooks=[HandOverEveryStep(turns, i)])
                for i, cfg in enumerate(configs)]
    results = {}

    def trial(i: int) -> None:
        turns.wait(i)
        try:
            results[i] = trainers[i].fit()
        finally:
            turns.finish(i)

    threads = [threading.Thread(target=trial, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert [results[i].status for i in range(2)] == ["completed", "completed"]
    assert all(r.state.step == 12 for r in results.values())
    for i in range(2):
        assert without_timing(rundir.read_history(tmp_path / f"together{i}")) == without_timing(alone[i])


def test_a_trial_leaves_the_process_random_stream_where_it_was(tmp_path, mnist_root):
    torch.manual_seed(123)
    expected = torch.randn(3)
    torch.manual_seed(123)
    Trainer(make_config(["model=linear_gan", *TINY]), tmp_path).fit()
    assert torch.equal(torch.randn(3), expected)


# -- checkpoints inside an epoch, signals ------------------------------------------------------------------
class SignalAt(Hook):
    """Sends this process a signal at one log point, as Ctrl-C or a scheduler would."""

    def __init__(self, step: int, sig: int = signal.SIGINT):
        self.step, self.sig = step, sig

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        if step == self.step:
            signal.raise_signal(self.sig)


def with_hook(monkeypatch, hook: Hook) -> None:
    import gvc.trial.lifecycle

    real = gvc.trial.lifecycle.make_loggers
    monkeypatch.setattr(gvc.trial.lifecycle, "make_loggers", lambda c, d: [*real(c, d), hook])


def foreground_ctrl_c() -> None:
    """In a child process: Ctrl-C's default, as in a terminal (a suite started as a background job ignores it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def terminal_signals():
    """Ctrl-C and SIGTERM as a terminal's foreground process has them, whatever started the test suite (a shell's
    background job ignores SIGINT); restored afterwards."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for s, handler in before.items():
        signal.signal(s, handler)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_an_epoch_ends_the_run_interrupted_and_resuming_gives_the_same_history(
        sig, tmp_path, mnist_root, monkeypatch, terminal_signals):
    overrides = ["model=linear_gan", *EPOCHS]
    run(make_config(overrides), tmp_path / "whole")
    with_hook(monkeypatch, SignalAt(3, sig))  # epoch 1 of 8 steps
    with pytest.raises(TrialInterrupted) as interrupted:
        run(make_config(overrides), tmp_path / "cut", overrides)
    assert interrupted.value.exit_code == 128 + sig
    assert f"hydra.run.dir={tmp_path / 'cut'}" in interrupted.value.command
    assert interrupted.value.command.endswith("trainer.resume=true")
    summary = rundir.read_summary(tmp_path / "cut")
    assert summary["status"] == "interrupted" and summary["steps"] == 3
    ckpt = rundir.read_checkpoint(tmp_path / "cut" / rundir.CHECKPOINT)
    assert ckpt["step"] == 3 and ckpt["in_epoch"]["batches"] == 3 and ckpt["epoch"] == 0
    assert not list((tmp_path / "cut").rglob("*.tmp"))
    assert signal.getsignal(sig) in (signal.default_int_handler, signal.SIG_DFL)  # handlers given back

    monkeypatch.undo()
    run(make_config([*overrides, "trainer.resume=true"]), tmp_path / "cut")
    cut, whole = (rundir.read_history(tmp_path / d) for d in ("cut", "whole"))
    assert without_timing(cut) == without_timing(whole)
    resumed = rundir.read_summary(tmp_path / "cut")
    assert resumed["status"] == "completed" and resumed["resumed_from"] == {"epoch": 0, "step": 3}


class CrashAt(Hook):
    def __init__(self, step: int):
        self.step = step

    def log(self, step: int, epoch: int, losses: dict[str, float]) -> None:
        if step == self.step:
            raise RuntimeError("simulated crash")


def test_periodic_checkpoints_inside_an_epoch_let_a_crashed_run_continue_identically(tmp_path, mnist_root, monkeypatch):
    overrides = ["model=linear_vae", *EPOCHS, "trainer.checkpoint_every_steps=5"]
    run(make_config(overrides), tmp_path / "whole")
    with_hook(monkeypatch, CrashAt(22))  # epoch 2 of 16 steps each; the last checkpoint is step 20
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(make_config(overrides), tmp_path / "crashed")
    ckpt = rundir.read_checkpoint(tmp_path / "crashed" / rundir.CHECKPOINT)
    assert ckpt["step"] == 20 and ckpt["epoch"] == 1 and ckpt["in_epoch"]["batches"] == 4
    monkeypatch.undo()
    run(make_config([*overrides, "trainer.resume=true"]), tmp_path / "crashed")
    whole, crashed = (rundir.read_history(tmp_path / d) for d in ("whole", "crashed"))
    assert without_timing(crashed) == without_timing(whole)
    # The budget clock carried over: the resumed run's training time is not its second segment's alone.
    assert crashed[-1]["elapsed_s"] > crashed[0]["elapsed_s"]


@pytest.mark.slow
def test_ctrl_c_prints_the_resume_command_without_a_traceback(tmp_path, mnist_root):
    args = ["model=linear_vae", "data.subset=20000", "data.test_subset=256", "trainer.epochs=3",
            "trainer.progress=false", "trainer.threads=1", "eval.enabled=false", f"data.root={DATA_ROOT}",
            f"hydra.run.dir={tmp_path}"]
    proc = subprocess.Popen([sys.executable, "-m", "gvc", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "HYDRA_FULL_ERROR": "0"},
                            preexec_fn=foreground_ctrl_c)
    deadline = time.time() + 120
    while not (tmp_path / rundir.HISTORY).is_file():  # inside epoch 2
        assert proc.poll() is None and time.time() < deadline, "the run ended before it could be interrupted"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in out + err
    assert "trainer.resume=true" in out + err
    assert rundir.read_summary(tmp_path)["status"] == "interrupted"
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("moment", ["imports", "hydra_started"])
def test_ctrl_c_before_training_ends_with_one_line_and_no_traceback(tmp_path, moment):
    run_dir = tmp_path / "r"
    args = ["model=linear_vae", "data.subset=2048", "data.test_subset=128", "trainer.epochs=50",
            "trainer.progress=false", "trainer.threads=1", "eval.enabled=false", f"data.root={DATA_ROOT}",
            f"hydra.run.dir={run_dir}"]
    proc = subprocess.Popen([sys.executable, "-m", "gvc", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=foreground_ctrl_c)
    if moment == "imports":
        time.sleep(0.3)  # torch, Hydra and gvc's checks take seconds to import and run
    else:
        deadline = time.time() + 120
        while not (run_dir / "gvc.log").is_file():  # Hydra made the run's folder; training may have begun
            assert proc.poll() is None and time.time() < deadline, "the run ended before it could be interrupted"
            time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in out + err and "trainer.resume=true" in out + err


def test_an_ignored_ctrl_c_stays_ignored_by_a_run(tmp_path, mnist_root, monkeypatch):
    """`nohup python -m gvc ... &` from a script ignores SIGINT: the script's Ctrl-C must not stop the run."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with_hook(monkeypatch, SignalAt(3, signal.SIGINT))
        run(make_config(["model=linear_gan", *EPOCHS]), tmp_path)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert rundir.read_summary(tmp_path)["status"] == "completed"


def test_resume_with_nothing_to_resume_says_so_and_how_to_point_at_a_run(tmp_path, mnist_root, caplog):
    run(make_config(["model=linear_gan", *TINY, "trainer.resume=true"]), tmp_path)
    assert "nothing to resume" in caplog.text and "hydra.run.dir=" in caplog.text


def test_a_checkpoint_that_does_not_fit_the_model_is_a_failed_trial_not_a_crash(tmp_path, mnist_root):
    run(make_config(["model=linear_gan", *TINY, "trainer.max_steps=1"]), tmp_path)
    path = tmp_path / rundir.CHECKPOINT
    ckpt = torch.load(path, weights_only=True)
    name = next(iter(ckpt["model"]))
    ckpt["model"][name] = torch.zeros(3, 3)  # as a knob that changes a layer's shape would leave it
    torch.save(ckpt, path)
    (tmp_path / rundir.SUMMARY).unlink()
    value = run(make_config(["model=linear_gan", *TINY, "trainer.resume=true"]), tmp_path, raise_on_failure=False)
    summary = rundir.read_summary(tmp_path)
    assert value == float("inf") and summary["status"] == "failed"
    assert "does not fit this run's model" in summary["reason"] and str(path) in summary["reason"]


# -- faults named truly --------------------------------------------------------------------------------------
def test_a_vae_that_blows_up_is_diverged_with_its_step(tmp_path, mnist_root):
    value = run(make_config(["model=linear_vae", *TINY, "optimizer.lr=50", "trainer.log_every=1"]), tmp_path,
                raise_on_failure=False)
    summary = rundir.read_summary(tmp_path)
    assert value == float("inf")
    assert summary["status"] == "diverged", summary["reason"]
    assert 1 <= summary["diverged_at"]["step"] <= 5


def test_a_gan_whose_losses_explode_is_diverged_not_completed(tmp_path, mnist_root, monkeypatch):
    real = GANStep.__call__

    def exploding(self, real_batch, step):
        losses = real(self, real_batch, step)
        losses["loss_g"] = losses["loss_g"] * 0 + 1e23
        return losses

    monkeypatch.setattr(GANStep, "__call__", exploding)
    run(make_config(["model=linear_gan", *TINY, "trainer.log_every=2"]), tmp_path, raise_on_failure=False)
    summary = rundir.read_summary(tmp_path)
    assert summary["status"] == "diverged" and "trainer.max_loss" in summary["reason"]
    assert summary["diverged_at"]["step"] == 2
    assert run(make_config(["model=linear_gan", *TINY, "trainer.max_loss=null"]), tmp_path / "unbounded") < 1e24


def fail_the_nth_write_of(monkeypatch, name: str, n: int) -> None:
    """Make the n-th atomic write of files called `name` fail as a full disk does (at the final rename)."""
    real_replace, calls = os.replace, {"n": 0}

    def replace(src, dst):
        if Path(dst).name == name:
            calls["n"] += 1
            if calls["n"] == n:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("name, path", [("last.pt", rundir.CHECKPOINT), ("epoch_0002.png", "samples/epoch_0002.png")])
def test_a_full_disk_while_writing_keeps_the_previous_checkpoint_and_names_the_path(name, path, tmp_path, mnist_root,
                                                                                   monkeypatch):
    fail_the_nth_write_of(monkeypatch, name, 2 if name == "last.pt" else 1)
    cfg = make_config(["model=linear_gan", *EPOCHS, "trainer.epochs=3", "trainer.sample_every=1"])
    value = run(cfg, tmp_path, raise_on_failure=False)
    summary = rundir.read_summary(tmp_path)
    assert value == float("inf") and summary["status"] == "failed"
    assert str(tmp_path / path) in summary["reason"] and "No space left" in summary["reason"]
    assert rundir.read_checkpoint(tmp_path / rundir.CHECKPOINT)["epoch"] == 1  # the previous one, intact
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_summary_that_cannot_be_written_is_reported_with_its_path(tmp_path, mnist_root, monkeypatch, caplog):
    fail_the_nth_write_of(monkeypatch, rundir.SUMMARY, 2)  # the first write (status running) succeeds
    run(make_config(["model=linear_gan", *TINY]), tmp_path, raise_on_failure=False)
    assert rundir.read_summary(tmp_path)["status"] == "running"  # the earlier file, whole
    assert f"could not write {tmp_path / rundir.SUMMARY}" in caplog.text


def test_results_are_written_with_the_users_umask(tmp_path, mnist_root):
    old = os.umask(0o022)
    try:
        run(make_config(["model=linear_gan", *TINY]), tmp_path)
    finally:
        os.umask(old)
    for name in (rundir.SUMMARY, rundir.HISTORY, str(rundir.CHECKPOINT), "samples/epoch_0001.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


# -- what the console and the run directory say ---------------------------------------------------------------
def test_smoke_names_max_steps_as_the_budget_that_ended_it(tmp_path, mnist_root):
    run(make_config(["model=linear_gan", "trainer=smoke", "eval.enabled=false"]), tmp_path)
    assert rundir.read_summary(tmp_path)["stopped_by"] == "max_steps"


def test_the_start_line_names_model_data_device_numeric_path_and_threads(tmp_path, mnist_root, caplog, monkeypatch):
    caplog.set_level("INFO")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)  # what this process has, whoever started it
    run(make_config(["model=linear_gan", *TINY]), tmp_path)
    line = next(r.getMessage() for r in caplog.records if "parameters) on mnist" in r.getMessage())
    assert line.startswith("linear_gan (") and ", cpu, fp32, " in line and f", 1 thread -> {tmp_path}" in line


def test_a_small_subset_gets_a_proportionate_test_subset_unless_one_is_set():
    assert proportionate_test_subset(600, None, 60_000, 10_000) == 100
    assert proportionate_test_subset(1, None, 60_000, 10_000) == 1
    assert proportionate_test_subset(600, 37, 60_000, 10_000) == 37
    assert proportionate_test_subset(None, None, 60_000, 10_000) is None


def test_sample_grids_get_an_enlarged_copy_for_viewing_beside_the_raw_one(tmp_path, mnist_root):
    from PIL import Image

    run(make_config(["model=linear_gan", *TINY]), tmp_path)
    raw = Image.open(rundir.sample_path(tmp_path, 1))
    view = Image.open(tmp_path / rundir.SAMPLE_VIEW / "epoch_0001.png")
    assert raw.size == (152, 152) and view.size == (608, 608)
    assert list(rundir.sample_grids(tmp_path)) == [1]  # analysis still finds the raw grid, once


def test_progress_bars_stay_off_when_the_output_is_not_a_terminal(tmp_path, mnist_root, capfd):
    run(make_config(["model=linear_gan", *TINY, "trainer.progress=true"]), tmp_path)
    err = capfd.readouterr().err
    assert "\r" not in err and "batch/s" not in err and "it/s" not in err


def test_a_family_steps_epoch_extras_join_the_epoch_row_without_a_loop_change(tmp_path, monkeypatch):
    """The loop is family-neutral: what a family adds to each epoch's row comes from its step (epoch_extras),
    as a VAE's test -ELBO does."""
    monkeypatch.setattr(GANStep, "epoch_extras", lambda self: {"g_weight_norm": float(sum(
        p.detach().norm() for p in self.model.generator.parameters()))})
    run(make_config(["model=linear_gan", *TINY, "trainer.threads=1", "trainer.max_steps=null", "trainer.epochs=2",
                     "data.subset=64"]), tmp_path / "run")
    rows = rundir.read_history(tmp_path / "run")
    assert len(rows) == 2 and all(row["g_weight_norm"] > 0 for row in rows)
    assert rows[0]["g_weight_norm"] != rows[1]["g_weight_norm"]


def test_the_budget_rule_is_one_rule_inside_and_between_epochs():
    """Budget.spent is what train_epoch checks after each step and fit between epochs: the first spent budget
    in BUDGETS order, the CPU clock read only under a CPU budget."""
    from gvc.training.loop import BUDGETS, Budget

    budget = Budget(epochs=3, max_steps=10, max_images=500, time_budget_s=60.0, cpu_budget_s=None)
    no_cpu_clock = lambda: pytest.fail("the CPU clock is read without a CPU budget")  # noqa: E731
    assert budget.spent(0, 9, 499, 59.9, no_cpu_clock) is None
    assert budget.spent(3, 10, 500, 60.0, no_cpu_clock) == "epochs" == BUDGETS[0]
    assert budget.spent(0, 10, 500, 60.0, no_cpu_clock) == "max_steps"
    assert budget.spent(0, 9, 500, 60.0, no_cpu_clock) == "max_images"
    assert budget.spent(0, 9, 499, 60.0, no_cpu_clock) == "time_budget_s"
    assert Budget(3, None, None, None, 5.0).spent(0, 9, 499, 59.9, lambda: 5.0) == "cpu_budget_s"


def steps_table(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in rundir.read_history(run_dir, rundir.STEPS)]


def test_steps_csv_records_the_loss_means_of_every_log_every_steps_and_resumes_identically(
        tmp_path, mnist_root, monkeypatch):
    """steps.csv: a row every trainer.log_every steps and at each epoch's end, the loss means over the steps since
    the row before (so a budget shorter than an epoch still has a curve); a crashed run resumed from a checkpoint
    inside a window writes the same table."""
    overrides = ["model=linear_vae", *EPOCHS, "trainer.checkpoint_every_steps=5", "trainer.log_every=3"]
    run(make_config(overrides), tmp_path / "whole")
    rows, history = steps_table(tmp_path / "whole"), rundir.read_history(tmp_path / "whole")
    assert [r["step"] for r in rows if r["epoch"] == 1] == [3, 6, 9, 12, 15, 16]  # 16 steps an epoch
    for epoch in history:  # the windows' means, weighted by their images, are the epoch's mean
        part = [r for r in rows if r["epoch"] == epoch["epoch"]]
        start = sum(h["images"] for h in history if h["epoch"] < epoch["epoch"])
        bounds = [start] + [r["images"] for r in part]
        weights = [b - a for a, b in zip(bounds, bounds[1:])]
        assert sum(weights) == epoch["images"] and sum(r["steps"] for r in part) == 16
        mean = sum(w * r["loss"] for w, r in zip(weights, part)) / sum(weights)
        assert mean == pytest.approx(epoch["loss"], rel=1e-5)
    with_hook(monkeypatch, CrashAt(21))  # epoch 2; its last checkpoint is step 20, inside the window 18..21
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(make_config(overrides), tmp_path / "crashed")
    assert steps_table(tmp_path / "crashed")[-1]["step"] == 21  # written before the crash, rewritten on resume
    monkeypatch.undo()
    run(make_config([*overrides, "trainer.resume=true"]), tmp_path / "crashed")
    assert steps_table(tmp_path / "crashed") == rows
