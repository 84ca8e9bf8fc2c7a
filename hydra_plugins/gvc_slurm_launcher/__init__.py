"""gvc's SLURM launcher, where Hydra looks for plugins (the code is in gvc/sweep/slurm.py)."""
