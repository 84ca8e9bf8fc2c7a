"""trainer.precision=auto (the fast presets) takes bf16 only where the hardware computes it natively."""

import os
import subprocess
import sys

import torch

from gvc.training.precision import choose_numeric_path, cpu_flags, cpu_native_bf16
from gvc.trial import rundir
from gvc.trial.task import run
from tests.conftest import ROOT, TINY, make_config


def test_explicit_precisions_are_kept_as_asked():
    cpu = torch.device("cpu")
    assert choose_numeric_path("fp32", True, cpu).precision == "fp32"
    path = choose_numeric_path("bf16", True, cpu)
    assert (path.precision, path.channels_last, path.note) == ("bf16", True, None)


def test_a_cpu_without_bf16_flags_has_no_native_bf16():
    native, evidence = cpu_native_bf16({"sse4_2", "avx2", "fma"})
    assert not native and "native bf16 flags none" in evidence


def test_cpu_flags_are_read_like_lscpu(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2 amx_bf16\n")
    assert cpu_flags(info) == {"fpu", "avx2", "amx_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()


CHOOSE = ("import torch; from gvc.training.precision import choose_numeric_path as c; "
          "p = c('auto', True, torch.device('cpu')); print(p.precision, p.channels_last); print(p.note)")


def test_auto_falls_back_to_the_default_fp32_path_where_bf16_kernels_are_capped_at_avx2():
    # An AVX2-only CPU, as torch and oneDNN see one: their kernel choice capped by environment variables.
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", CHOOSE], env=env, capture_output=True, text=True, check=True).stdout
    first, note = out.splitlines()
    assert first == "fp32 False"
    assert "fp32" in note and "AVX2" in note


def test_auto_takes_bf16_exactly_where_the_cpu_has_it_natively():
    native, _ = cpu_native_bf16()
    path = choose_numeric_path("auto", True, torch.device("cpu"))
    assert (path.precision, path.channels_last) == (("bf16", True) if native else ("fp32", False))


def test_auto_keeps_models_without_convolutions_in_fp32():
    path = choose_numeric_path("auto", True, torch.device("cpu"), convolutional=False)
    assert (path.precision, path.channels_last) == ("fp32", False) and "convolutions" in path.note


def test_the_numeric_path_taken_is_in_the_summary(tmp_path, mnist_root):
    run(make_config(["model=conv_vae", *TINY, "trainer.precision=auto", "trainer.channels_last=true"]), tmp_path)
    numerics = rundir.read_summary(tmp_path)["numerics"]
    expected = choose_numeric_path("auto", True, torch.device("cpu"))
    assert numerics == {"precision": expected.precision, "channels_last": expected.channels_last,
                        "note": expected.note}
