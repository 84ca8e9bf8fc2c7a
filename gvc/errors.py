"""How gvc refuses input: `ConfigError` for a bad setting, `fail` for the one line a user sees, `warn` for one
that runs but is likely not what was meant.

Dependency-free (the standard library only), so that any module, low in the package or high, can refuse the same
way without importing the command line (gvc.cli) or the config schema (gvc.config).
"""

from __future__ import annotations

import sys
from typing import NoReturn

EXIT_REFUSED = 2  # argparse's status for bad input


class ConfigError(ValueError):
    """A configuration value is out of range or not one of the allowed choices."""


def fail(message: str) -> NoReturn:
    """The one way gvc refuses input: one line on stderr, exit status 2, no traceback."""
    print(f"gvc: error: {message}", file=sys.stderr)
    sys.exit(EXIT_REFUSED)


def warn(message: str) -> None:
    """A setting that runs but is likely not what was meant: one line on stderr, and the run goes on."""
    print(f"gvc: warning: {message}", file=sys.stderr)
