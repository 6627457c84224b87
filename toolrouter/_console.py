"""The console that the command line and the benchmark suites print their tables through."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console

__all__ = ["PIPED_WIDTH", "check_console", "output_console"]

#: Columns of output that does not go to a terminal (a file, ``| grep``, ``| tee``): wide enough
#: that each row of a table, and the names in it, stays on one line (rich's own width for a pipe,
#: 80 columns, broke tool and route names across lines, where a search for them found nothing).
PIPED_WIDTH = 250


def output_console(**options: Any) -> Console:
    """A rich ``Console`` on standard output: as wide as the terminal, or ``PIPED_WIDTH`` columns
    when standard output is not a terminal; ``options`` go to ``Console`` (``markup=False``...)."""
    if not sys.stdout.isatty():
        options.setdefault("width", PIPED_WIDTH)
    return Console(**options)


def check_console(console: Any) -> Console | None:
    """``console`` if it is a rich ``Console`` or None, else a ``TypeError`` naming ``console``:
    rich failed on another value with an AttributeError naming neither, after the work had begun."""
    if console is not None and not isinstance(console, Console):
        from toolrouter.serialization import short_repr

        raise TypeError(f"console: expected a rich.console.Console or None, got {short_repr(console)}")
    return console
