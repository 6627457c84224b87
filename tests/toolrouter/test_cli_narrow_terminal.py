"""On an 80-column terminal the command's tables wrap what does not fit, and cut nothing."""

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
