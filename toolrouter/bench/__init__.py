"""Benchmarks, run as ``toolrouter bench SUITE [options]``.

Each suite is a module ``toolrouter.bench.<suite>`` (dashes become underscores) with a
``main(argv: list[str]) -> None`` that parses its own options and prints its tables. Adding a suite
touches one new file.
"""

from __future__ import annotations

import importlib
import pkgutil


def available_suites() -> list[str]:
    """Names of the benchmark suites that ship with this installation."""
    import toolrouter.bench as pkg

    return sorted(
        m.name.replace("_", "-")
        for m in pkgutil.iter_modules(pkg.__path__)
        if not m.name.startswith("_") and not m.ispkg
    )


def run_suite(suite: str, argv: list[str]) -> None:
    """Run one suite by name; an unknown name raises ValueError listing the known ones."""
    if suite not in available_suites():
        raise ValueError(f"suite: unknown benchmark {suite!r}; choose from {available_suites()}")
    importlib.import_module(f"toolrouter.bench.{suite.replace('-', '_')}").main(argv)
