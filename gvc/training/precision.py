"""Which numeric path a run takes: fp32, or bf16 autocast where the hardware computes bf16 natively.

`trainer.precision=auto` (the fast presets) asks for bf16 only where it is fast. On a CPU without native bf16
instructions (AVX2-only x86, for one) torch emulates bf16 and a conv model trains about ten times slower than in
fp32, so there auto means fp32 in the default memory layout: a "fast" preset is never slower than the default.
Where bf16 is native it pays for convolutions (2-3x for the conv models on an AMX CPU) but not for small fully
connected models, where casts and the optimizer dominate (Linear VAE 0.95x), so auto keeps those in fp32 too.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

import torch

# /proc/cpuinfo flags of CPUs that compute bf16 in hardware: x86 AVX512-BF16 or AMX-BF16, Arm's BF16 extension.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")


@dataclass(frozen=True)
class NumericPath:
    precision: str  # fp32 | bf16
    channels_last: bool
    note: str | None = None  # why auto chose what it chose (logged once, written to summary.json)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags as lscpu shows them (x86 'flags', Arm 'Features'); empty where unreadable."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_native_bf16(flags: set[str] | None = None) -> tuple[bool, str]:
    """(whether bf16 runs natively on this CPU, the evidence in words).

    Both must agree: the CPU's flags, and the kernels torch will use (ATEN_CPU_CAPABILITY and
    ONEDNN_MAX_CPU_ISA can cap those below what the CPU has, and then bf16 is emulated again).
    """
    flags = cpu_flags() if flags is None else flags
    native = sorted(f for f in NATIVE_BF16_FLAGS if f in flags)
    capability = torch.backends.cpu.get_cpu_capability()
    onednn_bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    evidence = (f"{platform.machine()} CPU, torch kernels {capability}, oneDNN bf16 "
                f"{'yes' if onednn_bf16 else 'no'}, native bf16 flags {', '.join(native) or 'none'}")
    return bool(native) and onednn_bf16, evidence


def has_convolutions(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.conv._ConvNd) for m in model.modules())


def choose_numeric_path(precision: str, channels_last: bool, device: torch.device,
                        convolutional: bool = True) -> NumericPath:
    """Resolve trainer.precision (fp32 | bf16 | auto) and trainer.channels_last for a model on `device`."""
    if precision != "auto":
        return NumericPath(precision, channels_last)
    if not convolutional:
        return NumericPath("fp32", False, "precision=auto: fp32 (bf16 does not speed up a model without "
                                          "convolutions measurably, and slowed the Linear VAE)")
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return NumericPath("bf16", channels_last, "precision=auto: bf16 (the GPU supports it)")
        return NumericPath("fp32", channels_last, "precision=auto: fp32 (this GPU has no bf16)")
    if device.type == "cpu":
        native, evidence = cpu_native_bf16()
        if native:
            return NumericPath("bf16", channels_last, f"precision=auto: bf16 ({evidence})")
        return NumericPath("fp32", False, f"precision=auto: fp32 and the default memory layout, because bf16 would be "
                                          f"emulated and several times slower here ({evidence})")
    return NumericPath("fp32", channels_last, f"precision=auto: fp32 on {device.type}")
