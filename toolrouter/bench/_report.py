"""Shared output for the benchmark suites: one way to print a table and to time a call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from rich.table import Table

from toolrouter._console import output_console

# Piped output (logs, `| tee`) gets a wide console, so tables are not squeezed to 80 columns.
console = output_console()

#: What a target's verdict reads at ``--quick`` size: the targets are set for the full size.
NOT_AT_QUICK = "n/a at --quick size"


def print_quick_note(what: str = "targets") -> None:
    """One line saying that the ``what`` of a ``--quick`` run's tables are for the full size only."""
    console.print(f"--quick runs toy sizes: the {what} are for the full size, not for these numbers.", markup=False)


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table to the terminal and, below it, the same table as Markdown for BENCHMARKS.md."""
    table = Table(title=title)
    for column in columns:
        table.add_column(str(column))
    cells = [[format_cell(c) for c in row] for row in rows]
    for row in cells:
        table.add_row(*row)
    console.print(table)
    console.print(markdown_table(columns, cells), markup=False, highlight=False, soft_wrap=True)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "| " + " | ".join(map(str, columns)) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def format_cell(value: Any) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3g}"
        return f"{value:.4g}"
    return str(value)


def median_time_s(fn: Callable[[], Any], repeats: int = 1000, warmup: int = 50) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
