"""Benchmarks, run as ``toolrouter bench SUITE [options]``.

Each suite is a module ``toolrouter.bench.<suite>`` (dashes become underscores) with a
``main(argv: list[str]) -> None`` that parses its own options and prints its tables. Adding a suite
touches one new file.

A suite whose data is missing or malformed raises one of :data:`DATA_ERRORS`, which ``toolrouter
bench`` reports as one line naming the file and what is wrong; an option value it cannot run with
raises :class:`UsageError` (or argparse's own error), reported as one line naming the option and
the value; any other exception is a defect and keeps its traceback.
"""

from __future__ import annotations

import importlib
import pkgutil

from meta.data import DataFormatError
from toolrouter.bench._args import UsageError
from toolrouter.errors import DataError

__all__ = ["DATA_ERRORS", "UsageError", "available_suites", "run_suite"]

#: The exceptions that mean "the data is bad", not "the code is": a missing or unreadable path
#: (``OSError``, which includes ``FileNotFoundError`` and its subclasses), a malformed file from the
#: router's loaders (``DataError``) or from the meta-learning core's (``DataFormatError``, such as
#: ``NASBenchFormatError``: ``meta`` cannot import ours).
DATA_ERRORS: tuple[type[Exception], ...] = (OSError, DataError, DataFormatError)


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
