"""Sweeps of many trials: Optuna studies kept with their sweep, successive halving over compute, and SLURM jobs
with the guarantees gvc gives every trial (gvc.trial).
"""
