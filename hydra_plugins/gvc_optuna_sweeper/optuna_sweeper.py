"""gvc's Optuna sweeper under a name Hydra accepts (`hydra/sweeper=gvc_optuna`, used by `+sweeps=optuna`).

Hydra imports every plugin module at every start, single runs included: optuna (and gvc.sweep.studies, which
needs it) is imported when a sweep builds this sweeper, as hydra-optuna-sweeper's own plugin does.
"""

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper


class GvcOptunaSweeper(OptunaSweeper):
    """hydra-optuna-sweeper with gvc.sweep.studies.StudySweeper as its implementation."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        from gvc.sweep.studies import StudySweeper

        self.sweeper = StudySweeper(*args, **kwargs)  # OptunaSweeper.__init__ only builds its implementation
