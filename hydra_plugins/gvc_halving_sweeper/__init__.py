"""Registers gvc's successive-halving sweeper with Hydra, which accepts sweepers only from the hydra_plugins package.

The sweeper itself lives in gvc/sweep/halving.py; the preset conf/hydra/sweeper/halving.yaml names this class.
"""
