"""On a narrow terminal (80 columns, or fewer) the command's tables wrap what does not fit, and cut nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import toolrouter._console
from toolrouter.cli import app
from toolrouter.data.manifest import DATASETS


def test_data_list_names_each_source_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every source read "brendenlake/…": the repository's end and the pinned revision were cut
    monkeypatch.setattr(toolrouter._console, "PIPED_WIDTH", 80)  # the width rich is given, as by a terminal
    result = CliRunner().invoke(app, ["data", "list", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    shown = "".join(line.split("│")[2].strip() for line in result.output.splitlines() if line.startswith("│"))
    sources = (f"{d.repository}@{d.revision[:10]}" if d.revision else f"{d.repository} (revision not pinned)" for d in DATASETS.values())
    assert shown.replace(" ", "") == "".join(sources).replace(" ", "")


def test_the_demo_shows_every_figure_on_70_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    # its columns were never wrapped, so each was cut: every true utility read "1.3…"
    from toolrouter.demo import run_demo

    monkeypatch.setattr(toolrouter._console, "PIPED_WIDTH", 70)
    result = CliRunner().invoke(app, ["demo", "--calls", "30"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in result.output.splitlines() if line.startswith("│")]
    true = [row[-1] for row in rows if len(row) == 7 and row[-1]]  # the first table's, one line per tool
    assert true == [f"{r.true_utility:.3f}" for r in run_demo(calls=30, progress=False).rows]
