"""``toolrouter bench experts --held-out`` that leaves no tool to train on is refused in one line
naming the option before any feature or training work (it ended in a traceback from the split)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from toolrouter.cli import app


def test_held_out_tools_beyond_the_data_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "metatool"
    folder.mkdir()
    tools = {f"Tool{i}": f"Does thing {i}." for i in range(4)}
    (folder / "tools.json").write_text(json.dumps(tools), encoding="utf-8")
    rows = "".join(f"request {j} for tool {i},Tool{i}\n" for i in range(4) for j in range(3))
    (folder / "queries.csv").write_text("query,tool\n" + rows, encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", "experts", "--quick", "--data", str(tmp_path), "--held-out", "4"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        "toolrouter bench experts: --held-out: held_out: 4 leaves 4 of 4 eligible tools held out; both parts must be non-empty"
    ), result.stderr
