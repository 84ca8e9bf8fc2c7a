"""gvc's successive-halving sweeper under a name Hydra accepts (`hydra/sweeper=halving`)."""

from hydra.plugins.sweeper import Sweeper

from gvc.halving import HalvingSweeper


class GvcHalvingSweeper(HalvingSweeper, Sweeper):
    """gvc.halving.HalvingSweeper as a Hydra Sweeper plugin."""
