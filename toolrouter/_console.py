"""The console that the command line and the benchmark suites print their tables through."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console

__all__ = ["PIPED_WIDTH", "output_console"]

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
