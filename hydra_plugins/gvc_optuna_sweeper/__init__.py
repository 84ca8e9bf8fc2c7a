"""Registers gvc's Optuna sweeper with Hydra, which accepts sweepers only from the hydra_plugins package.

The sweeper itself lives in gvc/sweep/studies.py; the preset conf/hydra/sweeper/gvc_optuna.yaml names this class.
"""
