"""A row of docs/benchmarks/demo.md's table of every policy is what ``run_demo`` gives: the
``beta_ts`` row, which went stale (seed 2's regret) when the counting policies came to keep
centred statistics."""

import re
from pathlib import Path

from toolrouter.demo import run_demo

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks" / "demo.md"


def test_the_beta_ts_rows_regret_of_seed_2_is_the_documented_one() -> None:
    row = re.search(r"^\| beta_ts \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", DOC.read_text(encoding="utf-8"), flags=re.M)
    assert row, "docs/benchmarks/demo.md no longer has a beta_ts row"
    assert f"{run_demo(1000, 2, policy='beta_ts', progress=False).regret:.1f}" == row.group(3)
