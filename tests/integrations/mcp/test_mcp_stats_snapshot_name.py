"""``toolrouter mcp stats --snapshot``: a name no store keeps is one line naming the option, as in
``toolrouter stats`` (a command-line argument that is not UTF-8 reached the store: a traceback)."""

from __future__ import annotations

from pathlib import Path

from mcp_harness import gateway_store
from typer.testing import CliRunner

from toolrouter.cli import app


def test_mcp_stats_of_a_snapshot_name_that_is_not_utf8_is_one_line_naming_it(tmp_path: Path) -> None:
    store = gateway_store(tmp_path, "search", ("primary", "backup"))
    result = CliRunner().invoke(app, ["mcp", "stats", "--store", store, "--snapshot", "a\udcffb"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert "Invalid value for --snapshot: name: expected text a store can keep" in " ".join(result.output.split())
