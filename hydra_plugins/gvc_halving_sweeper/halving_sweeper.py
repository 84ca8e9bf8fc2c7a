"""gvc's successive-halving sweeper under a name Hydra accepts (`hydra/sweeper=halving`)."""

from hydra.plugins.sweeper import Sweeper

from gvc.sweep.halving import HalvingSweeper


class GvcHalvingSweeper(HalvingSweeper, Sweeper):
    """gvc.sweep.halving.HalvingSweeper as a Hydra Sweeper plugin."""
