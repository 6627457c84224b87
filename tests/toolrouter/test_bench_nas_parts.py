"""``toolrouter bench nas --no-tabular``: the options of the part it skips, and a run of nothing,
are refused in one line (they were ignored, and the command succeeded having measured nothing)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--no-tabular"], "--no-tabular: with no --darts, nothing would run"),
        (["--no-tabular", "--darts", "--json", "figures.json", "--seeds", "3"],
         "--seeds, --json: only for the tabular part, which --no-tabular skips"),
        (["--quick", "--no-tabular", "--algorithms", "random"],
         "--algorithms: only for the tabular part, which --no-tabular skips"),
    ],
)
def test_no_tabular_refuses_what_would_not_run(argv: list[str], expected: str) -> None:
    result = runner.invoke(app, ["bench", "nas", *argv])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and f"toolrouter bench nas: {expected}" in result.output, result.output
