"""The users' table of what each architecture-search algorithm costs (docs/benchmarks/nas.md) has a
row for every algorithm ``NeuralArchitectureSearch`` takes, and none for one it does not."""

from __future__ import annotations

import re
from pathlib import Path

from meta.nas.search import ALGORITHMS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "benchmarks" / "nas.md").read_text(encoding="utf-8")


def test_every_algorithm_has_a_row() -> None:
    table = DOC.partition("## What each algorithm costs and when to use it")[2].partition("\n\n")[2].partition("\n\n")[0]
    rows = {re.match(r"\| `([a-z_]+)`", line).group(1) for line in table.splitlines()[2:]}
    assert rows == set(ALGORITHMS)
