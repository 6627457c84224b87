"""Benchmark tables speak of the product: reference figures are labelled as references and sit beside
the rows they belong to, and no suite writes how the work on it was organised into its output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "toolrouter" / "bench"
OMNIGLOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "omniglot"
ORGANISATIONAL = re.compile(r"\b(issues?|sessions?|tickets?)\b", re.IGNORECASE)


def _table(out: str, header_start: str) -> tuple[list[str], list[list[str]]]:
    """The last Markdown table whose header starts with ``header_start``: its header and rows."""
    lines = out.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(header_start)]
    assert starts, f"no table starting {header_start!r} in the output"
    i = starts[-1]

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("| "):
            break
        rows.append(cells(line))
    return cells(lines[i]), rows


def test_sinusoid_reference_column_holds_the_reference_per_test_k(quick_meta_bench: str) -> None:
    header, rows = _table(quick_meta_bench, "| method | train K | test K |")
    assert header[-2:] == ["published (1 step)", "reference MAML 8 min"]
    one_step = {(r[0], r[2]): r for r in rows if r[3] == "1"}
    assert one_step[("maml", "5")][-2:] == ["1.13", "0.55"]
    assert one_step[("metasgd", "10")][-2:] == ["0.53", "0.32"]
    assert all(r[-1] == "" for r in rows if r[3] != "1")  # the reference is for one inner step only


@pytest.mark.skipif(not OMNIGLOT.exists(), reason="Omniglot zips not in the shared data folder")
def test_omniglot_reference_column_holds_the_reference_per_setting(quick_meta_bench: str) -> None:
    header, rows = _table(quick_meta_bench, "| method | N-way | K-shot |")
    assert header == ["method", "N-way", "K-shot", "accuracy", "+-95%", "reference", "eval s"]
    by_setting = {(r[0], r[1], r[2]): r for r in rows}
    assert by_setting[("protonet", "5", "1")][5] == "0.87"
    assert by_setting[("fomaml", "5", "1")][5] == "0.74"


def test_no_suite_prints_organisational_words() -> None:
    sources = sorted(BENCH.glob("*.py"))
    assert sources
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sources
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ORGANISATIONAL.search(line)
    ]
    assert not found, "\n".join(found)
