"""gvc's Optuna sweeper under a name Hydra accepts (`hydra/sweeper=gvc_optuna`, used by `+sweeps=optuna`)."""

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper

from gvc.studies import StudySweeper


class GvcOptunaSweeper(OptunaSweeper):
    """hydra-optuna-sweeper with gvc.studies.StudySweeper as its implementation."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.sweeper = StudySweeper(*args, **kwargs)  # OptunaSweeper.__init__ only builds its implementation
