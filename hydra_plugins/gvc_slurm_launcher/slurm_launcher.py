"""Registers gvc's SLURM launcher with Hydra, which accepts launchers only from the hydra_plugins package.

The launcher itself lives in gvc/sweep/slurm.py; the presets conf/hydra/launcher/slurm_cpu.yaml and slurm_gpu.yaml
name this class.
"""

from gvc.sweep.slurm import SlurmLauncher


class GvcSlurmLauncher(SlurmLauncher):
    """gvc.sweep.slurm.SlurmLauncher under a name Hydra accepts (`hydra/launcher=slurm_cpu` or `slurm_gpu`)."""
